"""The LLM provider seam: one Protocol every backend (Anthropic, OpenAI-compatible, scripted,
plugins) implements.

A provider turns a ``ModelRequest`` into a stream of ``ProviderEvent``s: text deltas while the
model speaks, then exactly one ``MessageComplete`` with the final content blocks, stop reason and
the provider's own usage numbers. Failures after the provider's own retries raise
``ProviderUnavailable`` (-32002).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from victor_server.messages import Block, Usage


@dataclass
class ModelRequest:
    model: str
    system: str
    messages: list[dict[str, Any]]  # Anthropic shape: {"role", "content"}
    # {"name", "description", "input_schema"}
    tools: list[dict[str, Any]] = field(default_factory=list)
    max_tokens: int = 4096
    temperature: float | None = None
    thinking: dict[str, Any] | None = None


@dataclass
class TextDelta:
    text: str


@dataclass
class ToolUseStarted:
    id: str
    name: str


@dataclass
class MessageComplete:
    content: list[Block]
    stop_reason: str  # "end_turn" | "tool_use" | "max_tokens" | "stop_sequence" | ...
    usage: Usage


@dataclass
class UsageSoFar:
    """What the request has cost so far (input at its start, output as it streams): the bill of
    a request that is cancelled or cut before its ``MessageComplete``."""

    usage: Usage


ProviderEvent = TextDelta | ToolUseStarted | UsageSoFar | MessageComplete


@runtime_checkable
class LLMProvider(Protocol):
    name: str

    def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]: ...

    async def count_tokens(self, request: ModelRequest) -> int | None:
        """The provider's exact count, or None when it has no way to tell offline."""
        ...

    async def aclose(self) -> None: ...
