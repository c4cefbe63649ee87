"""Per-call overhead of ``select_tools`` over stdio: victor-server's MCP face against a bare
``MCPServer`` tool (bench/mcp_bare_server.py), measured side by side in one run.

    python bench/bench_mcp.py [--calls 200] [--strategy keyword] [--append docs/benchmarks.md]

Both servers run as subprocesses with the Python ``mcp`` client over stdio (2025 handshake);
calls alternate between them so machine noise hits both alike. The difference of the medians is
what the face plus the core's selection cost per call; ``--strategy`` picks the core's work.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcp import Client, StdioServerParameters

HERE = Path(__file__).resolve().parent


def victor_params(workspace: Path, strategy: str) -> StdioServerParameters:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VICTOR_", "ANTHROPIC_"))}
    env.update(VICTOR_PROVIDER="scripted", VICTOR_TOOL_SELECTION__STRATEGY=strategy)
    return StdioServerParameters(command=sys.executable, env=env, args=[
        "-m", "victor_server", "mcp", "--workspace", str(workspace),
        "--db", str(workspace / "bench.db")])


async def timed(client: Client, query: str) -> float:
    start = time.perf_counter()
    result = await client.call_tool("select_tools", {"query": query, "max_tools": 5})
    elapsed = time.perf_counter() - start
    assert not result.is_error, result.content
    return elapsed


async def measure(calls: int, strategy: str) -> dict[str, list[float]]:
    queries = ["read a file", "search the code for a pattern", "edit a function", "list files"]
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        bare = StdioServerParameters(command=sys.executable,
                                     args=[str(HERE / "mcp_bare_server.py")])
        async with Client(bare, mode="legacy") as b, \
                Client(victor_params(workspace, strategy), mode="legacy") as v:
            for q in queries:  # warm up: imports, first store connection, caches
                await timed(b, q)
                await timed(v, q)
            times: dict[str, list[float]] = {"bare": [], "victor": []}
            for i in range(calls):
                q = queries[i % len(queries)]
                times["bare"].append(await timed(b, q))
                times["victor"].append(await timed(v, q))
    return times


def report(times: dict[str, list[float]], strategy: str, calls: int) -> str:
    bare = statistics.median(times["bare"]) * 1000
    victor = statistics.median(times["victor"]) * 1000
    p90 = {k: statistics.quantiles(v, n=10)[-1] * 1000 for k, v in times.items()}
    return "\n".join([
        f"select_tools over stdio, {calls} calls each, alternating; core strategy `{strategy}`; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end (a shared machine: compare the two rows, not runs).",
        "",
        "| server | median ms | p90 ms |",
        "|---|---|---|",
        f"| bare MCPServer tool | {bare:.2f} | {p90['bare']:.2f} |",
        f"| victor-server mcp | {victor:.2f} | {p90['victor']:.2f} |",
        "",
        f"victor / bare median: {victor / bare:.2f}x; difference of medians "
        f"{victor - bare:+.2f} ms per call (the face plus the core's selection, middleware "
        "and analytics).",
    ])


def append_section(path: Path, body: str) -> None:
    """Add (or replace) only the "## MCP face" section, re-reading the file right before."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    head, marker, rest = text.partition("## MCP face")
    if marker:
        nxt = rest.find("\n## ")
        rest = rest[nxt + 1:] if nxt >= 0 else ""
        text = head.rstrip("\n") + "\n\n" + (rest if rest else "")
    section = f"## MCP face\n\nCommand: `python bench/bench_mcp.py`\n\n{body}\n"
    path.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--strategy", default="keyword")
    parser.add_argument("--append", type=Path, default=None, help="e.g. docs/benchmarks.md")
    args = parser.parse_args()
    body = report(asyncio.run(measure(args.calls, args.strategy)), args.strategy, args.calls)
    print(body)
    if args.append:
        append_section(args.append, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
