"""Tool-selection retrieval benchmark: recall@1, recall@5 and latency per strategy.

    python bench/bench_selection.py            # the catalogue (~115 tools) and 1,000 tools
    python bench/bench_selection.py --json     # machine-readable

For each catalogue size, tool embeddings are computed once (timed and reported separately, as
a first start would pay them; a restart reads them from the store), then every query is selected
by every strategy. Latency is the wall time of ``ToolSelectionCoordinator.select`` per query,
query embedding included. ``cost_aware`` drops tools above ``low``, so queries whose right tool
costs more cannot be answered by it: that is the strategy working, not missing.

Three query sets: ``dev`` (``selection_catalogue``, the set the synonym groups and weights were
tuned on), ``heldout`` (``selection_heldout``, written before any tuning, one per tool) and
``blind`` (``selection_blind``, written by an author who saw only the tools). Tools carry the
keywords and example requests of ``selection_metadata`` (the distractors carry templated ones);
``hybrid (no hints)`` ranks the same tools with their metadata removed, and ``hybrid, strict``
is the default's recall on the queries sharing no content word with any of their tool's text,
keywords and examples included.
Coordinators wait for the model here (``wait_for_model=True``); the server does not.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from selection_blind import blind_queries
from selection_catalogue import (
    _CATALOGUE,
    _stems,
    catalogue,
    distractors,
    overlapping_words,
    queries,
)
from selection_heldout import heldout_queries

from victor_server.selection.coordinator import ToolSelectionCoordinator
from victor_server.selection.embedding import (
    EmbeddingService,
    MemoryEmbeddingCache,
    shared_default_embedder,
)
from victor_server.selection.keyword import BM25Index, tool_document
from victor_server.tools.base import ToolSpec

STRATEGIES = ["keyword", "semantic", "hybrid", "cost_aware", "domain"]


async def run_size(tools: list[ToolSpec], cases: list[tuple[str, str]],
                   repeat: int, cache: MemoryEmbeddingCache) -> dict[str, object]:
    """One catalogue size and query set. ``cache`` is shared by the sets of one size, so the
    first set's ``embed_tools_s`` is the first-start cost and the others' are store reads."""
    bare = [replace(t, keywords=(), examples=()) for t in tools]
    coordinator = ToolSelectionCoordinator(options={"max_tools": 5}, store=cache,
                                           wait_for_model=True)
    started = time.perf_counter()
    await coordinator.warm_up(tools)
    embed_s = time.perf_counter() - started
    # A restart: a new coordinator and service over the same store embeds nothing.
    restarted = ToolSelectionCoordinator(options={"max_tools": 5}, store=cache,
                                         embeddings=EmbeddingService(cache), wait_for_model=True)
    started = time.perf_counter()
    await restarted.warm_up(tools)
    restart_s = time.perf_counter() - started
    await coordinator.warm_up(bare)
    rows: dict[str, dict[str, float]] = {"bm25 (plain)": plain_bm25(tools, cases, repeat)}
    by_name = {t.name: t for t in tools}
    strict = [not _stems(query) & _all_words(by_name[expected]) for query, expected in cases]
    runs = [(name, name, tools) for name in STRATEGIES]
    runs.insert(3, ("hybrid (no hints)", "hybrid", bare))
    for label, name, pool in runs:
        await coordinator.select("warm up the " + name, pool, strategy=name)  # builds subsets
        hits1: list[bool] = []
        hits5: list[bool] = []
        latencies: list[float] = []
        for query, expected in cases:
            for _ in range(repeat):
                coordinator.embeddings.forget_queries()  # time the query's embedding too
                t0 = time.perf_counter()
                result = await coordinator.select(query, pool, max_tools=5, strategy=name)
                latencies.append((time.perf_counter() - t0) * 1000)
            names = [s.spec.name for s in result.tools]
            hits1.append(bool(names) and names[0] == expected)
            hits5.append(expected in names)
        latencies.sort()
        rows[label] = {"recall@1": sum(hits1) / len(cases), "recall@5": sum(hits5) / len(cases),
                       "median_ms": statistics.median(latencies),
                       "p95_ms": latencies[int(0.95 * (len(latencies) - 1))]}
        if label == "hybrid" and any(strict):
            kept = [i for i, ok in enumerate(strict) if ok]
            rows[f"hybrid, strict ({len(kept)} queries)"] = {
                "recall@1": sum(hits1[i] for i in kept) / len(kept),
                "recall@5": sum(hits5[i] for i in kept) / len(kept),
                "median_ms": float("nan"), "p95_ms": float("nan")}
    return {"tools": len(tools), "queries": len(cases), "embed_tools_s": embed_s,
            "restart_embed_s": restart_s,
            "model_encoded_on_restart": restarted.embeddings.encoded_texts,
            "strategies": rows}


def plain_bm25(tools: list[ToolSpec], cases: list[tuple[str, str]],
               repeat: int) -> dict[str, float]:
    """The baseline: BM25 over name + description, no synonyms, no parameters or domain."""
    index = BM25Index([tool_document(t.name, t.description) for t in tools], synonyms=False)
    hits1 = hits5 = 0
    latencies: list[float] = []
    for query, expected in cases:
        for _ in range(repeat):
            t0 = time.perf_counter()
            scores = index.scores(query)
            best = heapq.nlargest(5, scores, key=scores.__getitem__)
            latencies.append((time.perf_counter() - t0) * 1000)
        names = [tools[i].name for i in best]
        hits1 += bool(names) and names[0] == expected
        hits5 += expected in names
    latencies.sort()
    return {"recall@1": hits1 / len(cases), "recall@5": hits5 / len(cases),
            "median_ms": statistics.median(latencies),
            "p95_ms": latencies[int(0.95 * (len(latencies) - 1))]}


def render(report: dict[str, object]) -> str:
    lines = [f"### {report['tools']} tools, {report['queries']} {report['set']} queries",
             "",
             f"tool embeddings: {report['embed_tools_s']:.1f} s first start, "
             f"{report['restart_embed_s']:.3f} s on restart from the store "
             f"({report['model_encoded_on_restart']} texts re-embedded)",
             "",
             "| strategy | recall@1 | recall@5 | median ms | p95 ms |",
             "|---|---|---|---|---|"]
    strategies = report["strategies"]
    assert isinstance(strategies, dict)
    for name, row in strategies.items():
        timing = (f"{row['median_ms']:.2f} | {row['p95_ms']:.2f}"
                  if row["median_ms"] == row["median_ms"] else "- | -")  # NaN: a subset row
        lines.append(f"| {name} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | {timing} |")
    return "\n".join(lines)


def _rss_mb() -> float:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return float("nan")
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def model_line() -> str:
    """Which engine runs the model, how long it takes to load, and what it adds to RSS."""
    before = _rss_mb()
    started = time.perf_counter()
    model = shared_default_embedder()
    took = time.perf_counter() - started
    return (f"Model: {model.name}, engine `{getattr(model, 'engine', '?')}`, int8 queries: "
            f"{getattr(model, 'quantized_queries', False)}; loaded in {took:.2f} s (int8 graph "
            f"cached); process RSS {before:.0f} -> {_rss_mb():.0f} MB")


def _all_words(tool: ToolSpec) -> set[str]:
    """A tool's content words: name, description, keywords and examples."""
    return _stems(" ".join([tool.name, tool.description, *tool.keywords, *tool.examples]))


