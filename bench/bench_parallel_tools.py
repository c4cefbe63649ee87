"""Wall time of a turn whose model asks for four read-only tools at once: run one after another
versus together.

    python bench/bench_parallel_tools.py [--turns 10] [--latency 0.25]

The core (``AgentOrchestrator``) runs in this process with the real Anthropic provider and SDK
against the loopback fake API. Each turn's first reply asks for four tools in one message; the
second reply answers. Two kinds of read-only tool:

* ``remote``: a tool that waits ``--latency`` seconds for an answer, as an MCP server's tool,
  a web fetch or a language server query does (a sleep stands in for the wait);
* ``builtin``: the built-in ``read`` and ``search`` over a generated 400-file repository, whose
  work is local disk and CPU (search runs its regex in a worker thread).

Sequential and parallel run side by side in one run over the same tools: the sequential row
offers the very same tools declared as writing (``writes=True``; ``tools.approvals`` allows
them, so no one is asked), which the turn loop runs one at a time. Figures are the median turn
over ``--turns`` turns, with two warm-up turns first.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
from fake_anthropic import FakeAnthropic, text, tool_uses  # noqa: E402

from victor_server.orchestrator import AgentOrchestrator  # noqa: E402
from victor_server.providers.anthropic import AnthropicProvider  # noqa: E402
from victor_server.settings import Settings  # noqa: E402
from victor_server.tools.base import Tool, ToolContext, ToolResult, ToolSpec  # noqa: E402
from victor_server.tools.coordinator import ToolCoordinator  # noqa: E402
from victor_server.tools.file_tools import ReadTool  # noqa: E402
from victor_server.tools.search_tool import SearchTool  # noqa: E402


class RemoteTool:
    def __init__(self, name: str, latency: float) -> None:
        self.spec = ToolSpec(name, f"ask the {name} service")
        self.latency = latency

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        await asyncio.sleep(self.latency)
        return ToolResult(f"{self.spec.name}: answer")


class Declared:
    """A tool with its spec replaced (here: declared as writing, so it runs alone)."""

    def __init__(self, tool: Tool, writes: bool) -> None:
        self.inner = tool
        self.spec = replace(tool.spec, writes=writes)

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return await self.inner.run(tool_input, ctx)


def make_repo(root: Path) -> None:
    for i in range(400):
        package = root / "src" / f"pkg{i % 20}"
        package.mkdir(parents=True, exist_ok=True)
        (package / f"module{i}.py").write_text("".join(
            f"def function_{i}_{j}(value):\n    return value * {j}  # helper {j}\n"
            for j in range(40)))


def workload(kind: str, latency: float) -> tuple[list[Tool], list[tuple[str, dict[str, Any]]]]:
    if kind == "remote":
        tools: list[Tool] = [RemoteTool(f"service_{i}", latency) for i in range(4)]
        return tools, [(f"service_{i}", {}) for i in range(4)]
    return [ReadTool(), SearchTool()], [
        ("read", {"path": "src/pkg1/module1.py"}), ("search", {"pattern": "helper 3[0-9]"}),
        ("read", {"path": "src/pkg2/module2.py"}), ("search", {"pattern": r"value \* 17"})]


async def median_turn(workspace: Path, kind: str, parallel: bool, turns: int,
                      latency: float) -> float:
    tools, calls = workload(kind, latency)
    offered = [Declared(t, writes=not parallel) for t in tools]
    with FakeAnthropic() as fake:
        provider = AnthropicProvider(api_key="k", base_url=fake.base_url)
        core = AgentOrchestrator(
            # no one to ask here: the declared-writing copies are allowed by config
            Settings(tool_selection={"strategy": "all"}, tools={"approvals": {"*": "allow"}}),
            provider, workspace=workspace,
            tool_coordinator=ToolCoordinator(workspace, tools=list(offered),
                                             load_plugins=False),
            db_path=workspace / f"{kind}-{parallel}.db")
        await core.start()
        times = []
        try:
            for turn in range(turns + 2):
                fake.queue(tool_uses(*calls), text("All four answered."))
                started = time.perf_counter()
                result = await core.chat(f"turn {turn}: look these up")
                assert [c.name for c in result.tool_calls] == [n for n, _ in calls]
                if turn >= 2:
                    times.append(time.perf_counter() - started)
        finally:
            await core.close()
            await provider.aclose()  # a provider passed in is the caller's to close
    return statistics.median(times)


async def main_async(turns: int, latency: float) -> None:
    print(f"Median wall time of a turn (two model requests, four tool calls in one message), "
          f"{turns} turns each; remote tools wait {latency * 1000:.0f} ms.\n")
    print("| tools | one after another | together | speed-up |")
    print("|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        make_repo(workspace)
        for kind in ("remote", "builtin"):
            sequential = await median_turn(workspace, kind, False, turns, latency)
            parallel = await median_turn(workspace, kind, True, turns, latency)
            print(f"| {kind} | {sequential * 1000:.0f} ms | {parallel * 1000:.0f} ms | "
                  f"{sequential / parallel:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.25)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    asyncio.run(main_async(args.turns, args.latency))


if __name__ == "__main__":
    main()
