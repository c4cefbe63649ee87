"""ContextCoordinator: what of a session's history is sent, counted and kept inside the window.

The orchestrator calls ``prepare`` before every model request. When the history plus the
request's fixed overhead (system prompt, tool schemas) passes ``threshold`` of the window, the
configured strategy compacts it towards ``target_ratio`` of the window; ``invariants.enforce``
then restores the rules no strategy may break (tool pairs whole, pinned and current messages
kept, valid role order) and ``invariants.fit`` guarantees the hard limit, the window itself.

Compaction is remembered per session (``metadata["session_id"]``): the next turn starts from the
compacted view plus the messages stored since, so a conversation is not re-compacted, or
re-summarized, on every turn after it first crossed the threshold. Such a turn returns a result
with ``reused=True`` (the messages to send are still the compacted ones). The store keeps every
original message; this class only decides what is sent.

Strategies are resolved by name through the plugin registry (built-ins and the
``victor_server.compaction_strategies`` entry-point group alike), built with their options
(``plugins.<name>``) as keywords; a parameter named ``embedding_service`` receives the server's
embedding model (``embed_batch(texts)``). A strategy that fails to load or raises falls back to
``recent_important``: the result's ``strategy`` is the one asked for, ``ran`` the one whose
output was used and ``fallback`` why, so a user can tell their strategy never ran.
"""

from __future__ import annotations

import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from victor_server.context.embedding import shared_embedder
from victor_server.context.invariants import enforce, fit
from victor_server.context.strategies import EmbeddingService
from victor_server.context.strategies.base import plain_text_view
from victor_server.context.tokens import TokenCounter, estimate_tokens
from victor_server.context.units import repair
from victor_server.errors import InvalidParams
from victor_server.messages import Context, Message
from victor_server.plugins import REGISTRY, PluginFailed, PluginNotFound

log = logging.getLogger(__name__)

PLUGIN_GROUP = "victor_server.compaction_strategies"
Summarizer = Callable[[list[Message]], Awaitable[str]]
_SESSIONS_REMEMBERED = 256

__all__ = ["CompactionResult", "ContextCoordinator", "ContextView", "estimate_tokens"]


@dataclass
class CompactionResult:
    strategy: str
    before_messages: int
    before_tokens: int
    after_messages: int
    after_tokens: int
    messages: list[Message]
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    reused: bool = False  # True: an earlier compaction of this session was carried forward
    ran: str | None = None  # the strategy whose output was used (``strategy`` unless fallback)
    fallback: str | None = None  # why ``ran`` is not ``strategy``

    def __post_init__(self) -> None:
        if self.ran is None:
            self.ran = self.strategy


def compaction_event(result: CompactionResult, automatic: bool) -> dict[str, Any]:
    """The data of the ``compaction`` analytics event for ``result``."""
    return {"strategy": result.strategy, "ran": result.ran, "fallback": result.fallback,
            "automatic": automatic, "before_tokens": result.before_tokens,
            "after_tokens": result.after_tokens, "before_messages": result.before_messages,
            "after_messages": result.after_messages}


@dataclass
class ContextView:
    """What the next turn would send (``victor/getContext``)."""

    messages: list[Message]
    tokens: int
    context_window: int
    utilization: float
    compacted: bool
    strategy: str | None = None
    ran: str | None = None
    fallback: str | None = None


@dataclass
class _SessionView:
    messages: list[Message]
    through_seq: int


