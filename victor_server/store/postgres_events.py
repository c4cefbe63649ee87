"""Analytics events on PostgreSQL: the batched writer (shared by the store and the
``postgresql`` exporter) and the store's analytics queries (summary, tailing, export,
retention, dead letters).

One batch is one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING``: a single round
trip whatever the batch size, and a redelivered event (same id and timestamp) is a no-op.
Before writing, the writer makes sure the month partitions the batch falls in exist (under the
migration advisory lock, so two servers cannot race on the same ``CREATE TABLE``); a row whose
month has no partition lands in ``analytics_events_default`` rather than failing.

Columns, filters and the row builder are the ones SQLite uses (``event_rows.py``); filters are
translated to PostgreSQL's placeholders by ``to_pg``, so both backends filter the same way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from victor_server.analytics.events import AnalyticsEvent
from victor_server.store.event_rows import (
    EVENT_INSERT_COLUMNS,
    event_columns,
    event_filter,
    event_from_row,
    positioned_event,
)
from victor_server.store.postgres_migrations import MIGRATION_LOCK
from victor_server.store.queries import Tally

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from victor_server.analytics.pricing import PriceTable
    from victor_server.api_models import AnalyticsSummary

logger = logging.getLogger(__name__)

INSERT_EVENTS = (
    f"INSERT INTO analytics_events ({EVENT_INSERT_COLUMNS}) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], "
    "$6::float8[]) ON CONFLICT DO NOTHING")
# JSONB comes back as text for the shared builder; the quoted name reads the column
EVENT_COLUMNS = event_columns("seq", {"data": "data::text", "timestamp": '"timestamp"'})


def to_pg(sql: str) -> str:
    """SQLite placeholders to PostgreSQL's: ``IS ?`` becomes ``IS NOT DISTINCT FROM $n``."""
    parts = sql.replace(" IS ?", " IS NOT DISTINCT FROM ?").split("?")
    return "".join(part + (f"${i}" if i < len(parts) else "")
                   for i, part in enumerate(parts, start=1))


def pg_text(text: str) -> str:
    """PostgreSQL text (and JSONB) cannot hold NUL; SQLite can. Replace it, keep the rest."""
    return text.replace("\x00", "\ufffd")


def pg_json(value: Any) -> str:
    return pg_text(json.dumps(value)).replace("\\u0000", "\\ufffd")


def month_partition(timestamp: float) -> tuple[str, float, float] | None:
    """``(table name, start, end)`` of the month holding ``timestamp`` (UTC, epoch seconds)."""
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    except (OverflowError, OSError, ValueError):
        return None  # far outside the calendar: the default partition takes it
    return (f"analytics_events_{start.year:04d}_{start.month:02d}", start.timestamp(),
            end.timestamp())


class EventWriter:
    """Writes batches of events; remembers which month partitions it has seen exist."""

    def __init__(self) -> None:
        self._months: set[str] = set()

    async def write(self, conn: Any, events: Sequence[AnalyticsEvent]) -> int:
        """Insert ``events``; returns how many were new (duplicates are skipped)."""
        if not events:
            return 0
        for month in {month_partition(e.timestamp) for e in events}:
            if month is not None and month[0] not in self._months:
                await self._ensure_partition(conn, *month)
        status = await conn.execute(
            INSERT_EVENTS, [e.id for e in events], [e.session_id for e in events],
            [e.tenant_id for e in events], [pg_text(e.type) for e in events],
            [pg_json(e.data) for e in events], [float(e.timestamp) for e in events])
        return int(str(status).rsplit(" ", 1)[-1])

    async def _ensure_partition(self, conn: Any, name: str, start: float, end: float) -> None:
        import asyncpg

        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                if await conn.fetchval("SELECT to_regclass($1)", name) is None:
                    await conn.execute(
                        f"CREATE TABLE {name} PARTITION OF analytics_events "
                        f"FOR VALUES FROM ({start!r}) TO ({end!r})")
        except asyncpg.CheckViolationError as exc:
            # the default partition already holds rows of this month: they stay there
            logger.warning("analytics: partition %s not created: %s", name, exc)
        self._months.add(name)


