"""The ``postgresql`` analytics exporter (victor-ai's PostgreSQL exporter's table): events into a
PostgreSQL table for reporting and billing, configured as::

    analytics:
      exporters:
        - {postgresql: {url_env: VICTOR_ANALYTICS_PG_URL, batch_size: 100}}
        # or {postgresql: {url: "postgresql://reporter@db.internal/analytics"}}
        # or {postgresql: {url_file: ~/.config/victor/analytics-pg-url}}   (mode 0600)

The table is the store's ``analytics_events`` (``postgres_migrations.EVENTS_DDL``: JSONB data,
indexes on session, tenant, type and time, monthly range partitions), created if missing, so
the exporter and a PostgreSQL store can share one database without conflict.

Each ``export`` call writes its events in chunks of ``batch_size``, one
``INSERT ... FROM unnest(...) ON CONFLICT DO NOTHING`` round trip per chunk, so a retried batch
never duplicates a row. When the database cannot be reached the call raises ``ExportFailed``;
the coordinator parks the batch in the store's dead letters and redelivers it on its retry
schedule once the database is back. A chunk that got through before the failure is simply
skipped on redelivery.

The pool is created on first use (and again after a failure to create it), so a server starts
even while the analytics database is down. asyncpg is imported only when this exporter is used.
"""

from __future__ import annotations

import os
from typing import Any

from victor_server.analytics.events import AnalyticsEvent
from victor_server.analytics.protocol import ExportFailed
from victor_server.logging_redaction import redact_text
from victor_server.store.factory import read_url_file, store_url
from victor_server.store.postgres import describe
from victor_server.store.postgres_events import EventWriter
from victor_server.store.postgres_migrations import ensure_events_table


class PostgreSQLExporter:
    name = "postgresql"

    def __init__(self, url: str | None = None, batch_size: int = 100, *,
                 url_env: str | None = None, url_file: str | None = None,
                 connection_string: str | None = None, pool_size: int = 4,
                 timeout: float = 5.0) -> None:
        if url_env:
            url = os.environ.get(url_env) or url
        if url_file:
            url = read_url_file(url_file)
        url = url or connection_string  # victor-ai's keyword
        if not url:
            raise ValueError("postgresql exporter: give url, url_env or url_file")
        self.url = str(store_url(url))  # registers the password with the log redaction
        self.batch_size = max(1, int(batch_size))
        self.pool_size = pool_size
        self.timeout = timeout
        self._pool: Any = None
        self._writer = EventWriter()

    def __repr__(self) -> str:
        return f"PostgreSQLExporter({describe(self.url)!r})"

    async def _get_pool(self) -> Any:
        import asyncpg

        if self._pool is None:
            pool = await asyncpg.create_pool(self.url, min_size=1, max_size=self.pool_size,
                                             timeout=self.timeout, command_timeout=30.0)
            try:
                async with pool.acquire() as conn:
                    await ensure_events_table(conn)
            except BaseException:
                pool.terminate()
                raise
            self._pool = pool
        return self._pool

    async def start(self) -> None:
        try:
            await self._get_pool()
        except Exception as exc:  # down at start: the first export tries again
            raise ExportFailed(self._problem(exc)) from exc

    async def export(self, events: list[AnalyticsEvent]) -> int:
        """Write ``events``; returns how many were sent. Raises ``ExportFailed``."""
        import asyncpg

        if not events:
            return 0
        try:
            pool = await self._get_pool()
            async with pool.acquire(timeout=self.timeout) as conn:
                for start in range(0, len(events), self.batch_size):
                    await self._writer.write(conn, events[start:start + self.batch_size])
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise ExportFailed(self._problem(exc)) from exc
        return len(events)

    def _problem(self, exc: BaseException) -> str:
        return f"postgresql {describe(self.url)}: {redact_text(str(exc)) or type(exc).__name__}"

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await pool.close()
            except Exception:
                pool.terminate()


# victor-ai's name for it
PostgreSQLAnalyticsExporter = PostgreSQLExporter

__all__ = ["PostgreSQLAnalyticsExporter", "PostgreSQLExporter"]