def validate_ratio(value: float, field_name: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < 1:
        raise InvalidParams(field_name, f"must be a number between 0 and 1, got {value!r}")
    return float(value)


FALLBACK = "recent_important"


def _ready(target: Any) -> bool:
    """An entry point naming a strategy object, or a coroutine ``(context) -> context``."""
    return inspect.iscoroutinefunction(target) or \
        (hasattr(target, "compact") and not inspect.isclass(target))


class ContextCoordinator:
    def __init__(self, strategy: str = "recent_important", context_window: int = 200000,
                 threshold: float = 0.8, target_ratio: float = 0.5,
                 summarizer: Summarizer | None = None, *,
                 token_counter: Callable[[Message], int] | None = None,
                 exact_counter: Callable[[Message], int] | None = None,
                 embedder: Callable[[list[str]], Awaitable[Any]] | None = None,
                 strategy_options: dict[str, dict[str, Any]] | None = None,
                 use_shared_embedder: bool = True, workspace: Path | None = None,
                 compaction_strategy: Any = None, disabled: list[str] | None = None) -> None:
        self.strategy = strategy
        self.disabled = tuple(disabled or ())
        self.context_window = int(context_window)
        self.threshold = validate_ratio(threshold, "context_compaction_threshold")
        self.target_ratio = validate_ratio(target_ratio, "context_compaction_target_ratio")
        self.summarizer = summarizer
        # No embedder given: the selection module's MiniLM (one model per process), if present.
        self.embedder = embedder or (shared_embedder() if use_shared_embedder else None)
        self.strategy_options = strategy_options or {}
        self.workspace = workspace
        self.counter = TokenCounter(token_counter, exact_counter)
        self._strategies: dict[str, Any] = {}
        if compaction_strategy is not None:  # an object, as victor-ai's examples pass it
            self.strategy = type(compaction_strategy).__name__
            self._strategies[self.strategy] = compaction_strategy
        self._views: OrderedDict[str, _SessionView] = OrderedDict()

    # -- counting ------------------------------------------------------------------------
    def count(self, messages: list[Message]) -> int:
        return self.counter.count(messages)

    def count_exact(self, messages: list[Message]) -> int:
        return self.counter.count_exact(messages)

    # -- strategies ----------------------------------------------------------------------
    def resolve(self, name: str) -> Any:
        """The strategy object for ``name``; InvalidParams("strategy") when nobody registered
        it, PluginFailed when it does not load or build (recorded in the registry)."""
        if name in self._strategies:
            return self._strategies[name]
        if not isinstance(name, str) or not name:
            raise InvalidParams("strategy", f"unknown strategy {name!r}")
        options = dict(self.strategy_options.get(name, {}))
        try:
            impl = REGISTRY.create(PLUGIN_GROUP, name, options, ready=_ready, inject={
                "workspace": self.workspace,
                "embedding_service": EmbeddingService(self.embedder)},
                disabled=() if name == FALLBACK else self.disabled)
        except PluginNotFound as exc:
            known = ", ".join(REGISTRY.names(PLUGIN_GROUP))
            raise InvalidParams("strategy", f"unknown strategy {name!r} (available: {known})") \
                from exc
        self._strategies[name] = impl
        return impl

    async def _run(self, name: str, context: Context) \
            -> tuple[list[Message], str | None, str | None]:
        """The messages ``name`` keeps, its note, and why the fallback ran instead (if so)."""
        back: dict[int, Message] = {}
        try:
            impl = self.resolve(name)
            given = context
            if not type(impl).__module__.startswith("victor_server."):
                view, back = plain_text_view(context.messages)  # a user's: text as strings
                given = Context(view, context.metadata)
            out = await impl.compact(given) if hasattr(impl, "compact") else await impl(given)
            if not isinstance(out, list) and not hasattr(out, "messages"):
                raise TypeError(f"compact returned {type(out).__name__}, not a Context")
        except InvalidParams:
            raise
        except Exception as exc:  # a strategy bug must not cost the user the turn
            if name == FALLBACK:
                raise
            reason = str(exc) if isinstance(exc, PluginFailed) else \
                REGISTRY.call_failed(PLUGIN_GROUP, name, exc)
            fallback = await self.resolve(FALLBACK).compact(context)
            return fallback.messages, f"{name} failed; fell back to {FALLBACK}", reason
        kept = out if isinstance(out, list) else list(out.messages)  # list: a plain processor
        kept = [back.get(id(m), m) for m in kept]  # the stored messages, not the copies
        metadata = {} if isinstance(out, list) else getattr(out, "metadata", None) or {}
        return kept, metadata.get("note"), None

    # -- compaction ----------------------------------------------------------------------
    async def compact(self, messages: list[Message], strategy: str | None = None,
                      target_tokens: int | None = None,
                      metadata: dict[str, Any] | None = None, *,
                      target_ratio: float | None = None, limit_tokens: int | None = None,
                      overhead_tokens: int = 0) -> CompactionResult:
        """Compact the session's current context with ``strategy`` (default: the configured
        one) towards ``target_tokens`` (or ``target_ratio`` of the context's current tokens,
        default 0.5). The result always fits ``context_window - overhead_tokens``.

        The current context is what the next turn would send: after an earlier compaction, that
        compacted view plus the messages stored since, not the whole stored history."""
        name = strategy or self.strategy
        if strategy is not None:
            self._check_name(strategy)
        history = messages
        carried = self._carried(metadata, messages)
        messages = carried if carried is not None else messages
        before = self.count(messages)
        if target_tokens is None:
            ratio = validate_ratio(target_ratio if target_ratio is not None else 0.5,
                                   "targetRatio")
            target_tokens = int(before * ratio)
        hard = self.context_window - overhead_tokens
        target = max(min(target_tokens, hard), 0)
        limit = min(max(limit_tokens or target, target), hard)
        context = Context(list(messages), {
            **(metadata or {}), "target_tokens": target, "limit_tokens": limit,
            "context_window": self.context_window, "count": self.counter.message_tokens,
            "summarizer": self.summarizer, "embedder": self.embedder})
        chosen, note, fallback = await self._run(name, context)
        kept, fit_note = fit(enforce(list(messages), chosen), hard, self.counter.message_tokens)
        notes = "; ".join(n for n in (note, fit_note) if n) or None
        result = CompactionResult(name, len(messages), before, len(kept), self.count(kept), kept,
                                  notes, ran=FALLBACK if fallback else name, fallback=fallback)
        self._remember(metadata, history, kept)
        return result

    def _check_name(self, name: str) -> None:
        """A name the caller asked for that nobody registered is the caller's mistake."""
        if name not in self._strategies and name not in REGISTRY.names(PLUGIN_GROUP):
            self.resolve(name)  # raises InvalidParams naming the available strategies

    async def prepare(self, messages: list[Message], overhead_tokens: int = 0,
                      metadata: dict[str, Any] | None = None) -> CompactionResult | None:
        """Before a model request: None to send ``messages`` as they are, else the result whose
        ``messages`` to send (new compaction, or ``reused`` an earlier one)."""
        carried = self._carried(metadata, messages)
        current = carried if carried is not None else messages
        tokens = self.count(current)
        if tokens + overhead_tokens <= self.threshold * self.context_window:
            if carried is None:
                return None
            return CompactionResult(self.strategy, len(messages), self.count(messages),
                                    len(carried), tokens, carried,
                                    "carried forward an earlier compaction", reused=True)
        target = int(self.target_ratio * self.context_window) - overhead_tokens
        limit = int(self.threshold * self.context_window * 0.95) - overhead_tokens
        result = await self.compact(messages, target_tokens=max(target, 0), metadata=metadata,
                                    limit_tokens=max(limit, target, 0),
                                    overhead_tokens=overhead_tokens)
        return result

    async def preview(self, messages: list[Message], overhead_tokens: int = 0,
                      metadata: dict[str, Any] | None = None) -> ContextView:
        """What the next turn would send, without remembering a new compaction."""
        session = (metadata or {}).get("session_id")
        saved = self._views.get(session) if session else None
        result = await self.prepare(messages, overhead_tokens, metadata)
        if session:
            self._views.pop(session, None)
            if saved is not None:
                self._views[session] = saved
        sent = result.messages if result is not None else messages
        tokens = self.count(sent) + overhead_tokens
        return ContextView(sent, tokens, self.context_window,
                           round(tokens / self.context_window, 6), result is not None,
                           self.strategy, result.ran if result else None,
                           result.fallback if result else None)

    def forget(self, session_id: str) -> None:
        self._views.pop(session_id, None)

    # -- per-session memory --------------------------------------------------------------
    def _remember(self, metadata: dict[str, Any] | None, messages: list[Message],
                  kept: list[Message]) -> None:
        session = (metadata or {}).get("session_id")
        seqs = [m.seq for m in messages if m.seq is not None]
        if not session or not seqs or len(seqs) != len(messages):
            return  # without seqs we cannot tell later which messages are new
        self._views[session] = _SessionView(kept, max(seqs))
        self._views.move_to_end(session)
        while len(self._views) > _SESSIONS_REMEMBERED:
            self._views.popitem(last=False)

    def _carried(self, metadata: dict[str, Any] | None,
                 messages: list[Message]) -> list[Message] | None:
        session = str((metadata or {}).get("session_id") or "")
        view = self._views.get(session) if session else None
        if view is None:
            return None
        if not any(m.seq == view.through_seq for m in messages):
            self._views.pop(session, None)  # the history changed under us (deleted, replaced)
            return None
        newer = [m for m in messages if m.seq is not None and m.seq > view.through_seq]
        return repair(view.messages + newer)

