"""Prompt caching over a 30-turn session: the share of input tokens read from the cache, per
tool-selection strategy, with a session's tool list kept stable (``sticky``) and selected afresh.

    python bench/bench_prompt_cache.py [--turns 30] [--strategies all,keyword,hybrid,semantic]
                                       [--workloads focused,varied]

The core (``AgentOrchestrator``) runs in this process with the real Anthropic provider and SDK
against the loopback fake API with its caching rules on (``tests/support/fake_prompt_cache.py``:
breakpoints, prefix order tools -> system -> messages, 1024-token minimum, five-minute lifetime
on a simulated clock that advances 40 s per turn, the 20-block lookback). The workspace offers
the built-in tools plus the selection benchmark's 115-tool catalogue (``selection_catalogue``),
as a server with several MCP servers attached would, and an AGENTS.md of about 1,000 tokens (a
prefix under 1,024 tokens is never cached, so without one a small tool list and the built-in
system prompt are not cached at all). The user's requests are that catalogue's queries,
in one of two workloads:

* ``focused``: a coding session as they usually go, where the turns keep needing the same eight
  tools (read, search, find a definition, edit, run the tests, git status and diff, list a
  directory) in a fixed rotation;
* ``varied``: the worst case for a stable tool list, where every turn needs a different tool
  from the files, search, git, shell and coding groups.

The scripted model calls the tool each request needs when it is offered (a built-in tool that
does the same job counts: ``read`` for ``read_file``; a catalogue tool's result is 1.5 KB of
text), then answers; when no such tool is offered it says so. So one turn is two requests.
``--top`` compares values of ``selection.sticky.TOP`` (how many of a turn's best picks must be
in the session's set for it to stay unchanged).

Columns: ``changes`` turns whose tool list differed from the previous turn's; ``read`` cache
reads / all input tokens (uncached + read + written); ``written`` cache writes / all input;
``input cost`` the input side of the bill at Anthropic's cache prices (read 0.1x, write 1.25x)
relative to the same tokens sent without caching; ``billed`` the same in thousands of
input-token equivalents (comparable across rows: offering every tool sends more tokens);
``tools`` tools offered per turn (mean); ``recall`` turns whose needed tool was offered
(selection quality); ``2nd session`` what a new session in the same workspace (same process)
read from the cache on its first request, against the tokens of its tools and system prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
from fake_anthropic import FakeAnthropic, Reply, last_user_text, text, tool_use  # noqa: E402
from fake_prompt_cache import PromptCache, request_blocks  # noqa: E402
from selection_catalogue import _CATALOGUE, catalogue  # noqa: E402

from victor_server.orchestrator import AgentOrchestrator  # noqa: E402
from victor_server.providers.anthropic import AnthropicProvider  # noqa: E402
from victor_server.selection import sticky as sticky_sets  # noqa: E402
from victor_server.selection.coordinator import ToolSelectionCoordinator  # noqa: E402
from victor_server.settings import Settings  # noqa: E402
from victor_server.tools.base import ToolContext, ToolResult, ToolSpec  # noqa: E402
from victor_server.tools.coordinator import ToolCoordinator  # noqa: E402

CODING_DOMAINS = ("filesystem", "search", "git", "shell", "coding")
TURN_SECONDS = 40.0
# A project's instruction file of about 1,000 tokens, as AGENTS.md files in the wild run
AGENTS_MD = "# Working on this project\n\n" + "".join(
    f"- Rule {i}: keep functions small, name things for what they are, test what you change, "
    f"and run the linters before you say a change is done.\n" for i in range(30))
RESULT = "".join(f"line {i}: some file content the tool returned, as a real one would\n"
                 for i in range(25))


class CatalogueTool:
    def __init__(self, spec: ToolSpec) -> None:
        self.spec = spec

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return ToolResult(f"{self.spec.name} output\n{RESULT}")


FOCUS = ("read_file", "grep_search", "read_file", "edit_file", "run_tests",
         "find_symbol_definition", "read_file", "edit_file", "run_tests", "git_status",
         "list_directory", "git_diff")
# the built-in tools do the same job as these catalogue tools: either one serves the request
SAME_JOB = {"read_file": "read", "edit_file": "edit", "write_file": "write",
            "list_directory": "ls", "grep_search": "search"}
BUILTIN_INPUT: dict[str, dict[str, Any]] = {
    "read": {"path": "src/app.py"}, "ls": {"path": "src"}, "search": {"pattern": "line 1"},
    "edit": {"path": "src/app.py", "old_string": "line 0:", "new_string": "line 0:"}}


def session_queries(workload: str, turns: int) -> list[tuple[str, str]]:
    if workload == "focused":
        asked = {n: qs for n, _, _, _, qs in _CATALOGUE}
        return [(asked[name][i % len(asked[name])], name)
                for i, name in enumerate(FOCUS[i % len(FOCUS)] for i in range(turns))]
    pairs = [(q, n) for n, dom, _, _, qs in _CATALOGUE if dom in CODING_DOMAINS for q in qs]
    return [pairs[(i * 7) % len(pairs)] for i in range(turns)]  # a fixed, mixed order


@dataclass
class Model:
    """The scripted model: call the needed tool when offered, then answer."""

    needed: dict[str, str]
    hits: list[bool] = field(default_factory=list)
    offered: list[int] = field(default_factory=list)
    lists: list[str] = field(default_factory=list)

    def __call__(self, body: dict[str, Any]) -> Reply:
        last = body["messages"][-1]["content"]
        if any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last):
            return text("Done: here is what I found, summarised for you in a few lines. " * 3)
        query = last_user_text(body)
        names = {t["name"] for t in body.get("tools") or []}
        self.offered.append(len(names))
        self.lists.append(",".join(t["name"] for t in body.get("tools") or []))
        tool = self.needed.get(query)
        for name in (tool, SAME_JOB.get(str(tool))):
            if name in names:
                self.hits.append(True)
                return tool_use(str(name), BUILTIN_INPUT.get(str(name), {}))
        self.hits.append(False)
        return text("I have no tool for that here.")


@dataclass
class Outcome:
    label: str
    changes: int
    read: float
    written: float
    cost: float
    billed: float
    tools: float
    recall: float
    second: str


async def run_session(workload: str, strategy: str, sticky: bool, turns: int) -> Outcome:
    clock = [0.0]
    queries = session_queries(workload, turns)
    model = Model({q: n for q, n in queries})
    fake = FakeAnthropic(default_responder=model,
                         prompt_cache=PromptCache(clock=lambda: clock[0])).start()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        (workspace / "AGENTS.md").write_text(AGENTS_MD)
        (workspace / "src").mkdir()
        (workspace / "src" / "app.py").write_text(RESULT)
        tools = ToolCoordinator(workspace, tools=[CatalogueTool(s) for s in catalogue()],
                                load_plugins=False)
        selection = ToolSelectionCoordinator(strategy, {"max_tools": 8}, wait_for_model=True)
        settings = Settings(tool_selection={"strategy": strategy, "sticky": sticky})
        provider = AnthropicProvider(api_key="k", base_url=fake.base_url)
        core = AgentOrchestrator(settings, provider,
                                 workspace=workspace, tool_coordinator=tools,
                                 selection_coordinator=selection)
        await core.start()
        try:
            sid = None
            for query, _ in queries:
                sid = (await core.chat(query, sid)).session_id
                clock[0] += TURN_SECONDS
            session = list(fake.message_requests)
            # a second session, same workspace and process, on a request of its own
            await core.chat(f"a new task: {queries[0][0]}")
            second = fake.message_requests[len(session)]
        finally:
            await core.close()
            await provider.aclose()  # a provider passed in is the caller's to close
            fake.stop()
    used = [r for r in session if r.usage and r.cache]
    uncached = sum(r.usage[0] for r in used if r.usage)
    read = sum(r.cache[0] for r in used if r.cache)
    written = sum(r.cache[1] for r in used if r.cache)
    everything = uncached + read + written
    billed = uncached + 0.1 * read + 1.25 * written
    prefix = _tools_and_system_tokens(second.body)
    second_read = second.cache[0] if second.cache else 0
    changes = sum(1 for a, b in zip(model.lists, model.lists[1:turns], strict=False) if a != b)
    mode = f"sticky (top {sticky_sets.TOP})" if sticky and strategy != "all" else \
        "sticky" if sticky else "fresh each turn"
    return Outcome(f"{workload} | {strategy}, {mode}",
                   changes, read / everything, written / everything, billed / everything,
                   billed / 1000,
                   sum(model.offered) / max(1, len(model.offered)),
                   sum(model.hits[:turns]) / turns, f"{second_read} of {prefix}")


def _tools_and_system_tokens(body: dict[str, Any]) -> int:
    blocks = request_blocks(body)
    chars = sum(len(t) for t, _ in blocks if not t.startswith(("user:", "assistant:")))
    return -(-chars // 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--strategies", default="all,keyword,hybrid,semantic")
    parser.add_argument("--workloads", default="focused,varied")
    parser.add_argument("--top", default="2",
                        help="values of selection.sticky.TOP to compare, e.g. 1,2,3")
    parser.add_argument("--add", type=int, default=sticky_sets.ADD)
    parser.add_argument("--limit-factor", type=int, default=sticky_sets.LIMIT_FACTOR)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sticky_sets.ADD, sticky_sets.LIMIT_FACTOR = args.add, args.limit_factor
    rows: list[Outcome] = []
    for workload in args.workloads.split(","):
        for strategy in args.strategies.split(","):
            for sticky in ((True,) if strategy == "all" else (True, False)):
                for top in (args.top.split(",") if sticky and strategy != "all" else ["2"]):
                    sticky_sets.TOP = int(top)
                    rows.append(asyncio.run(run_session(workload, strategy, sticky, args.turns)))
    print(f"{args.turns} turns (two requests each), 120 tools in the workspace, max_tools 8. "
          "Selection off is strategy `all`; the default config is `hybrid, sticky`.\n")
    print("| workload | strategy | changes | read | written | input cost | billed (k) | tools | "
          "recall | 2nd session: read of tools+system |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r.label} | {r.changes} | {r.read:.0%} | {r.written:.0%} | {r.cost:.0%} | "
              f"{r.billed:.0f} | {r.tools:.1f} | {r.recall:.0%} | {r.second} |")
    default = f"hybrid, sticky (top {sticky_sets.TOP})"
    for r in rows:
        if r.label.endswith(f"| {default}"):
            workload = r.label.split(" |")[0]
            read, of = (int(n) for n in r.second.split(" of "))
            fresh = next((f for f in rows if f.label == f"{workload} | hybrid, fresh each turn"),
                         None)
            trade = f"; fresh selection: {fresh.read:.0%} read, recall {fresh.recall:.0%}" \
                if fresh else ""
            print(f"\nGoal: {workload} session, default config, >= 70% of input tokens read "
                  f"from the cache: {'met' if r.read >= 0.7 else 'not met'} ({r.read:.0%}, "
                  f"recall {r.recall:.0%}, {r.tools:.0f} tools offered{trade}).")
            print(f"Goal: {workload}, a second session reads its tools and system prompt from "
                  f"the cache on its first turn: {'met' if read >= of else 'not met'} "
                  f"({r.second} tokens).")


if __name__ == "__main__":
    main()
