"""The agent loop: one user turn, streamed, with tool use, until the model ends its turn.

Order of a turn: the orchestrator resolves config, stores the user message (committed before
the model is called), builds the system prompt and selects the tools, then hands the turn to
``TurnRunner`` with a ``TurnSetup`` (what this turn is: session, settings, prompt, tools)
and a ``TurnDeps`` (what it works with: provider, store, analytics, tool and context
coordinators). The runner does [context compaction -> model stream -> store assistant message
-> tools -> store tool results] x up to ``max_tool_iterations`` -> usage and analytics. It never
calls back into the orchestrator and does not import it. Read-only tools the model asks for in
one message run concurrently; the rest run one at a time.

Cancellation is the asyncio kind: a face cancels the task running ``run_turn`` and gets a normal
result with ``stop_reason="cancelled"`` and what was said so far. The history is always left
valid for the next request: a partial answer is kept (marked incomplete) and every tool_use the
model asked for gets a tool_result, even if that result is "cancelled".
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from victor_server.api_models import ToolCallUpdate
from victor_server.context.coordinator import compaction_event
from victor_server.errors import ProviderUnavailable
from victor_server.messages import Block, Message, Usage
from victor_server.providers.base import MessageComplete, ModelRequest, TextDelta, UsageSoFar
from victor_server.tools.base import ToolContext, ToolSpec

if TYPE_CHECKING:
    from victor_server.analytics import AnalyticsCoordinator
    from victor_server.context.coordinator import ContextCoordinator
    from victor_server.providers.base import LLMProvider
    from victor_server.settings import Settings
    from victor_server.store import Store
    from victor_server.tools.coordinator import ToolCoordinator

logger = logging.getLogger(__name__)

DeltaCallback = Callable[[str, str], Awaitable[None] | None]  # (session_id, text)
ToolCallback = Callable[[ToolCallUpdate], Awaitable[None] | None]


@dataclass
class TurnSetup:
    """What one turn is: its session, the settings resolved for it, the system prompt and the
    tools it offers (already selected), the A/B variant and the prompt metadata."""

    session_id: str
    tenant_id: str | None
    settings: Settings
    system_prompt: str
    tools: list[ToolSpec]
    variant: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TurnDeps:
    """What a turn works with, chosen by the orchestrator for the turn's settings and passed
    down explicitly; the runner reaches nothing else. ``provider`` is the one those settings
    name; ``context`` the context coordinator for them (automatic compaction)."""

    provider: LLMProvider
    store: Store
    analytics: AnalyticsCoordinator
    tools: ToolCoordinator
    context: ContextCoordinator


def request_overhead(system_prompt: str, tools: list[ToolSpec]) -> int:
    """Tokens a request spends before the first message: system prompt and tool schemas."""
    return _estimate(system_prompt) + _estimate([t.to_anthropic() for t in tools])


def _estimate(value: Any) -> int:
    return len(value if isinstance(value, str) else json.dumps(value)) // 4


@dataclass
class ToolCallRecord:
    id: str
    name: str
    input: dict[str, Any]
    is_error: bool = False
    output: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChatResult:
    session_id: str
    content: str
    usage: Usage
    tool_calls: list[ToolCallRecord]
    stop_reason: str
    compacted: bool = False
    variant: str | None = None


async def _notify(callback: Callable[..., Any] | None, *args: Any) -> None:
    if callback is None:
        return
    try:
        outcome = callback(*args)
        if asyncio.iscoroutine(outcome):
            await outcome
    except Exception as exc:  # a client that went away must not break the turn
        logger.debug("client notification failed: %s", exc)


class TurnRunner:
    """Runs one turn; holds the turn's running state so cancellation can leave it tidy."""

    def __init__(self, deps: TurnDeps, setup: TurnSetup,
                 on_delta: DeltaCallback | None, on_tool: ToolCallback | None,
                 tool_context: ToolContext) -> None:
        self.deps = deps
        self.setup = setup
        self.on_delta = on_delta
        self.on_tool = on_tool
        self.tool_context = tool_context
        self.usage = Usage()
        self.streaming_usage: Usage | None = None  # the request in flight, billed so far
        self.texts: list[str] = []
        self.partial: list[str] = []
        self.tool_calls: list[ToolCallRecord] = []
        self.pending_tool_uses: list[Block] = []
        self.tool_results: list[Block] = []
        self.compacted = False

    @property
    def said(self) -> str:
        return "\n\n".join(t for t in [*self.texts, "".join(self.partial)] if t)

    async def run(self) -> ChatResult:
        stop_reason = "end_turn"
        try:
            stop_reason = await self._loop()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            stop_reason = "cancelled"
            self._count_unfinished()
            await asyncio.shield(self._tidy_after_stop("cancelled by the user"))
        except ProviderUnavailable as exc:
            self._count_unfinished()
            await asyncio.shield(self._tidy_after_stop(f"provider failed: {exc.reason}"))
            self.deps.analytics.record("error", self.setup.session_id, self.setup.tenant_id,
                                    code=exc.code, provider=exc.provider,
                                    variant=self.setup.variant)
            raise
        finally:
            await self._account()
        return ChatResult(self.setup.session_id, self.said, self.usage, self.tool_calls,
                          stop_reason, self.compacted, self.setup.variant)

    async def _loop(self) -> str:
        s = self.setup.settings
        for _ in range(s.max_tool_iterations):
            complete = await self._model_step()
            assistant = Message("assistant", complete.content or [{"type": "text", "text": ""}])
            if not _has_content(assistant):
                assistant = Message("assistant", [{"type": "text", "text": "(no content)"}])
            await self.deps.store.add_message(self.setup.session_id, assistant)
            text = "".join(b.get("text", "") for b in complete.content if b.get("type") == "text")
            self.partial = []
            if text:
                self.texts.append(text)
            uses = [b for b in complete.content if b.get("type") == "tool_use"]
            if complete.stop_reason != "tool_use" or not uses:
                return complete.stop_reason
            await self._run_tools(uses)
        logger.warning("turn stopped after %d tool iterations", s.max_tool_iterations)
        return "max_iterations"

    async def _model_step(self) -> MessageComplete:
        setup = self.setup
        view, compacted = await self._context_view()
        self.compacted = self.compacted or compacted
        request = ModelRequest(
            model=setup.settings.model, system=setup.system_prompt,
            messages=normalize_for_api(view), tools=[t.to_anthropic() for t in setup.tools],
            max_tokens=setup.settings.max_tokens, temperature=setup.settings.temperature,
            thinking=thinking_param(setup.settings.thinking))
        complete: MessageComplete | None = None
        async for event in self.deps.provider.stream(request):
            if isinstance(event, TextDelta):
                self.partial.append(event.text)
                await _notify(self.on_delta, self.setup.session_id, event.text)
            elif isinstance(event, UsageSoFar):
                self.streaming_usage = event.usage
            elif isinstance(event, MessageComplete):
                complete = event
        if complete is None:
            raise ProviderUnavailable(self.deps.provider.name,
                                      "the stream ended without a message")
        self.streaming_usage = None
        self._count(complete.usage)
        return complete

    async def _context_view(self) -> tuple[list[Message], bool]:
        """What the next request sends, compacting automatically past the threshold (the
        context coordinator carries a session's earlier compaction forward)."""
        setup = self.setup
        history = await self.deps.store.get_messages(setup.session_id)
        metadata = {**setup.metadata, "session_id": setup.session_id}
        result = await self.deps.context.prepare(
            history, request_overhead(setup.system_prompt, setup.tools), metadata)
        if result is None:
            return history, False
        if result.reused:
            return result.messages, False
        self.deps.analytics.record("compaction", setup.session_id, setup.tenant_id,
                                   **compaction_event(result, automatic=True))
        return result.messages, True

    def _count(self, usage: Usage) -> None:
        setup = self.setup
        self.usage.add(usage)
        self.deps.analytics.record(
            "token_usage", setup.session_id, setup.tenant_id, model=setup.settings.model,
            provider=self.deps.provider.name, input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens, cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_creation_tokens, variant=setup.variant)

    def _count_unfinished(self) -> None:
        """A request cancelled or cut mid-stream was still billed for what it sent and said."""
        if self.streaming_usage is not None:
            self._count(self.streaming_usage)
            self.streaming_usage = None

    async def _run_tools(self, uses: list[Block]) -> None:
        """Run the tool uses of one assistant message. A run of read-only tools that need no
        approval goes at once (``asyncio.gather``); a tool that writes, runs commands, is
        unknown or needs the user's approval goes alone, after everything before it and before
        everything after it, so approvals are asked one at a time and later reads see a write's
        effect. Results are stored in the order the model asked."""
        self.pending_tool_uses, self.tool_results = uses, []
        for batch in self._batches(uses):
            records = [ToolCallRecord(str(u["id"]), str(u["name"]), dict(u.get("input") or {}))
                       for u in batch]
            for record in records:  # "running" once it is approved (``on_start``)
                await self._tool_status(record, "pending")
            await asyncio.gather(*(self._run_tool(record) for record in records))
            for record in records:  # gather keeps the order it was given
                self.tool_calls.append(record)
                self.tool_results.append({"type": "tool_result", "tool_use_id": record.id,
                                          "content": record.output or "(empty)",
                                          "is_error": record.is_error})
        await self.deps.store.add_message(self.setup.session_id, Message("user", self.tool_results))
        self.pending_tool_uses, self.tool_results = [], []

    def _batches(self, uses: list[Block]) -> list[list[Block]]:
        """Consecutive read-only uses the approvals policy allows outright go together; every
        other use (writes, commands, unknown tools, anything the user is asked about) goes in a
        batch of its own, so approvals are asked one at a time."""
        offered = {spec.name: spec for spec in self.setup.tools}
        gate = getattr(self.deps.tools, "approvals", None)

        def together(use: Block) -> bool:
            spec = offered.get(str(use.get("name")))
            if spec is None or spec.writes:
                return False
            return gate is None or bool(gate.runs_unasked(spec, dict(use.get("input") or {}),
                                                          self.tool_context))

        batches: list[list[Block]] = []
        for use in uses:
            if together(use) and batches and together(batches[-1][0]):
                batches[-1].append(use)
            else:
                batches.append([use])
        return batches

    async def _run_tool(self, record: ToolCallRecord) -> None:
        outcome = await self.deps.tools.execute(record.name, record.input, self._ctx(record),
                                             record.id)
        record.is_error, record.output, record.data = (outcome.is_error, outcome.content,
                                                       outcome.data)
        self.deps.analytics.record("tool_call", self.setup.session_id, self.setup.tenant_id,
                                name=record.name, is_error=record.is_error,
                                variant=self.setup.variant)
        await self._tool_status(record, "error" if record.is_error else "completed")

    def _ctx(self, record: ToolCallRecord) -> ToolContext:
        ctx = self.tool_context
        return ToolContext(ctx.workspace, ctx.session_id, ctx.ask_permission, ctx.client_fs,
                           {**ctx.options, "tool_use_id": record.id},
                           on_start=lambda: self._tool_status(record, "running"))

    async def _tool_status(self, record: ToolCallRecord, status: str) -> None:
        await _notify(self.on_tool, ToolCallUpdate(
            session_id=self.setup.session_id, id=record.id, name=record.name, status=status,
            input=record.input, is_error=record.is_error, output=record.output[:2000],
            data=record.data))

    async def _tidy_after_stop(self, reason: str) -> None:
        """Keep what was said and close every open tool_use, so history stays valid."""
        sid = self.setup.session_id
        partial = "".join(self.partial)
        if partial:
            await self.deps.store.add_message(sid, Message(
                "assistant", [{"type": "text", "text": partial}], complete=False))
            self.texts.append(partial)
            self.partial = []
        if self.pending_tool_uses:
            done: list[Block] = list(self.tool_results)
            done_ids = {b["tool_use_id"] for b in done}
            done += [{"type": "tool_result", "tool_use_id": u["id"], "is_error": True,
                      "content": f"not run: {reason}"}
                     for u in self.pending_tool_uses if u["id"] not in done_ids]
            await self.deps.store.add_message(sid, Message("user", done))
            self.pending_tool_uses = []

    async def _account(self) -> None:
        if self.usage.total_tokens:
            try:
                await asyncio.shield(self.deps.store.add_usage(self.setup.session_id, self.usage))
            except Exception as exc:
                logger.error("could not record usage: %s", exc)


