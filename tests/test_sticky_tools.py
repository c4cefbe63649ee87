"""The rules that keep a session's tool list stable (``selection.sticky``), turn by turn."""

from __future__ import annotations

from victor_server.selection.sticky import ADD, TOP, StickyToolSets
from victor_server.tools.base import ToolSpec

DOMAINS = {"bash": "shell", "edit": "filesystem", "git_diff": "git", "git_log": "git",
           "ls": "filesystem", "read": "filesystem", "search": "search", "web": "web",
           "write": "filesystem"}
CATALOGUE = [ToolSpec(name, f"the {name} tool", domain=domain) for name, domain in DOMAINS.items()]


def picks(*names: str) -> list[ToolSpec]:
    by_name = {t.name: t for t in CATALOGUE}
    return [by_name[n] for n in names]


def offered(sets: StickyToolSets, sid: str, *ranked: str, task: str | None = None,
            tenant: str | None = None, limit: int = 6,
            catalogue: list[ToolSpec] | None = None) -> list[str]:
    return [t.name for t in sets.tools_for(sid, tenant, task, picks(*ranked),
                                           CATALOGUE if catalogue is None else catalogue, limit)]


def test_a_session_keeps_its_list_while_its_best_picks_are_in_it() -> None:
    assert (TOP, ADD) == (2, 4)
    sets = StickyToolSets()
    assert offered(sets, "s", "search", "web") == ["search", "web"]  # ranking order
    # the best two are there: the list stays byte for byte, whatever the filler below them
    assert offered(sets, "s", "web", "search", "bash") == ["search", "web"]
    # a new best pick joins at the end with the turn's next picks; the rest keeps its place
    assert offered(sets, "s", "bash", "search", "git_log") == ["search", "web", "bash", "git_log"]


def test_a_new_best_pick_brings_the_rest_of_its_domain_within_the_limit() -> None:
    sets = StickyToolSets()
    offered(sets, "s", "search", "web")
    # git_diff is new: git_log, the other git tool, comes with it
    assert offered(sets, "s", "git_diff", "web") == ["search", "web", "git_diff", "git_log"]
    # read is new, but its four files tools would pass the limit of 6: the turn's picks only
    assert offered(sets, "s", "read", "search") == ["search", "web", "git_diff", "git_log", "read"]


def test_past_the_limit_the_list_starts_over_from_the_turns_picks() -> None:
    sets = StickyToolSets()
    offered(sets, "s", "search", "web", limit=3)
    assert offered(sets, "s", "bash", "git_diff", limit=3) == ["bash", "git_diff"]


def test_a_new_task_starts_over_and_gone_tools_drop_out() -> None:
    sets = StickyToolSets()
    offered(sets, "s", "read", "search", "ls", task="review")
    assert offered(sets, "s", "git_diff", "git_log", task="release") == ["git_diff", "git_log"]
    without_git_log = [t for t in CATALOGUE if t.name != "git_log"]
    assert offered(sets, "s", "git_diff", "web", task="release",
                   catalogue=without_git_log) == ["git_diff", "web"]


def test_a_new_session_starts_from_the_latest_list() -> None:
    sets = StickyToolSets()
    first = offered(sets, "one", "read", "search", "ls", "edit")
    assert offered(sets, "two", "search", "read", "web") == first  # same prefix: cache hit
    # its best pick is not there: appended, the latest list's tools keep their places
    assert offered(sets, "three", "bash", "read", limit=9) == [*first, "bash"]
    assert offered(sets, "four", "read", "ls", tenant="other") == ["read", "ls"]  # per tenant
