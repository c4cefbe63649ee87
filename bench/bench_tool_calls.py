"""What one built-in tool call costs through ``ToolCoordinator.execute``, and the ratio to another
tree of the code (``--against DIR``, a directory holding a ``victor_server`` package, e.g. from
``git archive main victor_server | tar -x -C DIR``).

The calls are the common ones of a turn that needs no approval (``read``, ``ls``, ``search``)
and the two writes, on a small workspace of 50 files. Each tree runs in its own process (the
other tree through ``PYTHONPATH``), alternating, best of ``--rounds``; the ratio cancels the
machine's speed.

Run: ``.venv/bin/python bench/bench_tool_calls.py [--against DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CALLS = [("read", {"path": "src/pkg/m1.py"}, 300), ("ls", {"path": "src/pkg"}, 300),
         ("search", {"pattern": "return 7"}, 30),
         ("write", {"path": "src/pkg/new.py", "content": "x = 1\n" * 100}, 300),
         ("edit", {"path": "src/pkg/m3.py", "old": "return 3", "new": "return 3"}, 300)]


def measure() -> dict[str, float]:
    """Microseconds per call for each tool, in this process's ``victor_server``."""
    import asyncio
    import time

    from victor_server.tools.base import ToolContext
    from victor_server.tools.coordinator import ToolCoordinator

    workspace = Path(tempfile.mkdtemp()) / "ws"
    (workspace / "src" / "pkg").mkdir(parents=True)
    for i in range(50):
        (workspace / "src" / "pkg" / f"m{i}.py").write_text(f"def f():\n    return {i}\n" * 50)
    (workspace / "src" / "pkg" / "m3.py").write_text("def f():\n    return 3\n")

    async def run() -> dict[str, float]:
        # the writes run without asking, as with tools.approvals set to allow them
        coordinator = ToolCoordinator(workspace, {"approvals": {"write": "allow", "edit": "allow"}},
                                      load_plugins=False)
        ctx = ToolContext(workspace, "bench")
        out = {}
        for name, args, n in CALLS:
            result = await coordinator.execute(name, args, ctx)
            assert not result.is_error, (name, result.content)
            start = time.perf_counter()
            for _ in range(n):
                await coordinator.execute(name, args, ctx)
            out[name] = (time.perf_counter() - start) / n * 1e6
        return out

    return asyncio.run(run())


def in_process(tree: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    done = subprocess.run([sys.executable, __file__, "--child"], env=env, check=True,
                          capture_output=True, text=True)
    return dict(json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure()))
        return
    best: dict[str, dict[str, float]] = {"this": {}, "other": {}}
    for _ in range(args.rounds):
        for label, tree in (("this", None), ("other", args.against)):
            if label == "other" and tree is None:
                continue
            for name, us in in_process(tree).items():
                best[label][name] = min(us, best[label].get(name, float("inf")))
    for name, _, _ in CALLS:
        line = f"  {name:7} {best['this'][name]:8.0f} us/call"
        if args.against is not None:
            other = best["other"][name]
            line += f"   against {other:8.0f} us   ratio {best['this'][name] / other:5.2f}"
        print(line)


if __name__ == "__main__":
    main()
