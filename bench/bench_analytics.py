"""Analytics throughput and flush cost (issue 7).

1. Sustained events/s into SQLite through ``AnalyticsCoordinator``: ``record`` N events as fast
   as a producer can (the batch-size trigger flushes in the background), then the final flush;
   events/s = N / wall time from the first record to the last row committed.
2. The event-loop time a flush of 100 events costs: CPU time of the loop's thread
   (``time.thread_time``) spent inside ``await flush()``, i.e. the time other coroutines could
   not run; the SQLite write itself happens on aiosqlite's worker thread. Wall latency is shown
   beside it. Both with the default ``sqlite`` exporter on a file store (WAL).

    python bench/bench_analytics.py [--events 200000] [--flushes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from victor_server.analytics import AnalyticsCoordinator
from victor_server.store import SqliteStore


async def sustained(db: Path, count: int) -> float:
    store = await SqliteStore(db).open()
    analytics = AnalyticsCoordinator(store, batch_size=500)
    start = time.perf_counter()
    for i in range(count):
        analytics.record("token_usage", f"s{i % 50}", None, model="claude-haiku-4-5",
                         provider="anthropic", input_tokens=1200, output_tokens=90,
                         variant=None)
        if i % 500 == 499:
            await asyncio.sleep(0)  # a producer yields now and then, as a server does
    await analytics.close()
    elapsed = time.perf_counter() - start
    async with store.db.execute("SELECT COUNT(*) FROM analytics_events") as cursor:
        row = await cursor.fetchone()
    assert row is not None and row[0] == count, row
    await store.close()
    return count / elapsed


async def flush_cost(db: Path, flushes: int) -> tuple[list[float], list[float]]:
    store = await SqliteStore(db).open()
    analytics = AnalyticsCoordinator(store, batch_size=10**9)
    loop_ms, wall_ms = [], []
    for _ in range(flushes):
        for i in range(100):
            analytics.record("tool_call", "s", None, name=f"tool{i % 7}", is_error=False)
        cpu, wall = time.thread_time(), time.perf_counter()
        await analytics.flush()
        loop_ms.append((time.thread_time() - cpu) * 1000)
        wall_ms.append((time.perf_counter() - wall) * 1000)
    await store.close()
    return loop_ms, wall_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--flushes", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rates = [asyncio.run(sustained(Path(tmp) / f"rate{i}.db", args.events))
                 for i in range(3)]
        loop_ms, wall_ms = asyncio.run(flush_cost(Path(tmp) / "flush.db", args.flushes))
    runs = ", ".join(f"{r:,.0f}" for r in rates)
    print(f"sustained: {args.events} events into SQLite, 3 runs: {runs} events/s "
          f"(median {statistics.median(rates):,.0f})")
    loop_ms.sort()
    wall_ms.sort()
    p95 = int(len(loop_ms) * 0.95)
    print(f"flush of 100 events, {args.flushes} flushes: event-loop thread time median "
          f"{statistics.median(loop_ms):.2f} ms, p95 {loop_ms[p95]:.2f} ms; wall median "
          f"{statistics.median(wall_ms):.2f} ms, p95 {wall_ms[p95]:.2f} ms")


if __name__ == "__main__":
    main()
