"""PromptCoordinator: the system prompt, built from contributors by priority.

Each contribution is capped (``prompts.max_contribution_chars``); a cut one ends with a visible
marker and logs a warning once per size, so nobody wonders why half their AGENTS.md is ignored.
A contributor that raises (in ``priority`` or ``get_contribution``) is skipped and handed to
``on_error`` (the registry records and logs it once): a broken plugin never blocks a turn.
``PluginContributor`` is the adapter a user's contributor is wrapped in: it names it by its entry
point and accepts victor-ai's shapes (a sync or async ``get_contribution``, ``None`` for nothing).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

logger = logging.getLogger(__name__)


@runtime_checkable
class PromptContributor(Protocol):
    def priority(self) -> int: ...

    async def get_contribution(self, context: Mapping[str, Any]) -> str: ...


class PromptContext(dict[str, Any]):
    """What contributors receive: the request ``context`` (``task``, ``language``,
    ``tenant_id``, ``session_id``, ...) as a mapping; ``context.get(key)`` works as with
    victor-ai's ``PromptContext``."""


ErrorHook = Callable[[str, BaseException], None]


class PluginContributor:
    """A user's contributor under its entry-point name."""

    def __init__(self, name: str, plugin: Any) -> None:
        self.name = name
        self.plugin = plugin

    def priority(self) -> int:
        return int(self.plugin.priority()) if hasattr(self.plugin, "priority") else 50

    async def get_contribution(self, context: Mapping[str, Any]) -> str:
        text = self.plugin.get_contribution(context)
        if inspect.isawaitable(text):
            text = await text
        if text is None:
            return ""
        if not isinstance(text, str):
            raise TypeError(f"get_contribution returned {type(text).__name__}, not str")
        return text


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
                 max_contribution_chars: int = 20000, on_error: ErrorHook | None = None) -> None:
        self._contributors: list[PromptContributor] = []
        for contributor in contributors or []:
            self.add_contributor(contributor)
        self.on_error = on_error
        self.max_contribution_chars = max_contribution_chars
        self._warned: set[tuple[str, int]] = set()

    def add_contributor(self, contributor: PromptContributor) -> None:
        from victor_server.plugins import REGISTRY

        self._contributors.append(_adapted(contributor))
        REGISTRY.in_use("prompt_contributors", str(getattr(contributor, "name", "")))

    @property
    def contributors(self) -> list[PromptContributor]:
        return list(self._contributors)

    async def build(self, context: Mapping[str, Any]) -> BuiltPrompt:
        ranked: list[tuple[int, str, PromptContributor]] = []
        for contributor in self._contributors:
            name = contributor_name(contributor)
            try:
                ranked.append((int(contributor.priority()), name, contributor))
            except Exception as exc:
                self._failed(name, exc)
        ranked.sort(key=lambda entry: -entry[0])
        contributions: list[Contribution] = []
        for priority, name, contributor in ranked:
            try:
                text = (await contributor.get_contribution(context) or "").strip()
            except Exception as exc:
                self._failed(name, exc)
                continue
            if not text:
                continue
            contributions.append(self._cap(name, priority, text))
        prompt = "\n\n".join(c.text for c in contributions)
        return BuiltPrompt(prompt, contributions)

    def _failed(self, name: str, exc: BaseException) -> None:
        if self.on_error is not None:
            self.on_error(name, exc)
        else:
            logger.error("prompt contributor %s failed: %s", name, exc)

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


def _adapted(contributor: Any) -> Any:
    """A user's contributor object, handed in directly, under its class name."""
    if type(contributor).__module__.startswith("victor_server."):
        return contributor
    return PluginContributor(contributor_name(contributor), contributor)
