"""LSP face: cold start to the ``initialize`` answer, per-request overhead, idle memory.

Run: python bench/bench_lsp.py [--runs 15] [--requests 300] [--write]

Side by side in one run, alternating, so machine load hits both alike:
- cold start: spawn -> ``initialize`` answer, ``victor-server lsp`` vs
  ``bench/bare_pygls_server.py``;
- overhead: median round trip of ``victor/selectTools`` (keyword strategy) and
  ``victor/session/get`` vs the bare server's ``bare/echo``;
- memory: RSS after initialize and one request (idle), from /proc.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from lsp_wire import WireClient

ROOT = Path(__file__).resolve().parents[1]
BARE = [sys.executable, str(ROOT / "bench" / "bare_pygls_server.py")]
VICTOR = [sys.executable, "-m", "victor_server", "lsp"]


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VICTOR_", "ANTHROPIC_"))}
    clean["VICTOR_TOOL_SELECTION__STRATEGY"] = "keyword"
    return clean


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_start(command: list[str], workspace: Path) -> float:
    start = time.perf_counter()
    client = WireClient([*command, "--workspace", str(workspace)] if command is VICTOR
                        else command, env=env())
    client.initialize(workspace.as_uri())
    elapsed = time.perf_counter() - start
    client.close()
    return elapsed


def round_trips(client: WireClient, method: str, params: Any, count: int) -> list[float]:
    client.request(method, params)  # warm: the first call builds the orchestrator
    times = []
    for _ in range(count):
        start = time.perf_counter()
        client.request(method, params)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp())
    (workspace / ".victor").mkdir()
    bare_starts, victor_starts = [], []
    for _ in range(args.runs):
        bare_starts.append(cold_start(BARE, workspace))
        victor_starts.append(cold_start(VICTOR, workspace))

    bare = WireClient(BARE, env=env())
    bare.initialize(workspace.as_uri())
    victor = WireClient([*VICTOR, "--workspace", str(workspace)], env=env())
    victor.initialize(workspace.as_uri())
    session = victor.request("victor/session/create", {"title": "bench"})["sessionId"]
    echo = round_trips(bare, "bare/echo", {"query": "read a file"}, args.requests)
    select = round_trips(victor, "victor/selectTools", {"query": "read a file"}, args.requests)
    get = round_trips(victor, "victor/session/get", {"sessionId": session}, args.requests)
    bare_rss, victor_rss = rss_mb(bare.proc.pid), rss_mb(victor.proc.pid)
    bare.close()
    victor.close()

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    rows = [
        ("cold start to `initialize` answer", ms(bare_starts), ms(victor_starts)),
        ("`victor/selectTools` round trip (bare: echo)", ms(echo), ms(select)),
        ("`victor/session/get` round trip (bare: echo)", ms(echo), ms(get)),
    ]
    lines = ["| measure | bare pygls (ms) | victor-server (ms) | ratio |", "|---|---|---|---|"]
    lines += [f"| {name} | {b:.2f} | {v:.2f} | {v / b:.2f}x |" for name, b, v in rows]
    lines.append(f"| idle RSS after initialize + requests | {bare_rss:.1f} MB | "
                 f"{victor_rss:.1f} MB | {victor_rss / bare_rss:.2f}x |")
    table = "\n".join(lines)
    load = os.getloadavg()[0]
    print(table)
    print(f"\nmedians over {args.runs} cold starts and {args.requests} requests; "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    if args.write:
        docs = ROOT / "docs" / "benchmarks.md"
        text = docs.read_text() if docs.exists() else "# Benchmarks\n"
        section = (f"## LSP face\n\nCommand: `python bench/bench_lsp.py --runs {args.runs} "
                   f"--requests {args.requests} --write` (load average {load:.1f}).\n\n"
                   f"{table}\n")
        if "## LSP face" in text:
            head, _, rest = text.partition("## LSP face")
            tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
            text = head + section + tail
        else:
            text = text.rstrip() + "\n\n" + section
        docs.write_text(text)


if __name__ == "__main__":
    main()