def _has_content(message: Message) -> bool:
    return any(b.get("type") != "text" or b.get("text") for b in message.blocks())


def thinking_param(value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    if isinstance(value, dict):
        return value
    return {"type": "enabled", "budget_tokens": 4096}


INTERRUPTED = "not run: the server stopped before this tool finished"


def _close_open_tool_uses(out: list[dict[str, Any]]) -> None:
    """Give every tool_use a tool_result in the user turn after it. A turn cancelled in time
    stores those itself; a process killed mid-tool leaves the tool_use open, and the API
    would refuse the session's every later request."""
    for index, entry in enumerate(out):
        if entry["role"] != "assistant":
            continue
        asked = [b["id"] for b in entry["content"] if b.get("type") == "tool_use"]
        if not asked:
            continue
        if index + 1 == len(out):
            out.append({"role": "user", "content": []})
        following = out[index + 1]["content"]
        answered = {b.get("tool_use_id") for b in following if b.get("type") == "tool_result"}
        following[:0] = [{"type": "tool_result", "tool_use_id": i, "is_error": True,
                          "content": INTERRUPTED} for i in asked if i not in answered]


def normalize_for_api(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages as the Messages API accepts them: starting with a user turn, roles alternating
    (adjacent same-role messages merged), no empty text blocks."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role not in ("user", "assistant"):
            continue
        blocks = [b for b in message.blocks() if not (b.get("type") == "text" and
                                                       not str(b.get("text", "")).strip())]
        if not blocks:
            continue
        if out and out[-1]["role"] == message.role:
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": message.role, "content": list(blocks)})
    while out and out[0]["role"] != "user":
        out.pop(0)
    _close_open_tool_uses(out)
    for entry in out:  # tool_result blocks must lead a user turn
        if entry["role"] == "user":
            entry["content"].sort(key=lambda b: b.get("type") != "tool_result")
    copied: list[dict[str, Any]] = json.loads(json.dumps(out))  # callers may not alias ours
    return copied
