"""Idle RSS of each face and memory per session.

    python bench/bench_memory.py [--sessions 200] [--turns 3]

Idle: RSS (``VmRSS`` from /proc) of ``victor-server lsp|mcp|acp`` after ``initialize`` and one
request that builds the core (config, store, prompts, tools; keyword selection, so no embedding
model), beside the bare framework servers doing the same, measured in one run. The table says
whether numpy or tokenizers are mapped into the process (/proc/PID/maps): the goal (< 80 MB) is
without embeddings loaded.

Per session: one ``victor-server lsp`` with the ``scripted`` provider (no network); after 20
warm-up sessions, RSS before and after ``--sessions`` more sessions of ``--turns`` turns each
(``victor/chat`` without streaming), divided by the sessions. It is what a long-running server
keeps per session in memory (history lives in SQLite; caches are bounded).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_startup import PY, bench_env, victor  # noqa: E402
from lsp_wire import WireClient  # noqa: E402
from ndjson_wire import ACP_INITIALIZE, MCP_INITIALIZE, NdjsonClient  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def heavy_libraries(pid: int) -> str:
    maps = Path(f"/proc/{pid}/maps").read_text()
    loaded = [name for name in ("numpy", "tokenizers", "safetensors") if f"/{name}" in maps]
    return ", ".join(loaded) or "none"


def idle(workspace: Path) -> list[tuple[str, float, float, str]]:
    rows = []
    bare = WireClient([PY, str(HERE / "bare_pygls_server.py")], env=bench_env())
    ours = WireClient(victor("lsp", workspace / "lsp"), env=bench_env())
    bare.initialize(None)
    ours.initialize(None)
    bare.request("bare/echo", {"query": "x"})
    ours.request("victor/selectTools", {"query": "read a file"})
    rows.append(("LSP (bare: pygls)", rss_mb(bare.proc.pid), rss_mb(ours.proc.pid),
                 heavy_libraries(ours.proc.pid)))
    bare.close()
    ours.close()

    mbare = NdjsonClient([PY, str(HERE / "mcp_bare_server.py")], env=bench_env())
    mours = NdjsonClient(victor("mcp", workspace / "mcp"), env=bench_env())
    for client in (mbare, mours):
        client.request("initialize", MCP_INITIALIZE)
        client.send("notifications/initialized", None, notify=True)
        client.request("tools/call", {"name": "select_tools", "arguments": {"query": "read"}})
    rows.append(("MCP (bare: MCPServer)", rss_mb(mbare.proc.pid), rss_mb(mours.proc.pid),
                 heavy_libraries(mours.proc.pid)))
    mbare.close()
    mours.close()

    abare = NdjsonClient([PY, str(HERE / "bare_acp_agent.py")], env=bench_env())
    aours = NdjsonClient(victor("acp", workspace / "acp"), env=bench_env())
    for client in (abare, aours):
        client.request("initialize", ACP_INITIALIZE)
        client.request("session/new", {"cwd": str(workspace / "acp"), "mcpServers": []})
    rows.append(("ACP (bare: ACP SDK agent)", rss_mb(abare.proc.pid), rss_mb(aours.proc.pid),
                 heavy_libraries(aours.proc.pid)))
    abare.close()
    aours.close()
    return rows


def per_session(workspace: Path, sessions: int, turns: int) -> tuple[float, float]:
    client = WireClient(victor("lsp", workspace / "sessions"), env=bench_env())
    client.initialize(None)

    def run(count: int) -> None:
        for i in range(count):
            sid = None
            for turn in range(turns):
                params = {"message": f"turn {turn} of session {i}: read the README",
                          "stream": False, **({"sessionId": sid} if sid else {})}
                sid = client.request("victor/chat", params)["sessionId"]

    run(20)
    before = rss_mb(client.proc.pid)
    run(sessions)
    after = rss_mb(client.proc.pid)
    client.close()
    return before, after


def report(rows: list[tuple[str, float, float, str]], before: float, after: float,
           sessions: int, turns: int) -> str:
    lines = ["Idle RSS after `initialize` and one request that builds the core (keyword "
             "selection); one run.", "",
             "| face | bare framework MB | victor-server MB | goal < 80 MB | numpy/tokenizers "
             "mapped |", "|---|---|---|---|---|"]
    for face, bare, ours, heavy in rows:
        lines.append(f"| {face} | {bare:.1f} | {ours:.1f} | {'met' if ours < 80 else 'not met'} "
                     f"| {heavy} |")
    growth = (after - before) * 1024 / sessions
    lines += ["", f"Per session (`victor-server lsp`, `scripted` provider): {sessions} sessions x "
              f"{turns} turns after 20 warm-up sessions: RSS {before:.1f} MB -> {after:.1f} MB, "
              f"{growth:.1f} KB per session.", "",
              f"Python {platform.python_version()}, {os.cpu_count()} CPUs."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("lsp", "mcp", "acp", "sessions"):
            (root / name).mkdir()
        rows = idle(root)
        before, after = per_session(root, args.sessions, args.turns)
    print(report(rows, before, after, args.sessions, args.turns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
