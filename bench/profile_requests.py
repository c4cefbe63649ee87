"""A py-spy profile of the slowest non-model request path: MCP ``select_tools`` over stdio.

    python bench/profile_requests.py [--seconds 8] [--out docs/profile-mcp-select-tools]

Starts ``victor-server mcp`` (keyword selection), warms it up, then samples it with py-spy
(``record --nonblocking``, 1 kHz) while this process sends ``select_tools`` calls back to back.
Writes ``<out>.svg`` (flame graph) and ``<out>.txt`` (the frames with the largest inclusive
share of samples, from py-spy's collapsed stacks). Needs ``py-spy`` (``pip install py-spy``);
without it, says so and exits 0.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_startup import bench_env, victor  # noqa: E402
from ndjson_wire import MCP_INITIALIZE, NdjsonClient  # noqa: E402

CALL = {"name": "select_tools", "arguments": {"query": "read a file", "max_tools": 5}}


def record(fmt: str, output: Path, seconds: int, workspace: Path) -> tuple[int, float]:
    client = NdjsonClient(victor("mcp", workspace), env=bench_env())
    try:
        client.request("initialize", MCP_INITIALIZE)
        client.send("notifications/initialized", None, notify=True)
        for _ in range(20):
            client.request("tools/call", CALL)
        spy = subprocess.Popen(["py-spy", "record", "--pid", str(client.proc.pid), "--rate",
                                "1000", "--nonblocking", "--format", fmt, "-o", str(output),
                                "--duration", str(seconds)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        calls, began = 0, time.perf_counter()
        while spy.poll() is None:
            client.request("tools/call", CALL)
            calls += 1
        return calls, (time.perf_counter() - began) / max(calls, 1) * 1000
    finally:
        client.close()


def summary(raw: Path, top: int = 45) -> str:
    total, inclusive = 0, Counter[str]()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        total += int(count)
        for frame in set(stack.split(";")):
            inclusive[frame] += int(count)
    lines = [f"{total} samples; inclusive share of each frame (the call tree flattened)"]
    lines += [f"{n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" /
                        "profile-mcp-select-tools")
    args = parser.parse_args()
    if shutil.which("py-spy") is None:
        print("py-spy is not installed (pip install py-spy); no profile written")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "stacks.txt"
        calls, per_call = record("raw", raw, args.seconds, Path(tmp))
        text = summary(raw)
        record("flamegraph", args.out.with_suffix(".svg"), args.seconds, Path(tmp))
    header = (f"py-spy record --rate 1000 of `victor-server mcp` answering MCP `select_tools` "
              f"back to back ({calls} calls, {per_call:.2f} ms each while sampled).\n"
              f"Command: python bench/profile_requests.py --seconds {args.seconds}\n\n")
    args.out.with_suffix(".txt").write_text(header + text + "\n", encoding="utf-8")
    print(f"{calls} calls at {per_call:.2f} ms each while sampled. Flame graph: "
          f"`docs/{args.out.with_suffix('.svg').name}`; top frames: "
          f"`docs/{args.out.with_suffix('.txt').name}`. Largest shares of the samples:\n")
    shown = [ln for ln in text.splitlines()[1:] if "mcp/server/stdio.py" in ln or
             ("victor_server/" in ln and "cli.py" not in ln and "__main__" not in ln
              and "adapters/mcp.py:3" not in ln)]
    print("\n".join(f"    {line.strip()}" for line in shown[:10]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
