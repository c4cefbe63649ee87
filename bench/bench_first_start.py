"""The embedding model's first start on a machine and every start after it, before and after a
change: time until semantic selection is ready, where that time goes, and resident memory.

    python bench/bench_first_start.py [--runs 3] [--server-runs 2] [--before acdd834]

``before`` is the package as of ``--before`` (extracted with ``git archive`` into a temporary
directory and put first on ``PYTHONPATH``), ``after`` the working tree; both run on this
interpreter, the same installed libraries and the same weights. Variants alternate run by run;
figures are medians.

Model: each measurement is a fresh ``python`` process with its own cache directory
(``XDG_CACHE_HOME``): empty for a first start, filled by a previous process of the same variant
for a restart. It loads the model through the server's loader (``embedding._load_default``),
embeds the built-in tools' texts (what a new server embeds before semantic selection answers)
and ranks one query.

* ``ready``: seconds from the process's start (before any import) to that first ranked query,
  split into imports (numpy, tokenizers, onnxruntime), loading the model, embedding the tools
  and the query;
* ``int8``: seconds until queries run on the int8 graph (built by a child on a first start);
* ``RSS``: resident memory once ready and once the int8 graph is in use (the float32 graph is let
  go then in ``after``); ``onnx``: whether the process imported ``onnx``.

Servers: ``victor-server lsp`` and ``mcp`` with hybrid selection, asked to select tools every
0.1 s until the answer no longer says the model is loading. ``first start``: empty model cache
and a new workspace (the tools are embedded); ``restart``: the same cache and workspace (tool
vectors from the store). ``RSS ready`` is read then; ``RSS settled`` once the int8 graph is on
disk and one more selection has run (so it is in use).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

PROBE = r"""
import time
started = time.monotonic()
import json, sys
from pathlib import Path

def rss():
    return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) / 1024

import numpy, tokenizers, onnxruntime
imported = time.monotonic()
from victor_server.selection.embedding import _load_default
model = _load_default()
loaded = time.monotonic()
from victor_server.selection.coordinator import tool_views
from victor_server.tools.coordinator import builtin_tools
texts = [t for tool in builtin_tools({}) for t in tool_views(tool.spec)]
vectors = model.encode(texts)
embedded = time.monotonic()
(vectors @ model.encode_query("show me what is in setup.cfg")).argmax()
ready, ready_rss = time.monotonic(), rss()
waiter = getattr(model, "wait_for_query_model", None)
if waiter is not None:
    waiter()
model.encode_query("show me what is in setup.py")
print(json.dumps({"ready": ready - started, "imports": imported - started,
                  "load": loaded - imported, "embed": embedded - loaded,
                  "query": ready - embedded, "ready_rss": ready_rss,
                  "int8": time.monotonic() - started, "int8_rss": rss(),
                  "onnx": "onnx" in sys.modules, "texts": len(texts),
                  "quantized": bool(model.quantized_queries)}))
"""


def variant_env(cache: Path, tree: Path | None) -> dict[str, str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache)}
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tree), env.get("PYTHONPATH")]))
    return env


def measure(cache: Path, tree: Path | None) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", PROBE], env=variant_env(cache, tree),
                          capture_output=True, text=True, cwd=cache.parent, timeout=900,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def server(cache: Path, tree: Path | None, face: str, workspace: Path) -> dict[str, float]:
    """Seconds until selection answered without the keyword fallback, RSS then and settled."""
    from bench_memory import rss_mb
    from bench_startup import PY, bench_env
    from lsp_wire import WireClient
    from ndjson_wire import MCP_INITIALIZE, NdjsonClient

    workspace.mkdir(parents=True, exist_ok=True)
    env = {**variant_env(cache, tree), **bench_env(), "XDG_CACHE_HOME": str(cache),
           "VICTOR_TOOL_SELECTION__STRATEGY": "hybrid"}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    command = [PY, "-m", "victor_server", face, "--workspace", str(workspace), "--db",
               str(workspace / "bench.db")]
    started = time.monotonic()
    client: Any
    if face == "lsp":
        client = WireClient(command, env=env, cwd=str(workspace))
        client.initialize(None)

        def select() -> Any:
            return client.request("victor/selectTools", {"query": "read a file"}).get("fallback")
    else:
        client = NdjsonClient(command, env=env, cwd=str(workspace))
        client.request("initialize", MCP_INITIALIZE)
        client.send("notifications/initialized", None, notify=True)

        def select() -> Any:
            answer = client.request("tools/call", {"name": "select_tools",
                                                   "arguments": {"query": "read a file"}})
            return answer["structuredContent"].get("fallback")
    try:
        while select() is not None and time.monotonic() - started < 300:
            time.sleep(0.1)
        ready, ready_rss = time.monotonic() - started, rss_mb(client.proc.pid)
        models = cache / "victor-server" / "models"
        deadline = time.monotonic() + 300
        while not list(models.glob("*int8*.onnx")) and time.monotonic() < deadline:
            time.sleep(0.25)
        while _children(client.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.25)  # the quantising child has exited: int8 is taken up
        time.sleep(0.5)
        return {"ready": ready, "ready_rss": ready_rss, "settled_rss": rss_mb(client.proc.pid)}
    finally:
        client.close()


def _children(pid: int) -> list[str]:
    """The process's children, whichever of its threads started them (the model loads in a
    worker thread, which starts the int8 build's child)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += (task / "children").read_text().split()
        except OSError:
            continue
    return [child for child in found if _state(child) not in ("Z", "X", "")]


