"""Which regex engine the ``search`` tool runs on: RE2 (``google-re2``), ``regex`` with a
timeout, ripgrep when on PATH, against the stdlib ``re`` it replaced.

Two measurements, printed as ratios to ``re`` so the machine's speed cancels out:

1. ordinary searches over this repository's Python files: a per-line loop for every engine,
   and RE2 once over each whole file the way the tool runs it (``matching_lines``: ``never_nl``
   and multi-line anchors keep a match on one line; the bench asserts the lines found are
   the same as ``re`` finds line by line);
2. the catastrophic pattern ``(a+)+$`` on ``"a" * n + "b"``: the time for each engine as ``n``
   grows (``re`` doubles with each character; ``regex`` is stopped by its timeout; RE2 stays
   linear).

Run: ``.venv/bin/python bench/bench_search_engines.py``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = [r"def \w+\(", r"TODO|FIXME", r"class [A-Z]\w+", r"ToolError", r"^\s*import\s+\w+$"]
REPEAT = 3
REGEX_TIMEOUT = 1.0


def corpus() -> list[bytes]:
    return [path.read_bytes() for path in sorted((ROOT / "victor_server").rglob("*.py"))
            + sorted((ROOT / "tests").rglob("*.py"))]


def whole_files(regex: Any, files: list[bytes]) -> tuple[float, list[list[int]]]:
    from victor_server.tools.search_tool import matching_lines

    best, found = float("inf"), []
    for _ in range(REPEAT):
        start = time.perf_counter()
        found = [[n for n, _ in matching_lines(regex, data)] for data in files]
        best = min(best, time.perf_counter() - start)
    return best, found


def by_line(search: Callable[[str], Any], files: list[bytes]) -> list[list[int]]:
    return [[n for n, line in enumerate(data.decode("utf-8", "replace").split("\n"), 1)
             if search(line)] for data in files]


def per_line(search: Callable[[str], Any], lines: list[str]) -> float:
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        found = sum(1 for line in lines if search(line))
        best = min(best, time.perf_counter() - start)
    assert found >= 0
    return best


def ripgrep(pattern: str) -> float | None:
    rg = shutil.which("rg")
    if rg is None:
        return None
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        subprocess.run([rg, "-n", "--no-heading", "-t", "py", pattern, "victor_server", "tests"],
                       cwd=ROOT, stdout=subprocess.DEVNULL, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    import re2
    import regex

    from victor_server.tools.search_tool import compile_pattern

    files = corpus()
    lines = [line for data in files for line in data.decode("utf-8", "replace").split("\n")]
    print(f"ordinary searches: {len(files)} files, {len(lines)} lines, best of {REPEAT}, "
          "time / re per line")
    for pattern in PATTERNS:
        base = per_line(re.compile(pattern).search, lines)
        whole, found = whole_files(compile_pattern(pattern)[0], files)
        assert found == by_line(re.compile(pattern).search, files), pattern
        compiled_re2 = re2.compile(pattern)
        compiled_regex = regex.compile(pattern)
        r2 = per_line(compiled_re2.search, lines)
        rx = per_line(lambda s, c=compiled_regex: c.search(s, timeout=REGEX_TIMEOUT), lines)
        rg = ripgrep(pattern)
        rg_text = f"{rg / base:5.2f}" if rg is not None else "  n/a (not on PATH)"
        print(f"  {pattern:20} re {base * 1000:6.1f} ms   re2 whole-file {whole / base:5.2f}   "
              f"re2 per line {r2 / base:5.2f}   regex+timeout {rx / base:5.2f}   "
              f"ripgrep {rg_text}")

    print("catastrophic (a+)+$ on 'a'*n + 'b', seconds")
    evil = "(a+)+$"
    compiled_re, compiled_re2 = re.compile(evil), re2.compile(evil)
    compiled_regex = regex.compile(evil)
    for n in (16, 18, 20, 22):
        text = "a" * n + "b"
        start = time.perf_counter()
        compiled_re.search(text)
        t_re = time.perf_counter() - start
        start = time.perf_counter()
        try:
            compiled_regex.search(text, timeout=REGEX_TIMEOUT)
            rx_text = f"{time.perf_counter() - start:.4f}"
        except TimeoutError:
            rx_text = f"timeout after {time.perf_counter() - start:.2f}"
        start = time.perf_counter()
        compiled_re2.search(text)
        t_re2 = time.perf_counter() - start
        print(f"  n={n:2}  re {t_re:8.4f}   regex {rx_text:>22}   re2 {t_re2:.6f}")
    text = "a" * 100_000 + "b"
    start = time.perf_counter()
    compiled_re2.search(text)
    print(f"  n=100000  re2 {time.perf_counter() - start:.6f} (re would take ~2^100000 steps)")


if __name__ == "__main__":
    main()
