"""The SQLite store's analytics: events (insert, summary, tailing, export, retention) and dead
letters.

A mixin of ``SqliteStore`` (the store owns every SQL statement). Every statement runs inside
the store's ``guarded()`` block, like the rest of the store: the connection is shared by every
coroutine of the process, so a write outside it could commit (or roll back) another
coroutine's half-done transaction.

Dead letters are keyed by ``(exporter, event_id)``, so parking the same event twice for one
exporter keeps one row and a replay after a crash cannot duplicate it. Tailing reads
``analytics_events`` by ``rowid``: the dashboard runs in its own process beside any server
writing the same file and asks "what is new since the last row I saw", which SQLite answers
from the table's b-tree without an index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from victor_server.analytics.events import AnalyticsEvent
from victor_server.store.event_rows import (
    EVENT_INSERT_COLUMNS,
    event_columns,
    event_filter,
    event_from_row,
    positioned_event,
)
from victor_server.store.queries import Tally

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    import aiosqlite

    from victor_server.analytics.pricing import PriceTable
    from victor_server.api_models import AnalyticsSummary

EVENT_COLUMNS = event_columns("rowid")


class SqliteAnalytics:
    """The analytics half of ``SqliteStore``."""

    if TYPE_CHECKING:
        def guarded(self) -> AbstractAsyncContextManager[aiosqlite.Connection]: ...

    async def insert_events(self, events: Iterable[AnalyticsEvent]) -> int:
        rows = [(e.id, e.session_id, e.tenant_id, e.type, json.dumps(e.data), e.timestamp)
                for e in events]
        if not rows:
            return 0
        async with self.guarded() as db:
            await db.executemany(f"INSERT OR IGNORE INTO analytics_events "
                                 f"({EVENT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", rows)
            await db.commit()
        return len(rows)

    async def event_summary(self, session_id: str | None = None, tenant_id: str | None = None,
                            since: float | None = None, all_tenants: bool = False,
                            until: float | None = None,
                            prices: PriceTable | None = None) -> AnalyticsSummary:
        """The one summary shape every face and the dashboard return (see ``Tally``)."""
        where, args = event_filter(session_id, tenant_id, since, until, all_tenants)
        tally = Tally()
        async with self.guarded() as db, db.execute(
                f"SELECT type, data, session_id FROM analytics_events{where}", args) as cursor:
            async for event_type, raw, sid in cursor:
                tally.add(event_type, json.loads(raw), sid)
        return tally.summary(prices)

    # ---- tailing and export ----------------------------------------------------------------

    async def events_after(self, rowid: int, limit: int = 1000) \
            -> list[tuple[int, AnalyticsEvent]]:
        """Events stored after ``rowid``, oldest first, with their rowids."""
        async with self.guarded() as db, db.execute(
                f"SELECT {EVENT_COLUMNS} FROM analytics_events WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?", (rowid, limit)) as cursor:
            return [positioned_event(r) for r in await cursor.fetchall()]

    async def recent_events(self, limit: int = 500) -> list[tuple[int, AnalyticsEvent]]:
        """The newest ``limit`` events, oldest first (a dashboard's starting history)."""
        async with self.guarded() as db, db.execute(
                f"SELECT {EVENT_COLUMNS} FROM analytics_events ORDER BY rowid DESC LIMIT ?",
                (limit,)) as cursor:
            rows = await cursor.fetchall()
        return [positioned_event(r) for r in reversed(list(rows))]

    async def export_events(self, session_id: str | None = None, tenant_id: str | None = None,
                            since: float | None = None, until: float | None = None,
                            all_tenants: bool = False) -> list[AnalyticsEvent]:
        where, args = event_filter(session_id, tenant_id, since, until, all_tenants)
        async with self.guarded() as db, db.execute(
                f"SELECT {EVENT_COLUMNS} FROM analytics_events{where} ORDER BY timestamp, rowid",
                args) as cursor:
            return [event_from_row(r) for r in await cursor.fetchall()]

    async def prune_events(self, before: float) -> int:
        """Retention: drop events older than ``before`` (epoch seconds); returns how many."""
        async with self.guarded() as db:
            cursor = await db.execute("DELETE FROM analytics_events WHERE timestamp < ?",
                                      (before,))
            await db.commit()
        return int(cursor.rowcount)

    # ---- dead letters --------------------------------------------------------------------

    async def add_dead_letters(self, exporter: str, events: Iterable[AnalyticsEvent],
                               error: str, next_attempt_at: float) -> int:
        rows = [(exporter, e.id, json.dumps(e.to_json()), error, next_attempt_at)
                for e in events]
        if not rows:
            return 0
        # A re-parked event keeps its attempt count and gets the later schedule.
        async with self.guarded() as db:
            await db.executemany(
                "INSERT INTO dead_letters (exporter, event_id, event, attempts, last_error, "
                "next_attempt_at) VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (exporter, event_id) DO "
                "UPDATE SET attempts = attempts + 1, last_error = excluded.last_error, "
                "next_attempt_at = excluded.next_attempt_at", rows)
            await db.commit()
        return len(rows)

    async def due_dead_letters(self, exporter: str, now: float,
                               limit: int = 500) -> list[tuple[AnalyticsEvent, int]]:
        """Parked events whose retry time has come, with how often each was tried."""
        async with self.guarded() as db, db.execute(
                "SELECT event, attempts FROM dead_letters WHERE exporter = ? AND "
                "next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                (exporter, now, limit)) as cursor:
            rows = await cursor.fetchall()
        return [(AnalyticsEvent.from_json(json.loads(r[0])), int(r[1])) for r in rows]

    async def delete_dead_letters(self, exporter: str, event_ids: list[str]) -> None:
        async with self.guarded() as db:
            await db.executemany("DELETE FROM dead_letters WHERE exporter = ? AND event_id = ?",
                                 [(exporter, i) for i in event_ids])
            await db.commit()

    async def reschedule_dead_letters(self, exporter: str, event_ids: list[str], error: str,
                                      next_attempt_at: float) -> None:
        async with self.guarded() as db:
            await db.executemany(
                "UPDATE dead_letters SET attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = ? WHERE exporter = ? AND event_id = ?",
                [(error, next_attempt_at, exporter, i) for i in event_ids])
            await db.commit()

    async def dead_letter_counts(self) -> dict[str, int]:
        async with self.guarded() as db, db.execute(
                "SELECT exporter, COUNT(*) FROM dead_letters GROUP BY exporter") as cursor:
            return {str(r[0]): int(r[1]) for r in await cursor.fetchall()}


__all__ = ["EVENT_COLUMNS", "SqliteAnalytics"]
