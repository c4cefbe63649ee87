"""The ``postgresql`` analytics exporter against a real server, beside SQLite's own sink with the
same tests; and its batches waiting in the dead-letter queue while the database is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pg_cluster import PgCluster

from victor_server.analytics import AnalyticsCoordinator, AnalyticsEvent, ExportFailed
from victor_server.analytics.exporters import SQLiteExporter, create_exporters
from victor_server.analytics.postgresql_exporter import PostgreSQLExporter
from victor_server.store import SqliteStore
from victor_server.store.postgres import PostgresStore


class Sink:
    """An exporter and a store that reads back what it wrote."""

    def __init__(self, exporter: Any, reader: Any) -> None:
        self.exporter = exporter
        self.reader = reader

    async def stored(self) -> list[AnalyticsEvent]:
        return list(await self.reader.export_events(all_tenants=True))


@pytest.fixture(params=["sqlite", "postgresql"])
async def sink(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Sink]:
    if request.param == "sqlite":
        store = await SqliteStore(tmp_path / "victor.db").open()
        yield Sink(SQLiteExporter(store), store)
        await store.close()
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    url = cluster.new_database("exp")
    exporter = create_exporters([{"postgresql": {"url": url, "batch_size": 7}}], None)[0]
    assert isinstance(exporter, PostgreSQLExporter) and exporter.batch_size == 7
    await exporter.start()
    reader = await PostgresStore(url).open()  # the store reads the exporter's table
    yield Sink(exporter, reader)
    await exporter.close()
    await reader.close()


def batch(n: int, month: int = 3) -> list[AnalyticsEvent]:
    base = datetime(2025, month, 1, tzinfo=UTC).timestamp()
    return [AnalyticsEvent("tool_call", f"s{i % 3}", "acme", {"name": "read", "i": i},
                           timestamp=base + i) for i in range(n)]


async def test_batches_arrive_once_however_often_sent(sink: Sink) -> None:
    events = batch(20)
    assert await sink.exporter.export(events) == 20
    assert await sink.exporter.export(events[5:15]) == 10  # a retry after a partial failure
    stored = await sink.stored()
    assert sorted(e.id for e in stored) == sorted(e.id for e in events)
    assert {e.id: e.data for e in stored}[events[3].id] == {"name": "read", "i": 3}


async def test_empty_batch_is_a_no_op(sink: Sink) -> None:
    assert await sink.exporter.export([]) == 0
    assert await sink.stored() == []


async def test_events_land_in_monthly_partitions(pg_cluster: PgCluster) -> None:
    url = pg_cluster.new_database("part")
    exporter = PostgreSQLExporter(url=url, batch_size=50)
    try:
        await exporter.export(batch(3, month=4) + batch(2, month=5))
    finally:
        await exporter.close()
    counts = pg_cluster.psql(url, "SELECT tableoid::regclass::text AS part, count(*) FROM "
                                  "analytics_events GROUP BY 1 ORDER BY 1")
    assert counts.splitlines() == ["analytics_events_2025_04|3", "analytics_events_2025_05|2"]
    indexes = pg_cluster.psql(url, "SELECT indexname FROM pg_indexes WHERE tablename = "
                                   "'analytics_events' ORDER BY 1")
    assert {"analytics_events_session", "analytics_events_type",
            "analytics_events_time"} <= set(indexes.splitlines())


async def test_url_from_file_must_be_private(tmp_path: Path, pg_cluster: PgCluster) -> None:
    secret = tmp_path / "pg-url"
    secret.write_text(pg_cluster.new_database("file") + "\n")
    secret.chmod(0o644)
    with pytest.raises(Exception, match="chmod 600"):
        PostgreSQLExporter(url_file=str(secret))
    secret.chmod(0o600)
    exporter = PostgreSQLExporter(url_file=str(secret))
    try:
        assert await exporter.export(batch(2)) == 2
        assert pg_cluster.password not in repr(exporter)
    finally:
        await exporter.close()


async def test_batches_wait_in_dead_letters_until_the_database_returns(
        tmp_path: Path, pg_cluster: PgCluster) -> None:
    url = pg_cluster.new_database("dlq")
    store = await SqliteStore(tmp_path / "victor.db").open()
    exporter = PostgreSQLExporter(url=url)
    coordinator = AnalyticsCoordinator(store, [SQLiteExporter(store), exporter], interval=3600)
    await coordinator.start()
    try:
        for i in range(5):
            coordinator.record("chat_request", "s1", "acme", n=i)
        await coordinator.flush()
        assert await coordinator.drain(10)
        assert pg_cluster.psql(url, "SELECT count(*) FROM analytics_events") == "5"

        pg_cluster.stop("immediate")
        try:
            for i in range(7):
                coordinator.record("tool_call", "s1", "acme", name="read", n=i)
            await coordinator.flush()
            assert await coordinator.drain(10)
            assert await store.dead_letter_counts() == {"postgresql": 7}
            with pytest.raises(ExportFailed, match="postgresql"):
                await exporter.export(batch(1))
            assert await coordinator.retry_dead_letters(now=4e9) == 0  # still down: kept
            assert await store.dead_letter_counts() == {"postgresql": 7}
        finally:
            pg_cluster.start()
        assert await coordinator.retry_dead_letters(now=8e9) == 7
        assert await store.dead_letter_counts() == {}
        assert pg_cluster.psql(url, "SELECT type, count(*) FROM analytics_events GROUP BY 1 "
                                    "ORDER BY 1").splitlines() == ["chat_request|5",
                                                                   "tool_call|7"]
        # the primary sink never missed any of them
        assert (await store.event_summary(tenant_id="acme")).events == {
            "chat_request": 5, "tool_call": 7}
    finally:
        if not pg_cluster.is_running():
            pg_cluster.start()
        await coordinator.close()
        await store.close()
        await asyncio.sleep(0)
