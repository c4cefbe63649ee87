"""The tool list a chat turn offers: selection's picks, kept stable across a session's turns.

Tool definitions come first in what a provider caches (tools -> system -> messages), so a tool
list that changes between turns makes every later request pay for the whole prompt again. A
session therefore keeps a working set of tools that, within a task, only grows, and grows at the
end:

* the first turn offers selection's picks (up to ``max_tools``), in ranking order;
* a later turn offers the same list, byte for byte, when the turn's best ``TOP`` picks are in it:
  the picks ranked below them are often filler for a list of ``max_tools`` and do not justify a
  cache miss;
* when they are not, the turn's best ``ADD`` picks that the list lacks are appended to it, and
  with them the other tools of the best pick's domain (``ToolSpec.domain``: files, git,
  shell...) while the list stays within ``limit``. The tools already offered keep their places,
  so the request still reads the old list's prefix from the cache (the breakpoint on the last
  tool finds it within the 20 blocks it looks back), and the turns that follow find the tools
  they need next already there: a session that keeps needing new tools changes its list a few
  times, not every turn. Adding the turn's picks alone (no domain) changed the list on almost
  every turn of such a session;
* the list is never trimmed one tool at a time (that churned: every eviction was one more miss);
  when it would pass ``limit`` tools (``LIMIT_FACTOR`` times ``max_tools``: 64 by default) it
  starts over from the turn's picks, as it does when the task changes (the request's
  ``context.task`` differs from the one the list was built for);
* a new session starts with the tenant's latest list, so its first turn reads the tools and the
  system prompt from the cache the previous session wrote; the turn's best picks the list lacks
  are appended (the tools are still read from the cache).

Tools that left the catalogue (an MCP server that went away) drop out of every list. The lists
live in memory only (a restart costs one cache write per session) and at most ``MAX_SESSIONS``
are kept, least recently used dropped first. ``bench/bench_prompt_cache.py`` measures what this
buys (cache reads) and costs (tools offered, the needed tool's recall) against selecting afresh
each turn (``tool_selection.sticky: false``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from victor_server.tools.base import ToolSpec

MAX_SESSIONS = 1024
TOP = 2  # picks a turn must find in the session's list to keep it unchanged
ADD = 4  # picks appended when they are not
LIMIT_FACTOR = 8  # a list holds at most this many times max_tools before it starts over


@dataclass
class _SessionTools:
    names: tuple[str, ...]
    task: str | None


class StickyToolSets:
    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self._sessions: OrderedDict[str, _SessionTools] = OrderedDict()
        self._latest: dict[str | None, tuple[str, ...]] = {}  # tenant -> latest session's list
        self._max_sessions = max_sessions
        self.limit_factor = LIMIT_FACTOR  # the caller's limit: this many times max_tools

    def tools_for(self, session_id: str, tenant_id: str | None, task: str | None,
                  selected: list[ToolSpec], catalogue: list[ToolSpec],
                  limit: int) -> list[ToolSpec]:
        """The tools this turn offers; ``selected`` is in ranking order."""
        by_name = {spec.name: spec for spec in catalogue}
        for spec in selected:
            by_name.setdefault(spec.name, spec)
        wanted = list(dict.fromkeys(spec.name for spec in selected))
        held = self._sessions.get(session_id)
        if held is None or (task is not None and held.task is not None and task != held.task):
            seed = self._latest.get(tenant_id, ()) if held is None else ()
            names = [n for n in seed if n in by_name] or wanted
            held = _SessionTools((), task)
        else:
            names = [n for n in held.names if n in by_name]
        if not set(wanted[:TOP]) <= set(names):
            names += [n for n in wanted[:ADD] if n not in names]
            # the best pick's kin: the turns that follow often need another tool of its domain
            domain = by_name[wanted[0]].domain
            kin = [t.name for t in catalogue if t.domain == domain and t.name not in names]
            if len(names) + len(kin) <= limit:
                names += kin
        if len(names) > limit:  # start over rather than churn one eviction at a time
            names = wanted
        held.names = tuple(names)
        held.task = task if task is not None else held.task
        self._sessions[session_id] = held
        self._sessions.move_to_end(session_id)
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)
        self._latest[tenant_id] = held.names
        return [by_name[n] for n in held.names]

    def forget(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)
