"""AnalyticsCoordinator: events into an in-process buffer, flushed in batches to exporters.

``record`` never awaits and never fails a turn: it appends to a buffer. A flush runs every
``analytics_export_interval`` seconds, when the buffer passes ``batch_size``, before a summary is
read (so a summary sees every event recorded before the request), and on shutdown.

Two kinds of exporter, so that a slow or dead sink never holds anything up:

* the *primary* one (``SQLiteExporter``, the store's own table) is awaited by ``flush``, because
  summaries read that table. If the store cannot be written the batch stays in memory and goes
  with the next flush.
* every other exporter delivers in a background task of its own (one at a time per exporter, so
  batches arrive in order). A batch it could not deliver, after its own retries, is parked in the
  store's ``dead_letters`` table and retried on an exponential schedule by the periodic loop
  until it goes through. Event ids make the redelivery idempotent. ``close`` waits for
  deliveries in flight for ``close_timeout`` seconds, then parks what is left: nothing is lost.

Retention: with ``analytics.retention_days`` set, events older than that are pruned at start
and once a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from victor_server.analytics.events import AnalyticsEvent
from victor_server.analytics.exporters import SQLiteExporter, create_exporters
from victor_server.analytics.protocol import (
    AnalyticsExporter,
    ExportResult,
    PluginExporter,
    check_result,
)

if TYPE_CHECKING:
    from victor_server.api_models import AnalyticsSummary

logger = logging.getLogger(__name__)

DAY = 86_400.0


def exporter_name(exporter: Any) -> str:
    return str(getattr(exporter, "name", type(exporter).__name__))


class AnalyticsCoordinator:
    def __init__(self, store: Any = None, exporters: list[AnalyticsExporter] | None = None,
                 interval: float = 5.0, enabled: bool = True, batch_size: int = 500) -> None:
        self.store = store
        self._exporters_given = exporters is not None
        self.exporters: list[AnalyticsExporter] = (
            [_adapted(e) for e in exporters] if exporters is not None
            else [SQLiteExporter(store)])
        self.interval = interval
        self.enabled = enabled
        self.batch_size = batch_size
        self.retention_days: float | None = None
        self.prices: dict[str, dict[str, float]] | None = None
        self.retry_base = 30.0  # first dead-letter retry after this, doubling, capped
        self.retry_cap = 3600.0
        self.close_timeout = 10.0
        # A/B variant -> the settings it changes (set when an experiment runs), for summaries
        self.variant_settings: dict[str, dict[str, Any]] = {}
        self.listeners: list[Any] = []  # callables(event) told as each event is recorded
        self._buffer: list[AnalyticsEvent] = []
        self._unstored: list[AnalyticsEvent] = []  # primary write failed: goes with next flush
        # batches an exporter failed to deliver that the store could not take yet
        self._unparked: list[tuple[str, list[AnalyticsEvent], str]] = []
        self._lock = asyncio.Lock()
        self._exporter_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._task: asyncio.Task[None] | None = None
        self._pruned_at = 0.0
        self._flush_scheduled = False

    def configure(self, settings: Any, workspace: Path | None = None,
                  plugin_options: dict[str, dict[str, Any]] | None = None,
                  disabled: list[str] | None = None) -> None:
        """Apply the ``analytics:`` settings section (exporters unless given, retention)."""
        self.retention_days = getattr(settings, "retention_days", None)
        self.prices = getattr(settings, "prices", None)
        self.retry_base = float(getattr(settings, "retry_base_seconds", self.retry_base))
        if not self._exporters_given:
            exporters = create_exporters(list(settings.exporters), self.store, workspace,
                                         plugin_options, disabled)
            if not any(getattr(e, "primary", False) for e in exporters):
                # summaries and the dashboard read the store: it is always a sink
                exporters.insert(0, SQLiteExporter(self.store))
            self.exporters = exporters

    def attach(self, store: Any) -> None:
        """The store, for a coordinator built without one (``AnalyticsCoordinator(exporters=
        [...])``, as victor-ai's examples do): it is always a sink, since summaries read it."""
        self.store = store
        for exporter in self.exporters:
            if isinstance(exporter, SQLiteExporter):
                exporter.store = store
        if not any(getattr(e, "primary", False) for e in self.exporters):
            self.exporters.insert(0, SQLiteExporter(store))

    async def export_analytics(self, session_id: str | None = None) -> ExportResult:
        """Deliver what is buffered now (victor-ai's manual export); ``exported_count`` is how
        many events the flush handed to the exporters."""
        return ExportResult(True, await self.flush())

    # ---- recording ------------------------------------------------------------------------

    def record(self, event_type: str, session_id: str | None = None,
               tenant_id: str | None = None, **data: Any) -> AnalyticsEvent | None:
        if not self.enabled:
            return None
        event = AnalyticsEvent(event_type, session_id, tenant_id, data)
        self._buffer.append(event)
        for listener in self.listeners:
            with contextlib.suppress(Exception):
                listener(event)
        if len(self._buffer) >= self.batch_size and not self._flush_scheduled:
            # One flush at a time: what arrives while it writes goes with the next, larger
            # batch (fewer commits under load, which is what bounds SQLite's rate).
            with contextlib.suppress(RuntimeError):  # no running loop: the next flush takes it
                self._spawn(self._scheduled_flush())
                self._flush_scheduled = True
        return event

    async def _scheduled_flush(self) -> None:
        try:
            await self.flush()
        finally:
            self._flush_scheduled = False

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # a reference, or the loop may collect it mid-flight
        task.add_done_callback(self._tasks.discard)

    # ---- delivery -------------------------------------------------------------------------

    async def flush(self) -> int:
        """Store the buffer (awaited) and hand it to the other exporters (in the background)."""
        async with self._lock:
            batch, self._buffer = self._buffer, []
            unstored, self._unstored = self._unstored, []
            for exporter in self.exporters:
                if getattr(exporter, "primary", False):
                    if unstored or batch:
                        await self._store(exporter, unstored + batch)
                elif batch:
                    self._spawn(self._deliver(exporter, batch))
            return len(batch)

    async def _store(self, exporter: AnalyticsExporter, batch: list[AnalyticsEvent]) -> None:
        try:
            await exporter.export(batch)
        except Exception as exc:
            logger.error("analytics: storing %d events failed, kept for the next flush: %s",
                         len(batch), exc)
            self._unstored = batch + self._unstored

    async def _deliver(self, exporter: AnalyticsExporter, batch: list[AnalyticsEvent]) -> None:
        name = exporter_name(exporter)
        try:  # around the lock too: a batch still queued behind a stuck one is parked as well
            async with self._exporter_locks.setdefault(name, asyncio.Lock()):
                check_result(await exporter.export(batch), name)
        except asyncio.CancelledError:
            await asyncio.shield(self._park(name, batch, "not delivered before shutdown"))
            raise
        except Exception as exc:  # one sink failing never blocks the others
            logger.warning("analytics exporter %s failed, %d events parked: %s",
                           name, len(batch), exc)
            await self._park(name, batch, str(exc))

    async def _park(self, name: str, batch: list[AnalyticsEvent], error: str) -> None:
        try:
            await self.store.add_dead_letters(name, batch, error[:500],
                                              time.time() + self.retry_base)
        except Exception as exc:  # e.g. a busy store: kept in memory, parked on the next tick
            logger.warning("analytics: could not park %d events for %s yet: %s",
                           len(batch), name, exc)
            self._unparked.append((name, batch, error))

    async def _park_again(self) -> None:
        pending, self._unparked = self._unparked, []
        for name, batch, error in pending:
            await self._park(name, batch, error)

    async def retry_dead_letters(self, now: float | None = None) -> int:
        """Redeliver parked events that are due; returns how many went through."""
        now = time.time() if now is None else now
        delivered = 0
        for exporter in self.exporters:
            if getattr(exporter, "primary", False):
                continue
            name = exporter_name(exporter)
            due = await self.store.due_dead_letters(name, now)
            if not due:
                continue
            events = [event for event, _ in due]
            ids = [event.id for event in events]
            async with self._exporter_locks.setdefault(name, asyncio.Lock()):
                try:
                    check_result(await exporter.export(events), name)
                except Exception as exc:
                    attempts = max(attempts for _, attempts in due)
                    delay = min(self.retry_cap, self.retry_base * 2 ** attempts)
                    await self.store.reschedule_dead_letters(name, ids, str(exc)[:500],
                                                             now + delay)
                    continue
            await self.store.delete_dead_letters(name, ids)
            delivered += len(ids)
        return delivered

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None or not self.enabled:
            return
        for exporter in self.exporters:
            starter = getattr(exporter, "start", None)
            if starter is not None:
                try:
                    await starter()
                except Exception as exc:
                    logger.error("analytics exporter %s failed to start: %s",
                                 exporter_name(exporter), exc)
        await self.prune()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def prune(self, now: float | None = None) -> int:
        if not self.retention_days:
            return 0
        now = time.time() if now is None else now
        self._pruned_at = now
        removed = int(await self.store.prune_events(now - self.retention_days * DAY))
        if removed:
            logger.info("analytics: pruned %d events older than %s days", removed,
                        self.retention_days)
        return removed

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.flush()
                await self._park_again()
                await self.retry_dead_letters()
                if self.retention_days and time.time() - self._pruned_at >= DAY:
                    await self.prune()
            except Exception as exc:
                logger.error("analytics flush failed: %s", exc)

    async def drain(self, seconds: float | None = None) -> bool:
        """Wait up to ``seconds`` for background deliveries in flight; True when none is left."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=seconds)
        return all(task.done() for task in self._tasks)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self.close_timeout)
            for task in pending:  # a delivery still retrying parks its batch as it is cancelled
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._park_again()
        for exporter in self.exporters:
            closer = getattr(exporter, "close", None) or getattr(exporter, "aclose", None)
            if closer is not None:
                with contextlib.suppress(Exception):
                    await closer()

    # ---- queries ----------------------------------------------------------------------------

    async def summary(self, session_id: str | None = None, tenant_id: str | None = None,
                      since: float | None = None, all_tenants: bool = False,
                      until: float | None = None) -> AnalyticsSummary:
        await self.flush()
        result: AnalyticsSummary = await self.store.event_summary(
            session_id=session_id, tenant_id=tenant_id, since=since, all_tenants=all_tenants,
            until=until, prices=self.prices)
        for name, arm in (result.variants or {}).items():
            if not arm.settings:  # its assignment fell outside the filter
                arm.settings = self.variant_settings.get(name, {})
        return result


def _adapted(exporter: Any) -> Any:
    """A user's exporter object, handed in directly, gets the published events too."""
    if type(exporter).__module__.startswith("victor_server.") or \
            getattr(exporter, "primary", False) or isinstance(exporter, SQLiteExporter):
        return exporter  # ours, or a store sink: summaries read what it writes
    return PluginExporter(exporter_name(exporter), exporter)
