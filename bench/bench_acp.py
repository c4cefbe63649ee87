"""ACP face start-up: time from spawn to the ``initialize`` answer and to ``session/new``.

Run: python bench/bench_acp.py [--runs 10] [--write]

Each run spawns a fresh process with the ACP Python SDK's client (``acp.spawn_agent_process``),
sends ``initialize`` then ``session/new`` and records both times from the spawn. The baseline is
``bench/bare_acp_agent.py`` (same SDK, answers both and does nothing); victor-server runs with a
fresh ``--workspace`` and ``--db`` per run, so ``session/new`` includes building the orchestrator
(config, store with migrations, prompts, tools). Runs alternate between the two so machine load
affects both alike. ``--write`` appends the table to docs/benchmarks.md under "## ACP face".
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import acp

ROOT = Path(__file__).resolve().parents[1]
BARE = ROOT / "bench" / "bare_acp_agent.py"


class SilentClient:
    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        return None


async def one_run(command: list[str], cwd: Path) -> tuple[float, float]:
    start = time.perf_counter()
    async with acp.spawn_agent_process(SilentClient(), *command) as (conn, _process):  # type: ignore[arg-type]
        await conn.initialize(protocol_version=1)
        initialized = time.perf_counter() - start
        await conn.new_session(cwd=str(cwd), mcp_servers=[])
        created = time.perf_counter() - start
    return initialized * 1000, created * 1000


async def measure(runs: int) -> dict[str, list[tuple[float, float]]]:
    results: dict[str, list[tuple[float, float]]] = {"bare": [], "victor": []}
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            workspace = Path(tmp)
            results["bare"].append(await one_run([sys.executable, str(BARE)], workspace))
            results["victor"].append(await one_run(
                [sys.executable, "-m", "victor_server", "acp", "--workspace", str(workspace),
                 "--db", str(workspace / "bench.db")], workspace))
    return results


def report(results: dict[str, list[tuple[float, float]]], runs: int) -> str:
    med = {name: (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))
           for name, rows in results.items()}
    lines = [
        "## ACP face", "",
        "Command: `python bench/bench_acp.py`", "",
        f"Spawn to `initialize` answer and to `session/new` answer, {runs} fresh processes "
        f"each, alternating; Python {platform.python_version()}, {_cpus()} CPUs.", "",
        "| agent | initialize median ms | session/new median ms |", "|---|---|---|",
        f"| bare ACP agent (same SDK, does nothing) | {med['bare'][0]:.0f} | "
        f"{med['bare'][1]:.0f} |",
        f"| victor-server acp | {med['victor'][0]:.0f} | {med['victor'][1]:.0f} |", "",
        f"victor / bare: initialize {med['victor'][0] / med['bare'][0]:.2f}x, session/new "
        f"{med['victor'][1] / med['bare'][1]:.2f}x. Most of both is importing the SDK's "
        "pydantic schema; victor-server answers `initialize` before building its core and "
        "imports the core in a thread meanwhile.", ""]
    return "\n".join(lines)


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--write", action="store_true", help="append to docs/benchmarks.md")
    args = parser.parse_args()
    text = report(asyncio.run(measure(args.runs)), args.runs)
    print(text)
    if args.write:
        target = ROOT / "docs" / "benchmarks.md"
        current = target.read_text(encoding="utf-8") if target.exists() else "# Benchmarks\n"
        if "## ACP face" in current:
            print("docs/benchmarks.md already has an ACP section; not written", file=sys.stderr)
            return 1
        target.write_text(current.rstrip("\n") + "\n\n" + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
