"""Tool-selection retrieval benchmark: recall@1, recall@5 and latency per strategy.

    python bench/bench_selection.py            # the catalogue (~115 tools) and 1,000 tools
    python bench/bench_selection.py --json     # machine-readable

For each catalogue size, tool embeddings are computed once (timed and reported separately, as
a first start would pay them; a restart reads them from the store), then every query is selected
by every strategy. Latency is the wall time of ``ToolSelectionCoordinator.select`` per query,
query embedding included. ``cost_aware`` drops tools above ``low``, so queries whose right tool
costs more cannot be answered by it: that is the strategy working, not missing.

Two query sets: ``dev`` (``selection_catalogue``, the set the synonym groups and weights were
tuned on) and ``heldout`` (``selection_heldout``, written before any tuning, one per tool).
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
)
from victor_server.selection.keyword import BM25Index, tool_document
from victor_server.tools.base import ToolSpec

STRATEGIES = ["keyword", "semantic", "hybrid", "cost_aware", "domain"]


async def run_size(tools: list[ToolSpec], cases: list[tuple[str, str]],
                   repeat: int) -> dict[str, object]:
    cache = MemoryEmbeddingCache()
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
    rows: dict[str, dict[str, float]] = {"bm25 (plain)": plain_bm25(tools, cases, repeat)}
    for name in STRATEGIES:
        await coordinator.select("warm up the " + name, tools, strategy=name)  # builds subsets
        hits1 = hits5 = 0
        latencies: list[float] = []
        for query, expected in cases:
            for _ in range(repeat):
                coordinator.embeddings.forget_queries()  # time the query's embedding too
                t0 = time.perf_counter()
                result = await coordinator.select(query, tools, max_tools=5, strategy=name)
                latencies.append((time.perf_counter() - t0) * 1000)
            names = [s.spec.name for s in result.tools]
            hits1 += bool(names) and names[0] == expected
            hits5 += expected in names
        latencies.sort()
        rows[name] = {"recall@1": hits1 / len(cases), "recall@5": hits5 / len(cases),
                      "median_ms": statistics.median(latencies),
                      "p95_ms": latencies[int(0.95 * (len(latencies) - 1))]}
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
        lines.append(f"| {name} | {row['recall@1']:.3f} | {row['recall@5']:.3f} | "
                     f"{row['median_ms']:.2f} | {row['p95_ms']:.2f} |")
    return "\n".join(lines)


def heldout_overlaps() -> dict[str, set[str]]:
    by_name = {n: f"{n} {d}" for n, _, _, d, _ in _CATALOGUE}
    found = {}
    for query, name in heldout_queries():
        shared = _stems(query) & _stems(by_name[name])
        if shared:
            found[query] = shared
    return found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="selections per query")
    parser.add_argument("--sizes", default="catalogue,1000")
    parser.add_argument("--sets", default="dev,heldout")
    args = parser.parse_args()
    if overlapping_words():
        print(f"warning: queries reuse their tool's words: {overlapping_words()}",
              file=sys.stderr)
    leaks = heldout_overlaps()
    if leaks:
        print(f"warning: held-out queries reuse their tool's words: {leaks}", file=sys.stderr)
    tools = catalogue()
    sets = {"dev": queries(), "heldout": heldout_queries()}
    reports = []
    for size in args.sizes.split(","):
        pool = tools if size == "catalogue" else tools + distractors(int(size) - len(tools))
        for label in args.sets.split(","):
            report = await run_size(pool, sets[label], args.repeat)
            report["set"] = label
            reports.append(report)
    if args.json:
        print(json.dumps(reports, indent=2))
    else:
        print("\n\n".join(render(r) for r in reports))


if __name__ == "__main__":
    asyncio.run(main())
