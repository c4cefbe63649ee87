"""Cold start of each face to its ``initialize`` answer, and per-request overhead, against the
bare framework doing nothing; side by side in one run.

    python bench/bench_startup.py [--runs 15] [--requests 300]

Cold start: spawn -> ``initialize`` answer, for LSP (bare pygls, ``bench/bare_pygls_server.py``),
MCP (bare ``MCPServer``, ``bench/mcp_bare_server.py``) and ACP (bare agent on the same SDK,
``bench/bare_acp_agent.py``) against ``victor-server lsp|mcp|acp``. Each run spawns all six in
turn, bare first on even runs and victor first on odd ones, so load drift hits both alike. The
clients are raw stdio writers (``lsp_wire``, ``ndjson_wire``), identical for both sides.

Per request: median round trip of ``victor/selectTools`` (keyword strategy) and
``victor/session/get`` (a session with two messages) against pygls' ``bare/echo``, and over MCP
of the ``select_tools`` / ``get_session`` tools against the bare server's ``select_tools``;
requests interleave (bare, ours, ours, bare, ...) on long-lived processes after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lsp_wire import WireClient
from ndjson_wire import ACP_INITIALIZE, MCP_INITIALIZE, NdjsonClient

HERE = Path(__file__).resolve().parent
PY = sys.executable


def bench_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VICTOR_", "ANTHROPIC_", "OPENAI_"))}
    env.update(VICTOR_PROVIDER="scripted", VICTOR_TOOL_SELECTION__STRATEGY="keyword")
    return env


def victor(face: str, workspace: Path) -> list[str]:
    return [PY, "-m", "victor_server", face, "--workspace", str(workspace),
            "--db", str(workspace / "bench.db")]


def start_lsp(command: list[str]) -> float:
    began = time.perf_counter()
    client = WireClient(command, env=bench_env())
    client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    elapsed = time.perf_counter() - began
    client.proc.kill()
    client.proc.wait()
    return elapsed


def start_ndjson(command: list[str], params: dict[str, Any],
                 env: dict[str, str] | None = None) -> float:
    began = time.perf_counter()
    client = NdjsonClient(command, env=env or bench_env())
    client.request("initialize", params)
    elapsed = time.perf_counter() - began
    client.proc.kill()
    client.proc.wait()
    return elapsed


def empty_cache_env() -> dict[str, str]:
    """An MCP start as on first use: no recorded ``initialize`` answer (mcp_fast_start)."""
    return {**bench_env(), "XDG_CACHE_HOME": tempfile.mkdtemp(prefix="victor-cache-")}


def cold_starts(runs: int, workspace: Path) -> dict[str, dict[str, list[float]]]:
    warm = {**bench_env(), "XDG_CACHE_HOME": str(workspace / "cache-warm")}
    start_ndjson(victor("mcp", workspace), MCP_INITIALIZE, warm)  # records the answer
    cases: dict[str, dict[str, Callable[[], float]]] = {
        "LSP": {"bare": lambda: start_lsp([PY, str(HERE / "bare_pygls_server.py")]),
                "victor": lambda: start_lsp(victor("lsp", workspace))},
        "MCP": {"bare": lambda: start_ndjson([PY, str(HERE / "mcp_bare_server.py")],
                                             MCP_INITIALIZE),
                "victor": lambda: start_ndjson(victor("mcp", workspace), MCP_INITIALIZE,
                                               empty_cache_env())},
        "MCP, start-up cache warm": {
            "bare": lambda: start_ndjson([PY, str(HERE / "mcp_bare_server.py")],
                                         MCP_INITIALIZE),
            "victor": lambda: start_ndjson(victor("mcp", workspace), MCP_INITIALIZE, warm)},
        "ACP": {"bare": lambda: start_ndjson([PY, str(HERE / "bare_acp_agent.py")],
                                             ACP_INITIALIZE),
                "victor": lambda: start_ndjson(victor("acp", workspace), ACP_INITIALIZE)},
    }
    times: dict[str, dict[str, list[float]]] = {f: {"bare": [], "victor": []} for f in cases}
    for run in range(runs):
        order = ("bare", "victor") if run % 2 == 0 else ("victor", "bare")
        for face, sides in cases.items():
            for side in order:
                times[face][side].append(sides[side]())
    return times


def timed(call: Callable[[], Any]) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def interleave(calls: dict[str, Callable[[], Any]], count: int) -> dict[str, list[float]]:
    for call in calls.values():  # warm-up: the first call builds the core
        for _ in range(5):
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    names = list(calls)
    for i in range(count):
        for name in names if i % 2 == 0 else reversed(names):
            times[name].append(timed(calls[name]))
    return times


def lsp_requests(count: int, workspace: Path) -> dict[str, list[float]]:
    bare = WireClient([PY, str(HERE / "bare_pygls_server.py")], env=bench_env())
    ours = WireClient(victor("lsp", workspace), env=bench_env())
    try:
        bare.initialize(None)
        ours.initialize(workspace.as_uri())
        session = ours.request("victor/chat", {"message": "hello", "stream": False})["sessionId"]
        return interleave({
            "echo": lambda: bare.request("bare/echo", {"query": "read a file"}),
            "select": lambda: ours.request("victor/selectTools", {"query": "read a file"}),
            "get": lambda: ours.request("victor/session/get", {"sessionId": session}),
        }, count)
    finally:
        bare.close()
        ours.close()


def mcp_requests(count: int, workspace: Path) -> dict[str, list[float]]:
    bare = NdjsonClient([PY, str(HERE / "mcp_bare_server.py")], env=bench_env())
    ours = NdjsonClient(victor("mcp", workspace), env=bench_env())

    def tool(client: NdjsonClient, name: str, arguments: dict[str, Any]) -> Any:
        result = client.request("tools/call", {"name": name, "arguments": arguments})
        assert not result.get("isError"), result
        return result

    try:
        for client in (bare, ours):
            client.request("initialize", MCP_INITIALIZE)
            client.send("notifications/initialized", None, notify=True)
        chat = tool(ours, "chat", {"message": "hello"})
        session = chat["structuredContent"]["session_id"]
        query = {"query": "read a file", "max_tools": 5}
        return interleave({
            "bare": lambda: tool(bare, "select_tools", query),
            "select": lambda: tool(ours, "select_tools", query),
            "get": lambda: tool(ours, "get_session", {"session_id": session}),
        }, count)
    finally:
        bare.close()
        ours.close()


def ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def report(starts: dict[str, dict[str, list[float]]], lsp: dict[str, list[float]],
           mcp: dict[str, list[float]], runs: int, requests: int) -> str:
    lines = [f"Cold start, spawn to the `initialize` answer: {runs} fresh processes per row, "
             "alternating bare and victor-server; medians.", "",
             "| face | bare framework ms | victor-server ms | ratio (goal <= 1.3x) |",
             "|---|---|---|---|"]
    bare_names = {"LSP": "pygls `LanguageServer`", "MCP": "`MCPServer`", "ACP": "ACP SDK agent",
                  "MCP, start-up cache warm": "`MCPServer`"}
    for face, sides in starts.items():
        b, v = ms(sides["bare"]), ms(sides["victor"])
        lines.append(f"| {face} (bare: {bare_names[face]}) | {b:.0f} | {v:.0f} | {v / b:.2f}x |")
    lines += ["", "The MCP row starts with an empty start-up cache, as on first use, so it waits "
              "for the MCP SDK's import like the bare server; on every later start `initialize` is "
              "answered from the cache while the SDK imports (the warm row; "
              "`victor_server/adapters/mcp_fast_start.py`)."]
    lines += ["", f"Per request over stdio, {requests} interleaved round trips each after a "
              "warm-up; keyword selection over the built-in tools; medians.", "",
              "| request | bare ms | victor-server ms | ratio (goal <= 1.5x) "
              "| p90 bare / ours ms |",
              "|---|---|---|---|---|"]

    def p90(values: list[float]) -> float:
        return statistics.quantiles(values, n=10)[-1] * 1000

    for label, bare, ours in [
            ("LSP `victor/selectTools` (bare: `bare/echo`)", lsp["echo"], lsp["select"]),
            ("LSP `victor/session/get` (bare: `bare/echo`)", lsp["echo"], lsp["get"]),
            ("MCP `select_tools` (bare: fixed `select_tools`)", mcp["bare"], mcp["select"]),
            ("MCP `get_session` (bare: fixed `select_tools`)", mcp["bare"], mcp["get"])]:
        lines.append(f"| {label} | {ms(bare):.2f} | {ms(ours):.2f} | {ms(ours) / ms(bare):.2f}x "
                     f"| {p90(bare):.2f} / {p90(ours):.2f} |")
    lines += ["", f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f} at the end."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("start", "lsp", "mcp"):
            (root / name).mkdir()
        starts = cold_starts(args.runs, root / "start")
        lsp = lsp_requests(args.requests, root / "lsp")
        mcp = mcp_requests(args.requests, root / "mcp")
    print(report(starts, lsp, mcp, args.runs, args.requests))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
