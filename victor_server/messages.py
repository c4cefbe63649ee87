"""Conversation data shared by every coordinator.

Messages keep the Anthropic Messages API shape because that is the provider we serve first:
``content`` is either a string or a list of blocks (``text``, ``tool_use``, ``tool_result``,
``thinking``). Other providers translate at their own boundary. A message belongs to the store by
``seq``; compaction changes which messages are *sent*, never what is *kept*.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Block = dict[str, Any]


@dataclass
class Message:
    role: str  # "user" | "assistant" | "system"
    content: str | list[Block]
    seq: int | None = None
    pinned: bool = False
    created_at: float | None = None
    complete: bool = True

    # Hashable by identity, so a compaction strategy can key a dict by message (an ordering, a
    # set of kept ones) the way a strategy written against hashable message models does.
    __hash__ = object.__hash__

    def blocks(self) -> list[Block]:
        if isinstance(self.content, str):
            return [{"type": "text", "text": self.content}] if self.content else []
        return self.content

    def text(self) -> str:
        """All human-readable text in the message: text, tool inputs and tool results."""
        parts: list[str] = []
        for block in self.blocks():
            kind = block.get("type")
            if kind == "text":
                parts.append(str(block.get("text", "")))
            elif kind == "tool_use":
                parts.append(f"{block.get('name')} {json.dumps(block.get('input', {}))}")
            elif kind == "tool_result":
                parts.append(tool_result_text(block))
        return "\n".join(p for p in parts if p)

    def tool_use_ids(self) -> list[str]:
        return [str(b["id"]) for b in self.blocks() if b.get("type") == "tool_use"]

    def tool_result_ids(self) -> list[str]:
        return [str(b["tool_use_id"]) for b in self.blocks() if b.get("type") == "tool_result"]

    def to_api(self) -> dict[str, Any]:
        return {"role": self.role, "content": self.content}


def tool_result_text(block: Block) -> str:
    content = block.get("content", "")
    if isinstance(content, list):
        return "\n".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return str(content)


@dataclass
class Context:
    """What a compaction strategy receives and returns (victor-ai's ``Context``).

    ``metadata`` carries ``task``, ``session_id``, ``target_tokens``, ``context_window`` and
    whatever the request ``context`` held; strategies read what they need and ignore the rest.
    """

    messages: list[Message]
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_creation_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        """Input and output as the provider counts them; cache reads and writes are counted
        apart (Anthropic's ``input_tokens`` excludes them; OpenAI's cached prompt tokens are
        moved out of ``input_tokens`` by that provider so both mean the same)."""
        return self.input_tokens + self.output_tokens

    @property
    def prompt_tokens(self) -> int:
        """Every input token a request sent: uncached, read from the cache, written to it."""
        return self.input_tokens + self.cache_read_tokens + self.cache_creation_tokens

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cache_read_tokens += other.cache_read_tokens
        self.cache_creation_tokens += other.cache_creation_tokens
