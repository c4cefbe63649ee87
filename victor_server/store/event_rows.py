"""Analytics event rows as both backends store them: the columns, the filter and the builder.

``analytics_events`` has the same columns on SQLite and PostgreSQL (PostgreSQL adds ``seq``
and generated timestamps), so the column list, the WHERE clause of the summary and the export
(written with SQLite's ``?`` placeholders; ``postgres_events.to_pg`` translates them) and the
row-to-event builder live here once. Every read selects the row's position in the table
(SQLite's ``rowid``, PostgreSQL's ``seq``) as ``position``: what a dashboard tails by.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from victor_server.analytics.events import AnalyticsEvent

EVENT_FIELDS = ("id", "session_id", "tenant_id", "type", "data", "timestamp")

# ``timestamp`` is quoted: PostgreSQL reads it bare as a type name, SQLite takes either form
EVENT_INSERT_COLUMNS = ", ".join(f'"{f}"' if f == "timestamp" else f for f in EVENT_FIELDS)


def event_columns(position: str, reading: Mapping[str, str] | None = None) -> str:
    """The SELECT list of an event read: ``position`` (the expression giving the row's place
    in the table) as ``position``, then every field under its own name; ``reading`` maps a
    field a backend stores differently (PostgreSQL's JSONB ``data``) to the expression that
    reads it back as the builder expects."""
    reading = reading or {}
    fields = [f"{reading[f]} AS {f}" if f in reading else f for f in EVENT_FIELDS]
    return ", ".join([f"{position} AS position", *fields])


def event_from_row(row: Any) -> AnalyticsEvent:
    """An event from a row read with ``event_columns`` (``data`` is JSON text)."""
    return AnalyticsEvent(type=row["type"], session_id=row["session_id"],
                          tenant_id=row["tenant_id"], data=json.loads(row["data"]),
                          id=row["id"], timestamp=float(row["timestamp"]))


def positioned_event(row: Any) -> tuple[int, AnalyticsEvent]:
    """``(position, event)``: what tailing returns, so the next call can ask for later rows."""
    return int(row["position"]), event_from_row(row)


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
        clauses.append('"timestamp" >= ?')
        args.append(since)
    if until is not None:
        clauses.append('"timestamp" <= ?')
        args.append(until)
    return (f" WHERE {' AND '.join(clauses)}" if clauses else ""), args


__all__ = ["EVENT_FIELDS", "EVENT_INSERT_COLUMNS", "event_columns", "event_filter",
           "event_from_row", "positioned_event"]
