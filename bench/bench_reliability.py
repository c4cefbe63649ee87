"""Memory under a flood of unread requests, and time to exit per signal, on every face.

    python bench/bench_reliability.py flood   [--count 20000] [--runs 3] [--code DIR]
    python bench/bench_reliability.py signals [--runs 5] [--code DIR]

``flood``: per face, ``--count`` requests of about 1 KiB each are written while the client
reads nothing (``tests/support/wire_flood.py``); the server's RSS (``VmRSS``) is sampled throughout.
Reported: the baseline after warm-up, the peak, the growth, and how many requests the server
took before the client's writes blocked (all of them means it never pushed back). Then the
client reads again and every request must be answered. Medians over ``--runs``.

``signals``: per face (``lsp``, ``mcp``, ``acp``, ``mcp --http``, ``dashboard``) and per stop
(SIGINT, SIGTERM, SIGHUP, stdin EOF), after one chat turn (the dashboard: once it listens),
the milliseconds from the signal to the process's exit, and its exit status; a process still
alive after 10 s is reported as such and killed. Medians over ``--runs``.

``--code DIR`` runs another checkout's ``victor_server`` (``PYTHONPATH=DIR``, same
dependencies), e.g. the tree before the wire limits, for the "before" column:
``git archive <commit> | tar -x -C /tmp/before``.
"""

from __future__ import annotations

import argparse
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))
sys.path.insert(0, str(HERE.parent / "tests"))  # the shutdown suite's helpers
from rpc_wire import WireServer  # noqa: E402
from server_env import server_env  # noqa: E402
from wire_flood import drain, flood_unread  # noqa: E402

PAD = "x" * 1000
FLOOD: dict[str, tuple[str, Any]] = {
    "lsp": ("victor/session/list", {"limit": 1, "pad": PAD}),
    "mcp": ("ping", {"_meta": {"pad": PAD}}),
    "acp": ("session/list", {"pad": PAD}),
}
STOPS = ["SIGINT", "SIGTERM", "SIGHUP", "EOF"]
ENV = {"VICTOR_PROVIDER": "scripted", "VICTOR_ANALYTICS_EXPORT_INTERVAL": "3600"}


def code_env(code: Path | None, root: Path) -> dict[str, str]:
    env = {**ENV, "XDG_CACHE_HOME": str(root / "cache")}
    if code is not None:
        env["PYTHONPATH"] = str(code)
    return env


def new_workspace(root: Path) -> Path:
    workspace = Path(tempfile.mkdtemp(dir=root)) / "project"
    (workspace / ".victor").mkdir(parents=True)
    return workspace


def flood_once(face: str, count: int, code: Path | None, root: Path) -> dict[str, Any]:
    method, params = FLOOD[face]
    with WireServer(face, new_workspace(root), code_env(code, root)) as server:
        server.initialize()
        for _ in range(5):
            server.request(method, params)
        flood = flood_unread(server, count, method, params, settle_seconds=5.0)
        answered = len(drain(server, flood, timeout=600))
        return {"baseline": flood.baseline_kib / 1024, "peak": flood.peak_kib / 1024,
                "growth": flood.growth_mib, "taken": flood.taken, "answered": answered,
                "alive": server.alive}


def bench_flood(args: argparse.Namespace, root: Path) -> None:
    print(f"{args.count} unread requests of ~1 KiB; RSS in MiB; median of {args.runs}")
    print("| face | baseline | peak | growth | requests taken before the client blocked "
          "| answered after reading resumed |")
    print("|---|---|---|---|---|---|")
    for face in ("lsp", "mcp", "acp"):
        runs = [flood_once(face, args.count, args.code, root) for _ in range(args.runs)]
        med = {k: statistics.median(r[k] for r in runs) for k in
               ("baseline", "peak", "growth", "taken", "answered")}
        print(f"| {face} | {med['baseline']:.0f} | {med['peak']:.0f} | {med['growth']:.0f} "
              f"| {med['taken']:.0f} of {args.count} | {med['answered']:.0f} "
              f"{'' if all(r['alive'] for r in runs) else '(server died)'} |", flush=True)


def stop(proc: subprocess.Popen[bytes], how: str) -> tuple[int | None, float]:
    started = time.monotonic()
    if how == "EOF":
        assert proc.stdin is not None
        proc.stdin.close()
    else:
        proc.send_signal(getattr(signal, how))
    try:
        status: int | None = proc.wait(10)
    except subprocess.TimeoutExpired:
        status = None
        proc.kill()
        proc.wait()
    return status, (time.monotonic() - started) * 1000


def stdio_stop(face: str, how: str, code: Path | None, root: Path) -> tuple[int | None, float]:
    from test_shutdown_signals import run_turn

    server = WireServer(face, new_workspace(root), code_env(code, root))
    try:
        run_turn(server)
        return stop(server.proc, how)
    finally:
        if server.alive:
            server.kill()


def http_stop(how: str, code: Path | None, root: Path) -> tuple[int | None, float]:
    import asyncio

    from mcp_face_harness import free_port
    from test_shutdown_signals import chat_over_http, wait_listening

    workspace = new_workspace(root)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "victor_server", "mcp", "--http", "--port", str(port),
         "--workspace", str(workspace)], env=server_env(code_env(code, root)),
        cwd=str(workspace), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    wait_listening(proc, port)
    asyncio.run(chat_over_http(f"http://127.0.0.1:{port}/mcp"))
    return stop(proc, how)


def dashboard_stop(how: str, code: Path | None, root: Path) -> tuple[int | None, float]:
    workspace = new_workspace(root)
    proc = subprocess.Popen(
        [sys.executable, "-m", "victor_server", "dashboard", "--port", "0", "--workspace",
         str(workspace)], env=server_env(code_env(code, root)), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    proc.stderr.readline()  # "victor-server dashboard on http://...": it listens
    return stop(proc, how)


def bench_signals(args: argparse.Namespace, root: Path) -> None:
    print(f"milliseconds from the signal to the exit (exit status); median of {args.runs}")
    print("| face | " + " | ".join(STOPS) + " |")
    print("|---|" + "---|" * len(STOPS))
    for face in ("lsp", "mcp", "acp", "mcp --http", "dashboard"):
        cells = []
        for how in STOPS:
            if how == "EOF" and face in ("mcp --http", "dashboard"):
                cells.append("n/a")
                continue
            results = []
            for _ in range(args.runs):
                if face == "mcp --http":
                    results.append(http_stop(how, args.code, root))
                elif face == "dashboard":
                    results.append(dashboard_stop(how, args.code, root))
                else:
                    results.append(stdio_stop(face, how, args.code, root))
            statuses = sorted({str(s) if s is not None else "alive after 10 s"
                               for s, _ in results})
            exited = [ms for s, ms in results if s is not None]
            time_cell = f"{statistics.median(exited):.0f}" if exited else "-"
            cells.append(f"{time_cell} ({', '.join(statuses)})")
        print(f"| {face} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["flood", "signals"])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--code", type=Path, default=None)
    args = parser.parse_args()
    if args.code is not None:
        args.code = args.code.resolve()
    with tempfile.TemporaryDirectory(prefix="victor-bench-reliability-") as tmp:
        socket.setdefaulttimeout(60)
        (bench_flood if args.what == "flood" else bench_signals)(args, Path(tmp))


if __name__ == "__main__":
    main()
