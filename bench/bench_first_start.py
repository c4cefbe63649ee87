"""The embedding model's first start on a machine, and every start after it: time until semantic
selection is ready, and resident memory, before and after the first-start change.

    python bench/bench_first_start.py [--runs 3] [--before 7ee8101]

Each measurement is a fresh ``python`` process with its own cache directory (``XDG_CACHE_HOME``):
empty for a first start, filled by a previous process of the same variant for a restart. It
loads the model as the server's background task does (``load_minilm``), embeds the built-in
tools' texts (what a new server embeds before semantic selection answers) and ranks one query.
``after`` loads through the server's loader (``embedding._load_default``, which also hands the
C heap's freed pages back); ``before`` through ``load_minilm`` as the server did then.

* ``ready``: seconds from the process's start (before any import) to that first ranked query;
* ``int8``: seconds until queries run on the int8 graph (the old code builds it before the model
  counts as loaded; the new code builds it in a child while the tools embed);
* ``RSS``: resident memory once ready and once the int8 graph is in use;
* ``onnx``: whether the process imported ``onnx``.

``before`` is ``minilm_onnx.py`` as of ``--before`` (read with ``git show``), run on the same
weights and the same ``minilm.py``; ``after`` is the working tree. Variants alternate run by
run; figures are medians.

Then the servers themselves (working tree, model cache filled): ``victor-server lsp`` and
``mcp`` with hybrid selection, asked to select tools until the answer no longer says the model
is loading, and their RSS read from /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

PROBE = r"""
import time
started = time.monotonic()
import importlib.util, json, sys
from pathlib import Path
from typing import Any

def rss():
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024

from victor_server.selection import minilm
if len(sys.argv) > 1:  # the old engine, from a file
    spec = importlib.util.spec_from_file_location("old_minilm_onnx", sys.argv[1])
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    sys.modules["victor_server.selection.minilm_onnx"] = old
if len(sys.argv) > 1:
    model = minilm.load_minilm()
else:  # as the server loads it now: then the C heap's freed pages go back
    from victor_server.selection.embedding import _load_default
    model = _load_default()
from victor_server.selection.coordinator import tool_views
from victor_server.tools.coordinator import builtin_tools
texts = [t for tool in builtin_tools({}) for t in tool_views(tool.spec)]
vectors = model.encode(texts)
(vectors @ model.encode_query("show me what is in setup.cfg")).argmax()
ready, ready_rss = time.monotonic() - started, rss()
waiter = getattr(model, "wait_for_query_model", None)
if waiter is not None:
    waiter()
print(json.dumps({"ready": ready, "ready_rss": ready_rss, "int8": time.monotonic() - started,
                  "int8_rss": rss(), "onnx": "onnx" in sys.modules,
                  "quantized": bool(model.quantized_queries)}))
"""


def measure(cache: Path, old: Path | None) -> dict[str, float]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    command = [sys.executable, "-c", PROBE, *([str(old)] if old else [])]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT,
                          timeout=900, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def server_rss(cache: Path, face: str, workspace: Path) -> tuple[float, float]:
    """(seconds until selection answered without the keyword fallback, RSS MB then)."""
    import time

    from bench_memory import rss_mb
    from bench_startup import PY, bench_env
    from lsp_wire import WireClient
    from ndjson_wire import MCP_INITIALIZE, NdjsonClient

    workspace.mkdir(parents=True, exist_ok=True)
    env = {**bench_env(), "VICTOR_TOOL_SELECTION__STRATEGY": "hybrid",
           "XDG_CACHE_HOME": str(cache)}
    command = [PY, "-m", "victor_server", face, "--workspace", str(workspace), "--db",
               str(workspace / "bench.db")]
    started = time.monotonic()
    client: Any
    if face == "lsp":
        client = WireClient(command, env=env)
        client.initialize(None)

        def select() -> Any:
            return client.request("victor/selectTools", {"query": "read a file"}).get("fallback")
    else:
        client = NdjsonClient(command, env=env)
        client.request("initialize", MCP_INITIALIZE)
        client.send("notifications/initialized", None, notify=True)

        def select() -> Any:
            answer = client.request("tools/call", {"name": "select_tools",
                                                   "arguments": {"query": "read a file"}})
            return answer["structuredContent"].get("fallback")
    try:
        while select() is not None and time.monotonic() - started < 300:
            time.sleep(0.25)
        return time.monotonic() - started, rss_mb(client.proc.pid)
    finally:
        client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", default="7ee8101")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp, "old_minilm_onnx.py")
        old.write_text(subprocess.run(
            ["git", "show", f"{args.before}:victor_server/selection/minilm_onnx.py"], cwd=ROOT,
            capture_output=True, text=True, check=True).stdout)
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for run in range(args.runs):
            for variant, engine in (("before", old), ("after", None)):
                cache = Path(tmp, f"{variant}-{run}")
                for start in ("first start", "restart"):
                    results.setdefault((variant, start), []).append(measure(cache, engine))
        servers = [(face, *server_rss(Path(tmp, "after-0"), face, Path(tmp, f"ws-{face}")))
                   for face in ("lsp", "mcp")]
    print(f"{args.runs} runs per row, medians; built-in tools embedded (15 texts).\n")
    print("| code | start | ready | int8 queries from | RSS ready | RSS with int8 | onnx "
          "imported |")
    print("|---|---|---:|---:|---:|---:|---|")
    for start in ("first start", "restart"):
        for variant in ("before", "after"):
            rows = results[(variant, start)]

            def median(key: str, rows: list[dict[str, float]] = rows) -> float:
                return statistics.median(float(r[key]) for r in rows)

            print(f"| {variant} | {start} | {median('ready'):.1f} s | {median('int8'):.1f} s | "
                  f"{median('ready_rss'):.0f} MB | {median('int8_rss'):.0f} MB | "
                  f"{'yes' if rows[0]['onnx'] else 'no'} |")
    print("\n| server (cache filled) | semantic selection ready | RSS then |")
    print("|---|---:|---:|")
    for face, took, rss in servers:
        print(f"| `victor-server {face}` | {took:.1f} s | {rss:.0f} MB |")
    print(f"\nLoad average {os.getloadavg()[0]:.1f} at the end.")


if __name__ == "__main__":
    main()
