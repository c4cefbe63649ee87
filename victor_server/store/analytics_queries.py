"""The analytics side of the store: dead letters, retention, tailing and export.

A mixin of ``Store`` (the store owns every SQL statement). Dead letters are keyed by
``(exporter, event_id)``, so parking the same event twice for one exporter keeps one row and a
replay after a crash cannot duplicate it. Tailing reads ``analytics_events`` by ``rowid``: the
dashboard runs in its own process beside any server writing the same file and asks "what is new
since the last row I saw", which SQLite answers from the table's b-tree without an index.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from victor_server.analytics.events import AnalyticsEvent

if TYPE_CHECKING:
    import aiosqlite

EVENT_COLUMNS = "rowid, id, session_id, tenant_id, type, data, timestamp"


def _event(row: Any) -> AnalyticsEvent:
    return AnalyticsEvent(type=row["type"], session_id=row["session_id"],
                          tenant_id=row["tenant_id"], data=json.loads(row["data"]),
                          id=row["id"], timestamp=float(row["timestamp"]))


def event_filter(session_id: str | None = None, tenant_id: str | None = None,
                 since: float | None = None, until: float | None = None,
                 all_tenants: bool = False) -> tuple[str, list[Any]]:
    """The WHERE clause shared by the summary and the export: session, tenant, time range."""
    clauses: list[str] = []
    args: list[Any] = []
    if session_id is not None:
        clauses.append("session_id = ?")
        args.append(session_id)
    if not all_tenants:
        clauses.append("tenant_id IS ?")
        args.append(tenant_id)
    if since is not None:
        clauses.append("timestamp >= ?")
        args.append(since)
    if until is not None:
        clauses.append("timestamp <= ?")
        args.append(until)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), args


class AnalyticsStore:
    @property
    def db(self) -> aiosqlite.Connection:  # the Store's open connection
        raise NotImplementedError

    # ---- tailing and export ----------------------------------------------------------------

    async def events_after(self, rowid: int, limit: int = 1000) \
            -> list[tuple[int, AnalyticsEvent]]:
        """Events stored after ``rowid``, oldest first, with their rowids."""
        async with self.db.execute(
                f"SELECT {EVENT_COLUMNS} FROM analytics_events WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?", (rowid, limit)) as cursor:
            return [(int(r["rowid"]), _event(r)) for r in await cursor.fetchall()]

    async def recent_events(self, limit: int = 500) -> list[tuple[int, AnalyticsEvent]]:
        """The newest ``limit`` events, oldest first (a dashboard's starting history)."""
        async with self.db.execute(
                f"SELECT {EVENT_COLUMNS} FROM analytics_events ORDER BY rowid DESC LIMIT ?",
                (limit,)) as cursor:
            rows = await cursor.fetchall()
        return [(int(r["rowid"]), _event(r)) for r in reversed(list(rows))]

    async def export_events(self, session_id: str | None = None, tenant_id: str | None = None,
                            since: float | None = None, until: float | None = None,
                            all_tenants: bool = False) -> list[AnalyticsEvent]:
        where, args = event_filter(session_id, tenant_id, since, until, all_tenants)
        async with self.db.execute(
                f"SELECT {EVENT_COLUMNS} FROM analytics_events{where} ORDER BY timestamp, rowid",
                args) as cursor:
            return [_event(r) for r in await cursor.fetchall()]

    async def prune_events(self, before: float) -> int:
        """Retention: drop events older than ``before`` (epoch seconds); returns how many."""
        cursor = await self.db.execute("DELETE FROM analytics_events WHERE timestamp < ?",
                                       (before,))
        await self.db.commit()
        return int(cursor.rowcount)

    # ---- dead letters --------------------------------------------------------------------

    async def add_dead_letters(self, exporter: str, events: Iterable[AnalyticsEvent],
                               error: str, next_attempt_at: float) -> int:
        rows = [(exporter, e.id, json.dumps(e.to_json()), error, next_attempt_at)
                for e in events]
        if not rows:
            return 0
        # A re-parked event keeps its attempt count and gets the later schedule.
        await self.db.executemany(
            "INSERT INTO dead_letters (exporter, event_id, event, attempts, last_error, "
            "next_attempt_at) VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (exporter, event_id) DO "
            "UPDATE SET attempts = attempts + 1, last_error = excluded.last_error, "
            "next_attempt_at = excluded.next_attempt_at", rows)
        await self.db.commit()
        return len(rows)

    async def due_dead_letters(self, exporter: str, now: float,
                               limit: int = 500) -> list[tuple[AnalyticsEvent, int]]:
        """Parked events whose retry time has come, with how often each was tried."""
        async with self.db.execute(
                "SELECT event, attempts FROM dead_letters WHERE exporter = ? AND "
                "next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
                (exporter, now, limit)) as cursor:
            rows = await cursor.fetchall()
        return [(AnalyticsEvent.from_json(json.loads(r[0])), int(r[1])) for r in rows]

    async def delete_dead_letters(self, exporter: str, event_ids: list[str]) -> None:
        await self.db.executemany("DELETE FROM dead_letters WHERE exporter = ? AND event_id = ?",
                                  [(exporter, i) for i in event_ids])
        await self.db.commit()

    async def reschedule_dead_letters(self, exporter: str, event_ids: list[str], error: str,
                                      next_attempt_at: float) -> None:
        await self.db.executemany(
            "UPDATE dead_letters SET attempts = attempts + 1, last_error = ?, "
            "next_attempt_at = ? WHERE exporter = ? AND event_id = ?",
            [(error, next_attempt_at, exporter, i) for i in event_ids])
        await self.db.commit()

    async def dead_letter_counts(self) -> dict[str, int]:
        async with self.db.execute(
                "SELECT exporter, COUNT(*) FROM dead_letters GROUP BY exporter") as cursor:
            return {str(r[0]): int(r[1]) for r in await cursor.fetchall()}
