"""The tool list a chat turn offers: selection's picks, kept stable across a session's turns.

Tool definitions come first in what a provider caches (tools -> system -> messages), so a tool
list that changes between turns makes every later request pay for the whole prompt again. A
session therefore keeps its tool set and only grows it, always ordered by name:

* a turn whose selection is already in the session's set offers that set unchanged;
* a turn that needs tools the set lacks offers the set plus those tools (one cache miss);
* the set starts over from the turn's selection when the task changes (the request's
  ``context.task`` differs from the one the set was built for) or when growing it would pass
  ``limit`` tools (twice ``max_tools``): a set that has drifted that far is no longer about
  one task, and selection quality is worth more than one cache write;
* a new session starts with the tool set of the tenant's latest session when that set already
  holds everything the new session's selection picked, so its first turn reads the tools and
  the system prompt from the cache the previous session wrote.

Tools that left the catalogue (an MCP server that went away) drop out of every set. The sets
live in memory only (a restart costs one cache write per session) and at most ``MAX_SESSIONS``
are kept, least recently used dropped first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from victor_server.tools.base import ToolSpec

MAX_SESSIONS = 1024


@dataclass
class _SessionTools:
    names: tuple[str, ...]
    task: str | None


class StickyToolSets:
    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, _SessionTools] = OrderedDict()
        self._latest: dict[str | None, tuple[str, ...]] = {}  # tenant -> latest session's set
        self._max_sessions = max_sessions

    def tools_for(self, session_id: str, tenant_id: str | None, task: str | None,
                  selected: list[ToolSpec], catalogue: list[ToolSpec],
                  limit: int) -> list[ToolSpec]:
        """The tools this turn offers, ordered by name."""
        by_name = {spec.name: spec for spec in catalogue}
        for spec in selected:
            by_name.setdefault(spec.name, spec)
        wanted = {spec.name for spec in selected}
        held = self._sessions.get(session_id)
        if held is None:
            seed = tuple(n for n in self._latest.get(tenant_id, ()) if n in by_name)
            names = set(seed) if seed and wanted <= set(seed) else wanted
        else:
            kept = {n for n in held.names if n in by_name}
            task_changed = task is not None and held.task is not None and task != held.task
            grown = kept | wanted
            names = wanted if task_changed or len(grown) > limit else grown
        ordered = tuple(sorted(names))
        self._sessions[session_id] = _SessionTools(
            ordered, task if task is not None else held.task if held else None)
        self._sessions.move_to_end(session_id)
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)
        self._latest[tenant_id] = ordered
        return [by_name[n] for n in ordered]

    def forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
