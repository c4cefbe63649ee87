"""``make bench``: run every benchmark in bench/ in one go and rewrite docs/benchmarks.md.

    python bench/run_all.py [--quick] [--only startup,memory] [--no-write]

Each entry of ``SECTIONS`` is one "## title" section of docs/benchmarks.md and the commands that
fill it. A command's stdout becomes the section's generated block, headed by the command line;
the block sits between ``<!-- bench:begin -->`` and ``<!-- bench:end -->`` and a rerun replaces
only that block, so prose and hand-compiled tables written around it (the analysis in "Tool
selection", the multi-run ranges in "Analytics") survive. A section without the markers gets
the block appended at its end ("latest run"), never overwritten. Sections of the file that no
entry names are kept as they are, and any ``bench/bench_*.py`` that no entry names is run with
its defaults under its own section, so a new benchmark is never silently left out. New sections
go at the end, in ``SECTIONS`` order. The intro above the first section (machine, how to run,
how to read the figures, and the goals: every ``Goal: ...`` line a benchmark printed into the
file) is rewritten each run, and the file after each section, so a run cut short keeps what it
measured.

Benchmarks run one after another, never in parallel: on a 2-core machine two at once would
measure each other. ``--quick`` cuts runs and sizes for a smoke check (figures then are noisier
and say so in their command line).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    commands: tuple[tuple[str, ...], ...]
    quick: tuple[tuple[str, ...], ...] = ()


SECTIONS = [
    Section("startup", "Start-up and per-request overhead",
            (("bench/bench_startup.py", "--runs", "15", "--requests", "300"),),
            (("bench/bench_startup.py", "--runs", "3", "--requests", "50"),)),
    Section("victor_ai", "Against victor-ai 0.9.5",
            (("bench/bench_victor_ai.py", "--runs", "7", "--install"),),
            (("bench/bench_victor_ai.py", "--runs", "2", "--install"),)),
    Section("streaming", "Streaming relay",
            (("bench/bench_streaming.py", "--turns", "40"),),
            (("bench/bench_streaming.py", "--turns", "10"),)),
    Section("memory", "Memory",
            (("bench/bench_memory.py", "--sessions", "200", "--turns", "3"),),
            (("bench/bench_memory.py", "--sessions", "30", "--turns", "2"),)),
    Section("profile", "Profile of the slowest request path",
            (("bench/profile_requests.py", "--seconds", "8"),),
            (("bench/profile_requests.py", "--seconds", "3"),)),
    Section("mcp", "MCP face", (("bench/bench_mcp.py", "--calls", "500"),),
            (("bench/bench_mcp.py", "--calls", "50"),)),
    Section("acp", "ACP face", (("bench/bench_acp.py", "--runs", "10"),),
            (("bench/bench_acp.py", "--runs", "3"),)),
    Section("selection", "Tool selection", (("bench/bench_selection.py", "--repeat", "3"),),
            (("bench/bench_selection.py", "--repeat", "1", "--sizes", "catalogue"),)),
    Section("context", "Context compaction",
            (("bench/bench_context.py", "--hashing"),
             ("bench/bench_context.py", "--messages", "1000", "--window", "16000")),
            (("bench/bench_context.py", "--hashing", "--messages", "1000", "--window", "16000"),)),
    Section("analytics", "Analytics", (("bench/bench_analytics.py",),),
            (("bench/bench_analytics.py", "--events", "20000", "--flushes", "50"),)),
    Section("prompt_cache", "Prompt caching",
            (("bench/bench_prompt_cache.py", "--strategies", "all,keyword,hybrid"),),
            (("bench/bench_prompt_cache.py", "--strategies", "hybrid"),)),
    Section("first_start", "Selection model: first start and memory",
            (("bench/bench_first_start.py", "--runs", "3", "--server-runs", "1"),),
            (("bench/bench_first_start.py", "--runs", "1", "--server-runs", "1"),)),
    Section("parallel_tools", "Parallel tool calls",
            (("bench/bench_parallel_tools.py", "--turns", "10"),),
            (("bench/bench_parallel_tools.py", "--turns", "3"),)),
    Section("reliability", "Reliability",
            (("bench/bench_reliability.py", "flood"), ("bench/bench_reliability.py", "signals")),
            (("bench/bench_reliability.py", "flood", "--count", "5000", "--runs", "1"),
             ("bench/bench_reliability.py", "signals", "--runs", "1"))),
    Section("store", "PostgreSQL", (("bench/bench_store.py",),),
            (("bench/bench_store.py", "--events", "5000", "--reads", "100", "--runs", "1"),)),
]
# helpers and baselines, not benchmarks
NOT_BENCHMARKS = {"run_all.py", "lsp_wire.py", "ndjson_wire.py", "bare_pygls_server.py",
                  "mcp_bare_server.py", "bare_acp_agent.py", "selection_catalogue.py",
                  "selection_heldout.py", "selection_blind.py", "selection_metadata.py"}


def discovered() -> list[Section]:
    named = {cmd[0] for s in SECTIONS for cmd in s.commands}
    extra = []
    for path in sorted((ROOT / "bench").glob("bench_*.py")):
        rel = f"bench/{path.name}"
        if rel not in named and path.name not in NOT_BENCHMARKS:
            title = path.stem.removeprefix("bench_").replace("_", " ").capitalize()
            extra.append(Section(path.stem, title, ((rel,),)))
    return extra


TIMINGS: list[tuple[str, float]] = []  # (command, seconds) of this run


def run(command: tuple[str, ...]) -> str:
    """The command's stdout; on failure, say so in the section instead of stopping the run."""
    started = time.perf_counter()
    print(f"== python {' '.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run([sys.executable, *command], cwd=ROOT, capture_output=True, text=True)
    took = time.perf_counter() - started
    TIMINGS.append((" ".join(command), took))
    print(f"   {took:.0f} s, exit {done.returncode}", file=sys.stderr)
    out = done.stdout.strip()
    # a bench that prints its own "## title" / "Command:" lines: the section provides those
    lines = [ln for ln in out.splitlines() if not ln.startswith(("## ", "Command: `"))]
    out = "\n".join(lines).strip()
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        out += f"\n\n**This run failed (exit {done.returncode}):**\n\n```\n{tail}\n```"
    return out


def block(commands: tuple[tuple[str, ...], ...], outputs: list[str]) -> str:
    parts = [f"Command: `python {' '.join(cmd)}`\n\n{out}" for cmd, out in
             zip(commands, outputs, strict=True)]
    return f"{BEGIN}\n" + "\n\n".join(parts) + f"\n{END}"


def goals(outputs: list[str]) -> list[str]:
    """The "Goal: ..." lines the benchmarks print (met or not, with the figure or the reason)."""
    return [f"- {line.strip().removeprefix('Goal:').strip()}" for out in outputs
            for line in out.splitlines() if line.strip().startswith("Goal:")]


def intro(only: str, goal_lines: list[str], quick: bool) -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        found = re.search(r"MemTotal:\s*(\d+)", meminfo.read_text())
        memory = f", {int(found.group(1)) / 1024 / 1024:.0f} GB RAM" if found else ""
    return "\n".join([
        "# Benchmarks", "",
        f"Machine: {cpu}, {os.cpu_count()} cores{memory}; {platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}. Last `run_all.py` run "
        f"{time.strftime('%Y-%m-%d')} ({f'sections {only}' if only else 'all sections'}), "
        f"load average {os.getloadavg()[0]:.1f} when it ended"
        f"{' (`--quick`: fewer runs, noisier figures)' if quick else ''}; it took "
        f"{sum(t for _, t in TIMINGS) / 60:.0f} minutes.", "",
        *(["Goals, as this run measured them:", "", *goal_lines, ""] if goal_lines else []),
        "How to run: `make bench` (= `python bench/run_all.py`) runs every benchmark in bench/ "
        "one after another and rewrites the figures below, each section headed by the exact "
        "command that produced it; run one of those commands to repeat a single section. "
        "`python bench/run_all.py --quick` is a smoke run with fewer repetitions, "
        "`--only startup,memory` a subset.", "",
        "How to read the figures: this is a shared, noisy 2-core machine (other test suites run "
        "on it at the same time), so absolute milliseconds move from run to run. Every "
        "comparison is therefore measured side by side in one run: victor-server and its "
        "baseline (the bare framework doing nothing, or the peer) alternate run by run, and the "
        "tables give medians and the ratio of medians. Trust the ratios more than the absolute "
        "times. The standing goals: start-up within 1.3x of the bare framework, 5x faster than "
        "victor-ai, per-request overhead within 1.5x, first streamed delta < 5 ms after the "
        "provider's, idle RSS < 80 MB; with the model loaded, servers under 250 MB and "
        "semantic selection ready within 3 s of a first start; 70% of a session's input "
        "tokens read from the prompt cache.", ""])


def rewrite(text: str, section: Section, generated: str) -> str:
    heading = f"## {section.title}"
    start = text.find(f"\n{heading}\n")
    if start < 0:
        return text.rstrip("\n") + f"\n\n{heading}\n\n{generated}\n"
    body_start = start + len(heading) + 2
    nxt = text.find("\n## ", body_start)
    body_end = nxt if nxt >= 0 else len(text)
    body = text[body_start:body_end]
    if BEGIN in body and END in body:
        before, _, rest = body.partition(BEGIN)
        _, _, after = rest.partition(END)
        body = before + generated + after
    else:  # hand-written section: keep every word, add the latest run below it
        body = body.rstrip("\n") + f"\n\nLatest `make bench` run:\n\n{generated}\n"
    return text[:body_start] + body + text[body_end:]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs: a smoke check")
    parser.add_argument("--only", default="", help="comma-separated section keys")
    parser.add_argument("--no-write", action="store_true", help="print, do not write docs")
    args = parser.parse_args()
    wanted = {k for k in args.only.split(",") if k}
    sections = [s for s in [*SECTIONS, *discovered()] if not wanted or s.key in wanted]
    results: list[tuple[Section, str]] = []
    for section in sections:
        commands = section.quick if args.quick and section.quick else section.commands
        results.append((section, block(commands, [run(cmd) for cmd in commands])))
        if not args.no_write:  # after each section: a run cut short keeps what it measured
            write(results, args.only, args.quick)
    if args.no_write:
        for section, generated in results:
            print(f"## {section.title}\n\n{generated}\n")
        return 0
    print(f"wrote {DOCS.relative_to(ROOT)} ({len(results)} sections)", file=sys.stderr)
    return 0


def write(results: list[tuple[Section, str]], only: str, quick: bool) -> None:
    """Rewrite docs/benchmarks.md with ``results``: the intro, then each section's block. The
    goal lines in the intro come from every generated block in the file, this run's or not."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else "# Benchmarks\n"
    first = text.find("\n## ")
    rest = text[first:] if first >= 0 else ""
    rest += "".join(f"\n## {section.title}\n\n{BEGIN}\n{END}\n" for section, _ in results
                    if f"\n## {section.title}\n" not in rest)
    for section, generated in results:
        rest = rewrite(rest, section, generated)
    blocks = re.findall(re.escape(BEGIN) + r"(.*?)" + re.escape(END), rest, re.DOTALL)
    DOCS.write_text((intro(only, goals(blocks), quick) + rest).rstrip("\n") + "\n",
                    encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