def heldout_overlaps() -> dict[str, set[str]]:
    by_name = {n: f"{n} {d}" for n, _, _, d, _ in _CATALOGUE}
    found = {}
    for query, name in heldout_queries() + blind_queries():
        shared = _stems(query) & _stems(by_name[name])
        if shared:
            found[query] = shared
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="selections per query")
    parser.add_argument("--sizes", default="catalogue,1000")
    parser.add_argument("--sets", default="dev,heldout,blind")
    args = parser.parse_args()
    if overlapping_words():
        print(f"warning: queries reuse their tool's words: {overlapping_words()}",
              file=sys.stderr)
    leaks = heldout_overlaps()
    if leaks:
        print(f"warning: held-out or blind queries reuse their tool's words: {leaks}",
              file=sys.stderr)
    print(model_line() + "\n")
    tools = catalogue()
    sets = {"dev": queries(), "heldout": heldout_queries(), "blind": blind_queries()}
    reports = []
    for size in args.sizes.split(","):
        pool = tools if size == "catalogue" else tools + distractors(int(size) - len(tools))
        cache = MemoryEmbeddingCache()
        first_embed = None
        for label in args.sets.split(","):
            report = await run_size(pool, sets[label], args.repeat, cache)
            first_embed = first_embed or report["embed_tools_s"]
            report["embed_tools_s"] = first_embed
            report["set"] = label
            reports.append(report)
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        print("\n\n".join(render(r) for r in reports))


if __name__ == "__main__":
    asyncio.run(main())