def _state(pid: str) -> str:
    """A process's state letter; a zombie ("Z": exited, not yet reaped) counts as gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--server-runs", type=int, default=2)
    parser.add_argument("--before", default="acdd834")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp, "before")
        old.mkdir()
        archive = subprocess.run(["git", "archive", args.before, "victor_server"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        variants = (("before", old), ("after", None))
        model: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for run in range(args.runs):
            for variant, tree in variants:
                cache = Path(tmp, f"{variant}-{run}")
                for start in ("first start", "restart"):
                    model.setdefault((variant, start), []).append(measure(cache, tree))
        servers: dict[tuple[str, str, str], list[dict[str, float]]] = {}
        for run in range(args.server_runs):
            for face in ("lsp", "mcp"):
                for variant, tree in variants:
                    cache, workspace = Path(tmp, f"s-{variant}-{face}-{run}"), \
                        Path(tmp, f"ws-{variant}-{face}-{run}")
                    for start in ("first start", "restart"):
                        servers.setdefault((face, start, variant), []).append(
                            server(cache, tree, face, workspace))
    texts = model[("after", "first start")][0]["texts"]
    print(f"`before` = {args.before}, `after` = this tree. Model: {args.runs} runs per row, "
          f"medians; the built-in tools' {texts} texts embedded.\n")
    print("| start | code | ready | imports | load | embed tools | query | int8 queries from "
          "| RSS ready | RSS with int8 | onnx imported |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for start in ("first start", "restart"):
        for variant, _ in variants:
            rows = model[(variant, start)]
            print(f"| {start} | {variant} | {median(rows, 'ready'):.2f} s | "
                  f"{median(rows, 'imports'):.2f} | {median(rows, 'load'):.2f} | "
                  f"{median(rows, 'embed'):.2f} | {median(rows, 'query'):.2f} | "
                  f"{median(rows, 'int8'):.1f} s | {median(rows, 'ready_rss'):.0f} MB | "
                  f"{median(rows, 'int8_rss'):.0f} MB | {'yes' if rows[0]['onnx'] else 'no'} |")
    print(f"\nServers, hybrid selection, {args.server_runs} runs per row, medians:\n")
    print("| server | start | code | semantic selection ready | RSS ready | RSS settled "
          "(int8 in use) | goal < 250 MB |")
    print("|---|---|---|---:|---:|---:|---|")
    for (face, start, variant), rows in servers.items():
        settled = median(rows, "settled_rss")
        print(f"| `victor-server {face}` | {start} | {variant} | {median(rows, 'ready'):.1f} s | "
              f"{median(rows, 'ready_rss'):.0f} MB | {settled:.0f} MB | "
              f"{'met' if settled < 250 else 'not met'} |")
    print(f"\nLoad average {os.getloadavg()[0]:.1f} at the end.\n")
    settled = {face: median(servers[(face, "first start", "after")], "settled_rss")
               for face in ("lsp", "mcp")}
    print(f"Goal: servers under 250 MB RSS after the model loads: "
          f"{'met' if max(settled.values()) < 250 else 'not met'} (settled, first start: lsp "
          f"{settled['lsp']:.0f} MB, mcp {settled['mcp']:.0f} MB).")
    first = model[("after", "first start")]
    ready = median(first, "ready")
    lsp_ready = median(servers[("lsp", "first start", "after")], "ready")
    print(f"Goal: semantic selection ready within 3 s of a first start: "
          f"{'met' if lsp_ready <= 3 else 'not met on this run'} (model alone {ready:.1f} s: "
          f"imports {median(first, 'imports'):.1f}, load {median(first, 'load'):.1f}, tools "
          f"{median(first, 'embed'):.1f}; `victor-server lsp` {lsp_ready:.1f} s from spawn, "
          f"load average {os.getloadavg()[0]:.1f}).")


if __name__ == "__main__":
    main()
