"""The compaction strategy seam and the budgeted plan every built-in fills.

A strategy is anything with ``async compact(context: Context) -> Context`` (victor-ai's shape).
``context.metadata`` carries, besides the request context (``task``, ``session_id``,
``keywords``):

* ``target_tokens``: what ordinary messages may fill up to;
* ``limit_tokens``: what pinned and important messages may fill up to (at least the target; the
  coordinator sets it below the compaction threshold so that keeping everything important does
  not trigger a new compaction on the next turn);
* ``count``: ``(Message) -> int``, the coordinator's cached counter;
* ``embedder`` and ``summarizer`` when configured.

A strategy may put a ``note`` in the returned metadata (for example, why it fell back). It never
has to care about tool pairs, pinned messages or role alternation: the coordinator enforces those
on whatever any strategy returns, so a strategy is only a ranking of what matters.

``KeepPlan`` is that ranking made concrete for the built-ins: it splits the messages into units
(``victor_server.context.units``), keeps the protected ones, and lets a strategy offer more units
against a token budget, returning them in conversation order.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

from victor_server.context.tokens import estimate_tokens
from victor_server.context.units import Unit, protected_units, split_units
from victor_server.messages import Context, Message

DEFAULT_KEYWORDS = ("error", "bug", "fix", "important", "must")


@runtime_checkable
class CompactionStrategy(Protocol):
    async def compact(self, context: Context) -> Context: ...


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str]:
    # A word-start match, so "errors", "fixed" and "bugs" count but "prefix" does not.
    words = "|".join(re.escape(k) for k in keywords if k)
    return re.compile(rf"\b(?:{words})", re.IGNORECASE)


def option(options: Mapping[str, Any] | None, kwargs: Mapping[str, Any], name: str,
           default: Any) -> Any:
    """Read an option given either as an options dict (entry-point style) or as a keyword."""
    if name in kwargs:
        return kwargs[name]
    return (options or {}).get(name, default)


class KeepPlan:
    def __init__(self, context: Context) -> None:
        self.messages = context.messages
        self.metadata = context.metadata
        count = context.metadata.get("count") or estimate_tokens
        self.units: list[Unit] = split_units(self.messages)
        self.unit_tokens = [sum(count(self.messages[i]) for i in u.indices()) for u in self.units]
        total = sum(self.unit_tokens)
        self.target = int(context.metadata.get("target_tokens", total // 2))
        self.limit = max(self.target, int(context.metadata.get("limit_tokens", self.target)))
        self.kept: set[int] = set()
        self.tokens = 0
        for k in protected_units(self.messages, self.units):
            self.force(k)

    def force(self, k: int) -> None:
        if k not in self.kept:
            self.kept.add(k)
            self.tokens += self.unit_tokens[k]

    def offer(self, k: int, budget: int) -> bool:
        """Keep unit ``k`` if it fits in ``budget``; True when it is kept (now or before)."""
        if k in self.kept:
            return True
        if self.tokens + self.unit_tokens[k] > budget:
            return False
        self.force(k)
        return True

    def fill_recent(self, budget: int) -> None:
        """Keep the newest units, stopping at the first that does not fit (a contiguous tail
        reads better to the model than a tail with holes)."""
        for k in range(len(self.units) - 1, -1, -1):
            if not self.offer(k, budget):
                return

    def unit_text(self, k: int) -> str:
        return "\n".join(self.messages[i].text() for i in self.units[k].indices())

    def result(self, note: str | None = None, prefix: list[Message] | None = None) -> Context:
        kept = [self.messages[i] for k in sorted(self.kept) for i in self.units[k].indices()]
        metadata = dict(self.metadata)
        if note:
            metadata["note"] = note
        return Context([*(prefix or []), *kept], metadata)


class BaseCompactionStrategy:
    """What a user's strategy may extend (victor-ai's base class): override ``compact``."""

    async def compact(self, context: Context) -> Context:
        return context


class EmbeddingService:
    """The server's embedding model as victor-ai's ``embedding_service``: ``await
    embed_batch(texts)`` is one vector (a list of floats) per text. Given to a strategy whose
    constructor has an ``embedding_service`` parameter; raises when no model is available, so
    the strategy fails and the coordinator falls back, saying why."""

    def __init__(self, embedder: Any = None) -> None:
        self._embedder = embedder

    async def embed_batch(self, texts: list[str]) -> list[list[float]]:
        if self._embedder is None:
            raise RuntimeError("no embedding model is available")
        rows = await self._embedder(list(texts))
        return [list(map(float, row)) for row in rows]

    async def embed(self, text: str) -> list[float]:
        return (await self.embed_batch([text]))[0]


def plain_text_view(messages: list[Message]) -> tuple[list[Message], dict[int, Message]]:
    """Messages as a user's strategy expects them: a message whose content is only text blocks
    gets that text as a string (``m.content.lower()`` works), others are left as they are. The
    second value maps each copy back to the stored message it stands for."""
    view: list[Message] = []
    back: dict[int, Message] = {}
    for message in messages:
        blocks = message.content
        if isinstance(blocks, list) and all(b.get("type") == "text" for b in blocks):
            copy = dataclasses.replace(message, content="\n".join(
                str(b.get("text", "")) for b in blocks))
            back[id(copy)] = message
            message = copy
        view.append(message)
    return view, back
