"""PromptCoordinator: the system prompt, built from contributors by priority.

Each contribution is capped (``prompts.max_contribution_chars``); a cut one ends with a visible
marker and logs a warning once per size, so nobody wonders why half their AGENTS.md is ignored.
A contributor that raises is logged and skipped: a broken plugin never blocks a turn.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

logger = logging.getLogger(__name__)


@runtime_checkable
class PromptContributor(Protocol):
    def priority(self) -> int: ...

    async def get_contribution(self, context: Mapping[str, Any]) -> str: ...


@dataclass
class Contribution:
    name: str
    priority: int
    text: str
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "priority": self.priority, "chars": len(self.text),
                "truncated": self.truncated}


@dataclass
class BuiltPrompt:
    system_prompt: str
    contributions: list[Contribution]


def contributor_name(contributor: object) -> str:
    return str(getattr(contributor, "name", type(contributor).__name__))


class PromptCoordinator:
    def __init__(self, contributors: list[PromptContributor] | None = None,
                 max_contribution_chars: int = 20000) -> None:
        self._contributors: list[PromptContributor] = list(contributors or [])
        self.max_contribution_chars = max_contribution_chars
        self._warned: set[tuple[str, int]] = set()

    def add_contributor(self, contributor: PromptContributor) -> None:
        self._contributors.append(contributor)

    @property
    def contributors(self) -> list[PromptContributor]:
        return list(self._contributors)

    async def build(self, context: Mapping[str, Any]) -> BuiltPrompt:
        ranked = sorted(self._contributors, key=lambda c: -c.priority())
        contributions: list[Contribution] = []
        for contributor in ranked:
            name = contributor_name(contributor)
            try:
                text = (await contributor.get_contribution(context) or "").strip()
            except Exception as exc:
                logger.error("prompt contributor %s failed: %s", name, exc)
                continue
            if not text:
                continue
            contributions.append(self._cap(name, contributor.priority(), text))
        prompt = "\n\n".join(c.text for c in contributions)
        return BuiltPrompt(prompt, contributions)

    def _cap(self, name: str, priority: int, text: str) -> Contribution:
        limit = self.max_contribution_chars
        if len(text) <= limit:
            return Contribution(name, priority, text)
        if (name, len(text)) not in self._warned:
            self._warned.add((name, len(text)))
            logger.warning("prompt contribution %s has %d chars; cut to %d "
                           "(raise prompts.max_contribution_chars to keep more)",
                           name, len(text), limit)
        omitted = len(text) - limit
        return Contribution(name, priority,
                            f"{text[:limit]}\n[... truncated: {omitted} chars omitted]", True)
