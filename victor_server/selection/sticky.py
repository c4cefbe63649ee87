"""The tool list a chat turn offers: selection's picks, kept stable across a session's turns.

Tool definitions come first in what a provider caches (tools -> system -> messages), so a tool
list that changes between turns makes every later request pay for the whole prompt again. A
session therefore keeps a working set of tools, always ordered by name, and changes it only when
a turn needs something it lacks:

* the first turn offers selection's picks (up to ``max_tools``);
* a later turn offers the session's set plus the turn's best ``TOP`` picks (selection's
  ranking), so a turn whose best picks are already there changes nothing: the picks ranked
  below them are often filler for a list of ``max_tools`` and do not justify a cache miss.
  Adding more of the turn's picks on a change was measured and churned more (the set fills,
  evicts, and misses again) without offering the needed tool more often;
* the set holds at most ``limit`` tools (twice ``max_tools``); past that, the tools that ranked
  best longest ago leave first;
* the set starts over from the turn's picks when the task changes (the request's
  ``context.task`` differs from the one the set was built for);
* a new session starts with the tool set of the tenant's latest session when that set holds
  the new session's best picks, so its first turn reads the tools and the system prompt from
  the cache the previous session wrote.

Tools that left the catalogue (an MCP server that went away) drop out of every set. The sets
live in memory only (a restart costs one cache write per session) and at most ``MAX_SESSIONS``
are kept, least recently used dropped first. ``bench/bench_prompt_cache.py`` measures what this
buys (cache reads) and costs (tools offered, the needed tool's recall) against selecting afresh
each turn (``tool_selection.sticky: false``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from victor_server.tools.base import ToolSpec

MAX_SESSIONS = 1024
TOP = 2  # picks a turn must find in the session's set to keep it unchanged


@dataclass
class _SessionTools:
    names: tuple[str, ...]
    task: str | None
    turn: int = 0
    picked_at: dict[str, int] = field(default_factory=dict)  # tool -> last turn it ranked best


class StickyToolSets:
    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, _SessionTools] = OrderedDict()
        self._latest: dict[str | None, tuple[str, ...]] = {}  # tenant -> latest session's set
        self._max_sessions = max_sessions

    def tools_for(self, session_id: str, tenant_id: str | None, task: str | None,
                  selected: list[ToolSpec], catalogue: list[ToolSpec],
                  limit: int) -> list[ToolSpec]:
        """The tools this turn offers, ordered by name; ``selected`` is in ranking order."""
        by_name = {spec.name: spec for spec in catalogue}
        for spec in selected:
            by_name.setdefault(spec.name, spec)
        wanted = [spec.name for spec in selected]
        best = wanted[:TOP]
        held = self._sessions.get(session_id)
        if held is None or (task is not None and held.task is not None and task != held.task):
            seed = [n for n in self._latest.get(tenant_id, ()) if n in by_name]
            seeded = held is None and bool(seed) and set(best) <= set(seed)
            held = _SessionTools(tuple(seed if seeded else wanted), task)
        held.turn += 1
        held.task = task if task is not None else held.task
        held.picked_at.update(dict.fromkeys(best, held.turn))
        names = {n for n in held.names if n in by_name} | set(best)
        while len(names) > limit:  # drop the tool that ranked best longest ago
            names.remove(min(names - set(best), key=lambda n: (held.picked_at.get(n, 0), n)))
        held.names = tuple(sorted(names))
        self._sessions[session_id] = held
        self._sessions.move_to_end(session_id)
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)
        self._latest[tenant_id] = held.names
        return [by_name[n] for n in held.names]

    def forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
