"""Start-up against a peer: ``victor-ai`` 0.9.5's ``victor mcp --stdio`` vs ``victor-server mcp``
(and the bare ``MCPServer`` for scale), spawn to the MCP ``initialize`` answer.

    python bench/bench_victor_ai.py [--runs 7] [--venv /tmp/victor-ai-venv] [--install]

victor-ai lives in its own virtualenv under /tmp (``--install`` creates it with
``pip install victor-ai==0.9.5``) so it cannot disturb this environment. What it does on start
(read from its source, ``victor/ui/commands/mcp.py``): imports every module under
``victor/tools`` to register its tools, then serves newline-delimited JSON-RPC on stdio. It writes
under ``$HOME/.victor`` and ``$HOME/audit``, so it runs with ``HOME`` set to a temporary
directory, no API keys in its environment, and ``HTTP(S)_PROXY`` pointed at a closed loopback
port so anything networked stays on 127.0.0.1. Its message model requires string ids (an integer
``id`` is answered with -32700), so this client sends string ids to all three servers.

victor-server is measured twice: with its start-up cache warm (every start after the first
on a machine: ``initialize`` is answered from ``~/.cache/victor-server`` while the MCP SDK
imports, see ``victor_server/adapters/mcp_fast_start.py``) and with an empty cache per run (the
first start ever, which waits for the SDK like the bare server).

Runs alternate (victor-ai, victor-server, bare, then the reverse order), medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_startup import PY, bench_env, victor  # noqa: E402
from ndjson_wire import MCP_INITIALIZE, NdjsonClient  # noqa: E402

VERSION = "0.9.5"
LOOPBACK_PROXY = "http://127.0.0.1:9"


def install(venv: Path) -> str | None:
    """Create the venv and install victor-ai; None on success, else why not."""
    try:
        subprocess.run([PY, "-m", "venv", str(venv)], check=True, capture_output=True)
        done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q",
                               f"victor-ai=={VERSION}"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"creating {venv} failed: {exc}"
    if done.returncode != 0:
        return f"pip install victor-ai=={VERSION} failed: {done.stderr.strip()[-400:]}"
    return None


def peer_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VICTOR_", "ANTHROPIC_", "OPENAI_"))}
    env.update(HOME=str(home), HTTP_PROXY=LOOPBACK_PROXY, HTTPS_PROXY=LOOPBACK_PROXY,
               http_proxy=LOOPBACK_PROXY, https_proxy=LOOPBACK_PROXY, NO_PROXY="", no_proxy="")
    return env


def start(command: list[str], env: dict[str, str], cwd: str) -> float:
    began = time.perf_counter()
    client = NdjsonClient(command, env=env, cwd=cwd)
    result = client.request("initialize", MCP_INITIALIZE, string_ids=True)
    elapsed = time.perf_counter() - began
    assert "serverInfo" in result, result
    client.proc.kill()
    client.proc.wait()
    return elapsed


def measure(runs: int, venv: Path) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home = root / "home"
        home.mkdir()
        ours_ws = root / "ours"
        ours_ws.mkdir()
        warm_cache = root / "cache-warm"
        commands = {
            "victor-ai": ([str(venv / "bin" / "victor"), "mcp", "--stdio"], peer_env(home)),
            "victor-server": (victor("mcp", ours_ws),
                              {**bench_env(), "XDG_CACHE_HOME": str(warm_cache)}),
            "victor-server-cold": (victor("mcp", ours_ws), bench_env()),
            "bare": ([PY, str(HERE / "mcp_bare_server.py")], bench_env()),
        }
        start(*commands["victor-server"], str(home))  # the first start fills the warm cache
        times: dict[str, list[float]] = {name: [] for name in commands}
        for run in range(runs):
            names = list(commands) if run % 2 == 0 else list(reversed(commands))
            for name in names:
                command, env = commands[name]
                if name == "victor-server-cold":  # an empty cache every run
                    env = {**env, "XDG_CACHE_HOME": str(root / f"cache-cold-{run}")}
                times[name].append(start(command, env, str(home)))
    return times


def report(times: dict[str, list[float]], runs: int) -> str:
    med = {name: statistics.median(values) * 1000 for name, values in times.items()}
    speedup = med["victor-ai"] / med["victor-server"]
    return "\n".join([
        f"Spawn to the MCP `initialize` answer, {runs} fresh processes each, alternating; "
        "medians.", "",
        "| server | median ms | min ms |", "|---|---|---|",
        f"| `victor-ai` {VERSION} `victor mcp --stdio` | {med['victor-ai']:.0f} | "
        f"{min(times['victor-ai']) * 1000:.0f} |",
        f"| `victor-server mcp` (start-up cache warm) | {med['victor-server']:.0f} | "
        f"{min(times['victor-server']) * 1000:.0f} |",
        f"| `victor-server mcp` (first start, empty cache) | {med['victor-server-cold']:.0f} | "
        f"{min(times['victor-server-cold']) * 1000:.0f} |",
        f"| bare `MCPServer` (scale) | {med['bare']:.0f} | {min(times['bare']) * 1000:.0f} |", "",
        f"victor-server answers `initialize` {speedup:.2f}x faster than victor-ai "
        f"(goal 5x: {'met' if speedup >= 5 else 'not met'}); on its first start ever, with an "
        f"empty cache, it waits for the MCP SDK's import like the bare `MCPServer` "
        f"({med['bare']:.0f} ms) and is {med['victor-ai'] / med['victor-server-cold']:.2f}x "
        f"faster. Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end."])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/victor-ai-venv"))
    parser.add_argument("--install", action="store_true", help="create the venv if missing")
    args = parser.parse_args()
    if not (args.venv / "bin" / "victor").exists():
        why = install(args.venv) if args.install else f"{args.venv} has no victor-ai; --install"
        if why:
            print(f"victor-ai {VERSION} could not be run: {why}")
            return 0
    print(report(measure(args.runs, args.venv), args.runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