class PostgresAnalyticsQueries:
    """The analytics half of ``PostgresStore`` (the same methods as SQLite's mixins)."""

    if TYPE_CHECKING:  # PostgresStore's pooled, error-mapped connection and its writer
        def connection(self) -> AbstractAsyncContextManager[Any]: ...

        _events: EventWriter

    async def insert_events(self, events: Iterable[AnalyticsEvent]) -> int:
        batch = list(events)
        if not batch:
            return 0
        async with self.connection() as conn:
            await self._events.write(conn, batch)
        return len(batch)

    async def event_summary(self, session_id: str | None = None, tenant_id: str | None = None,
                            since: float | None = None, all_tenants: bool = False,
                            until: float | None = None,
                            prices: PriceTable | None = None) -> AnalyticsSummary:
        where, args = event_filter(session_id, tenant_id, since, until, all_tenants)
        tally = Tally()
        async with self.connection() as conn, conn.transaction():
            async for row in conn.cursor(
                    to_pg(f"SELECT type, data::text, session_id FROM analytics_events{where}"),
                    *args, prefetch=2000):
                tally.add(row[0], json.loads(row[1]), row[2])
        return tally.summary(prices)

    async def events_after(self, rowid: int, limit: int = 1000) \
            -> list[tuple[int, AnalyticsEvent]]:
        async with self.connection() as conn:
            rows = await conn.fetch(f"SELECT {EVENT_COLUMNS} FROM analytics_events "
                                    "WHERE seq > $1 ORDER BY seq LIMIT $2", rowid, limit)
        return [positioned_event(r) for r in rows]

    async def recent_events(self, limit: int = 500) -> list[tuple[int, AnalyticsEvent]]:
        async with self.connection() as conn:
            rows = await conn.fetch(f"SELECT {EVENT_COLUMNS} FROM analytics_events "
                                    "ORDER BY seq DESC LIMIT $1", limit)
        return [positioned_event(r) for r in reversed(rows)]

    async def export_events(self, session_id: str | None = None, tenant_id: str | None = None,
                            since: float | None = None, until: float | None = None,
                            all_tenants: bool = False) -> list[AnalyticsEvent]:
        where, args = event_filter(session_id, tenant_id, since, until, all_tenants)
        async with self.connection() as conn:
            rows = await conn.fetch(to_pg(f"SELECT {EVENT_COLUMNS} FROM analytics_events{where}"
                                          ' ORDER BY "timestamp", seq'), *args)
        return [event_from_row(r) for r in rows]

    async def prune_events(self, before: float) -> int:
        async with self.connection() as conn:
            status = await conn.execute(
                'DELETE FROM analytics_events WHERE "timestamp" < $1', before)
        return int(str(status).rsplit(" ", 1)[-1])

    # ---- dead letters (events another exporter could not deliver) --------------------------

    async def add_dead_letters(self, exporter: str, events: Iterable[AnalyticsEvent],
                               error: str, next_attempt_at: float) -> int:
        rows = [(exporter, e.id, pg_json(e.to_json()), pg_text(error), next_attempt_at)
                for e in events]
        if not rows:
            return 0
        async with self.connection() as conn:
            await conn.executemany(
                "INSERT INTO dead_letters (exporter, event_id, event, attempts, last_error, "
                "next_attempt_at) VALUES ($1, $2, $3, 1, $4, $5) "
                "ON CONFLICT (exporter, event_id) DO UPDATE SET "
                "attempts = dead_letters.attempts + 1, last_error = excluded.last_error, "
                "next_attempt_at = excluded.next_attempt_at", rows)
        return len(rows)

    async def due_dead_letters(self, exporter: str, now: float,
                               limit: int = 500) -> list[tuple[AnalyticsEvent, int]]:
        async with self.connection() as conn:
            rows = await conn.fetch(
                "SELECT event, attempts FROM dead_letters WHERE exporter = $1 AND "
                "next_attempt_at <= $2 ORDER BY next_attempt_at LIMIT $3", exporter, now, limit)
        return [(AnalyticsEvent.from_json(json.loads(r[0])), int(r[1])) for r in rows]

    async def delete_dead_letters(self, exporter: str, event_ids: list[str]) -> None:
        async with self.connection() as conn:
            await conn.execute("DELETE FROM dead_letters WHERE exporter = $1 AND "
                               "event_id = ANY($2::text[])", exporter, event_ids)

    async def reschedule_dead_letters(self, exporter: str, event_ids: list[str], error: str,
                                      next_attempt_at: float) -> None:
        async with self.connection() as conn:
            await conn.execute(
                "UPDATE dead_letters SET attempts = attempts + 1, last_error = $1, "
                "next_attempt_at = $2 WHERE exporter = $3 AND event_id = ANY($4::text[])",
                pg_text(error), next_attempt_at, exporter, event_ids)

    async def dead_letter_counts(self) -> dict[str, int]:
        async with self.connection() as conn:
            rows = await conn.fetch(
                "SELECT exporter, COUNT(*) FROM dead_letters GROUP BY exporter")
        return {str(r[0]): int(r[1]) for r in rows}
