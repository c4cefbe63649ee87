"""The store on SQLite and on PostgreSQL, side by side (issue 11).

1. Events/s into the store's ``analytics_events``: ``insert_events`` in batches of 500 (the
   coordinator's batch size), N events, wall time from the first batch to the last commit.
   For PostgreSQL also the ``postgresql`` exporter with its default ``batch_size: 100``.
2. Session read latency: ``get_session`` + ``get_messages`` of a 40-message session (what
   ``victor/session/get`` does), and ``list_sessions(limit=50)`` over 1,000 sessions; median
   and p95 of R reads.

SQLite is a WAL file with ``synchronous=NORMAL`` (the store's settings). PostgreSQL is a local
throwaway cluster (tests/support/pg_cluster.py) with its defaults for durability (``fsync`` and
``synchronous_commit`` on) over TCP on 127.0.0.1, or the server given by ``--pg-url``.

    python bench/bench_store.py [--events 50000] [--reads 500] [--pg-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from victor_server.analytics.events import AnalyticsEvent
from victor_server.analytics.postgresql_exporter import PostgreSQLExporter
from victor_server.messages import Message
from victor_server.store import SqliteStore
from victor_server.store.postgres import PostgresStore


def make_events(count: int) -> list[AnalyticsEvent]:
    return [AnalyticsEvent("token_usage", f"s{i % 50}", None,
                           {"model": "claude-haiku-4-5", "provider": "anthropic",
                            "input_tokens": 1200, "output_tokens": 90}) for i in range(count)]


async def events_per_second(sink: Any, count: int, batch: int = 500) -> float:
    events = make_events(count)
    start = time.perf_counter()
    for first in range(0, count, batch):
        await sink(events[first:first + batch])
    return count / (time.perf_counter() - start)


async def read_latency(store: Any, reads: int) -> dict[str, tuple[float, float]]:
    for n in range(1000):
        await store.create_session(f"s{n:04d}", None, title=f"session {n}")
    for m in range(40):
        await store.add_message("s0500", Message("user" if m % 2 else "assistant",
                                                 f"message {m} " + "lorem ipsum " * 30))
    timings: dict[str, list[float]] = {"get": [], "list": []}
    for _ in range(reads):
        start = time.perf_counter()
        await store.get_session("s0500")
        await store.get_messages("s0500")
        middle = time.perf_counter()
        await store.list_sessions(None, limit=50)
        timings["get"].append((middle - start) * 1000)
        timings["list"].append((time.perf_counter() - middle) * 1000)
    return {name: (statistics.median(ms), statistics.quantiles(ms, n=20)[18])
            for name, ms in timings.items()}


async def run(args: argparse.Namespace, pg_url: str, fresh: Any) -> None:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        rates = []
        for run_no in range(args.runs):
            store = await SqliteStore(Path(tmp) / f"e{run_no}.db").open()
            rates.append(await events_per_second(store.insert_events, args.events))
            await store.close()
        results["sqlite events/s"] = rates
        store = await SqliteStore(Path(tmp) / "reads.db").open()
        results["sqlite reads"] = await read_latency(store, args.reads)
        await store.close()
    rates, exporter_rates = [], []
    for _ in range(args.runs):
        pg = await PostgresStore(fresh()).open()
        rates.append(await events_per_second(pg.insert_events, args.events))
        await pg.close()
        exporter = PostgreSQLExporter(url=fresh())
        exporter_rates.append(await events_per_second(exporter.export, args.events, 100))
        await exporter.close()
    results["postgresql events/s"] = rates
    results["postgresql exporter events/s (batch 100)"] = exporter_rates
    pg = await PostgresStore(fresh()).open()
    results["postgresql reads"] = await read_latency(pg, args.reads)
    await pg.close()
    for name, value in results.items():
        if isinstance(value, list):
            print(f"{name}: median {statistics.median(value):,.0f} "
                  f"(runs: {', '.join(f'{v:,.0f}' for v in value)})")
        else:
            for what, (median, p95) in value.items():
                label = "get_session+get_messages (40 msgs)" if what == "get" else \
                    "list_sessions(limit=50) of 1,000"
                print(f"{name} {label}: median {median:.2f} ms, p95 {p95:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pg-url", help="an existing server (each run makes a database)")
    args = parser.parse_args()
    if args.pg_url:
        asyncio.run(run(args, args.pg_url, lambda: args.pg_url))
        return
    import pg_cluster

    cluster = pg_cluster.start_cluster(durable=True)
    if cluster is None:
        sys.exit("PostgreSQL is not installed (scripts/install-system-test-deps.sh)")
    try:
        asyncio.run(run(args, cluster.url(), cluster.new_database))
    finally:
        pg_cluster.remove_cluster(cluster)


if __name__ == "__main__":
    main()
