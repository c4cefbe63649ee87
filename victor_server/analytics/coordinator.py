"""AnalyticsCoordinator: events into an in-process buffer, flushed in batches to exporters.

``record`` never awaits and never fails a turn: it appends to a buffer. A flush runs every
``analytics_export_interval`` seconds, when the buffer passes ``batch_size``, before a summary is
read (so a summary sees every event recorded before the request), and on shutdown. The store's
own table is the ``sqlite`` exporter and always comes first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol, runtime_checkable

from victor_server.analytics.events import AnalyticsEvent

logger = logging.getLogger(__name__)


@runtime_checkable
class AnalyticsExporter(Protocol):
    async def export(self, events: list[AnalyticsEvent]) -> Any: ...


class SQLiteExporter:
    """The default sink: the store's ``analytics_events`` table, one ``executemany`` a batch."""

    name = "sqlite"

    def __init__(self, store: Any) -> None:
        self.store = store

    async def export(self, events: list[AnalyticsEvent]) -> int:
        return int(await self.store.insert_events(events))


class AnalyticsCoordinator:
    def __init__(self, store: Any, exporters: list[AnalyticsExporter] | None = None,
                 interval: float = 5.0, enabled: bool = True, batch_size: int = 500) -> None:
        self.store = store
        self.exporters: list[AnalyticsExporter] = (
            exporters if exporters is not None else [SQLiteExporter(store)])
        self.interval = interval
        self.enabled = enabled
        self.batch_size = batch_size
        self._buffer: list[AnalyticsEvent] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self.listeners: list[Any] = []  # callables(event) told as each event is recorded

    def record(self, event_type: str, session_id: str | None = None,
               tenant_id: str | None = None, **data: Any) -> AnalyticsEvent | None:
        if not self.enabled:
            return None
        event = AnalyticsEvent(event_type, session_id, tenant_id, data)
        self._buffer.append(event)
        for listener in self.listeners:
            with contextlib.suppress(Exception):
                listener(event)
        if len(self._buffer) >= self.batch_size:
            self._schedule_flush()
        return event

    def _schedule_flush(self) -> None:
        with contextlib.suppress(RuntimeError):  # no running loop: the next flush takes it
            asyncio.get_running_loop().create_task(self.flush())

    async def flush(self) -> int:
        async with self._lock:
            batch, self._buffer = self._buffer, []
            if not batch:
                return 0
            for exporter in self.exporters:
                try:
                    await exporter.export(batch)
                except Exception as exc:  # one sink failing never blocks the others
                    logger.error("analytics exporter %s failed: %s",
                                 getattr(exporter, "name", type(exporter).__name__), exc)
            return len(batch)

    async def start(self) -> None:
        if self._task is None and self.enabled:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
            except Exception as exc:
                logger.error("analytics flush failed: %s", exc)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def summary(self, session_id: str | None = None, tenant_id: str | None = None,
                      since: float | None = None, all_tenants: bool = False) -> dict[str, Any]:
        await self.flush()
        result: dict[str, Any] = await self.store.event_summary(
            session_id=session_id, tenant_id=tenant_id, since=since, all_tenants=all_tenants)
        return result
