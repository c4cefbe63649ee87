"""ToolSelectionCoordinator: which tools the model is offered for a query (a first keyword cut;
the strategies module grows this)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from victor_server.tools.base import ToolSpec

_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class ScoredTool:
    spec: ToolSpec
    score: float


@dataclass
class SelectionResult:
    strategy: str
    tools: list[ScoredTool] = field(default_factory=list)


class ToolSelectionCoordinator:
    def __init__(self, strategy: str = "hybrid", options: dict[str, Any] | None = None,
                 store: Any = None) -> None:
        self.strategy = strategy
        self.options = options or {}
        self.store = store

    async def select(self, query: str, tools: list[ToolSpec], max_tools: int | None = None,
                     strategy: str | None = None) -> SelectionResult:
        limit = max_tools or int(self.options.get("max_tools", 8))
        words = set(_WORD.findall(query.lower()))
        scored = []
        for spec in tools:
            tool_words = set(_WORD.findall(f"{spec.name} {spec.description}".lower()))
            scored.append(ScoredTool(spec, len(words & tool_words) / (len(words) or 1)))
        scored.sort(key=lambda s: -s.score)
        return SelectionResult(strategy or self.strategy, scored[:limit])
