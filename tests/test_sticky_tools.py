"""The rules that keep a session's tool list stable (``selection.sticky``), turn by turn."""

from __future__ import annotations

from victor_server.selection.sticky import TOP, StickyToolSets
from victor_server.tools.base import ToolSpec

CATALOGUE = [ToolSpec(name, f"the {name} tool") for name in
             ("bash", "edit", "git_diff", "git_log", "ls", "read", "search", "web", "write")]


def picks(*names: str) -> list[ToolSpec]:
    by_name = {t.name: t for t in CATALOGUE}
    return [by_name[n] for n in names]


def offered(sets: StickyToolSets, sid: str, *ranked: str, task: str | None = None,
            tenant: str | None = None, limit: int = 6,
            catalogue: list[ToolSpec] | None = None) -> list[str]:
    return [t.name for t in sets.tools_for(sid, tenant, task, picks(*ranked),
                                           CATALOGUE if catalogue is None else catalogue, limit)]


def test_a_session_keeps_its_list_while_its_best_picks_are_in_it() -> None:
    assert TOP == 2
    sets = StickyToolSets()
    assert offered(sets, "s", "read", "search", "ls") == ["ls", "read", "search"]  # by name
    # the best two are there: the list stays byte for byte, whatever the filler below them
    assert offered(sets, "s", "search", "read", "web") == ["ls", "read", "search"]
    # a new best pick joins; the rest of the list stays
    assert offered(sets, "s", "edit", "read", "bash") == ["edit", "ls", "read", "search"]


def test_past_the_limit_the_tool_best_ranked_longest_ago_leaves() -> None:
    sets = StickyToolSets()
    offered(sets, "s", "read", "search", limit=3)
    offered(sets, "s", "read", "ls", limit=3)  # search ranked best at turn 1, read at turn 2
    assert offered(sets, "s", "edit", "read", limit=3) == ["edit", "ls", "read"]


def test_a_new_task_starts_over_and_gone_tools_drop_out() -> None:
    sets = StickyToolSets()
    offered(sets, "s", "read", "search", "ls", task="review")
    assert offered(sets, "s", "git_diff", "git_log", task="release") == ["git_diff", "git_log"]
    without_git_log = [t for t in CATALOGUE if t.name != "git_log"]
    assert offered(sets, "s", "git_diff", "read", task="release",
                   catalogue=without_git_log) == ["git_diff", "read"]


def test_a_new_session_reuses_the_latest_list_when_it_holds_its_best_picks() -> None:
    sets = StickyToolSets()
    first = offered(sets, "one", "read", "search", "ls", "edit")
    assert offered(sets, "two", "search", "read", "web") == first  # same prefix: cache hit
    assert offered(sets, "three", "git_log", "read") == ["git_log", "read"]  # not held: fresh
    assert offered(sets, "four", "read", "ls", tenant="other") == ["ls", "read"]  # per tenant
