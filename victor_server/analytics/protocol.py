"""The analytics exporter shape, and the adapter a user's exporter is wrapped in.

An exporter is anything with ``async export(events)``. Delivered means the exporter said so:
it returned normally, with anything but a result whose ``success`` is false (victor-ai's
``ExportResult(success=False, error=...)``, an object or a mapping). Such a result, or an
exception, is a failed delivery: the coordinator parks the batch as dead letters and retries it
with backoff, so nothing is lost.

``PluginExporter`` wraps an installed exporter: it hands it the published event shape
(``AnalyticsEvent.published()``: a date-time ``timestamp``, ``data.total_tokens``, ``data.tool``,
``tenant``, ``variant``; schema in ``event.schema.json``), turns a failed result into
``ExportFailed`` and tells the plugin registry when the plugin fails or works again. At server
start it awaits the plugin's ``start()``, or runs its ``start_server()`` (a server that runs
until cancelled, such as a WebSocket broadcaster's) as a task cancelled at close.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from victor_server.analytics.events import AnalyticsEvent


class ExportFailed(RuntimeError):
    """A batch an exporter could not deliver; the coordinator parks it as dead letters."""


@runtime_checkable
class AnalyticsExporter(Protocol):
    async def export(self, events: list[AnalyticsEvent]) -> Any: ...


@dataclass
class ExportResult:
    success: bool = True
    exported_count: int = 0
    error: str | None = None


class BaseAnalyticsExporter:
    """What a user's exporter may extend (victor-ai's base class): override ``export``."""

    async def export(self, events: list[Any]) -> ExportResult:
        return ExportResult(True, len(events))


def check_result(result: Any, name: str) -> Any:
    """Raise ExportFailed when ``result`` says the batch was not delivered."""
    success = result.get("success", True) if isinstance(result, Mapping) \
        else getattr(result, "success", True)
    if success is False:
        error = result.get("error") if isinstance(result, Mapping) \
            else getattr(result, "error", None)
        raise ExportFailed(f"{name}: {error or 'the exporter reported a failure'}")
    return result


class PluginExporter:
    """An installed exporter under its config name."""

    def __init__(self, name: str, plugin: Any,
                 on_error: Callable[[str, BaseException | None], None] | None = None) -> None:
        self.name = name
        self.plugin_name = name
        self.plugin = plugin
        self.on_error = on_error
        self._serving: asyncio.Task[None] | None = None
        self._serve_failed = False  # its server could not run: it stays reported as failed

    async def export(self, events: list[AnalyticsEvent]) -> Any:
        try:
            result = check_result(
                await self.plugin.export([e.published() for e in events]), self.name)
        except Exception as exc:
            if self.on_error is not None:
                self.on_error(self.plugin_name, exc)
            raise
        if self.on_error is not None and not self._serve_failed:
            self.on_error(self.plugin_name, None)
        return result

    async def start(self) -> None:
        starter = getattr(self.plugin, "start", None)
        if callable(starter):
            await starter()
            return
        serve = getattr(self.plugin, "start_server", None)
        if callable(serve):
            # victor-ai's WebSocket exporter serves forever from ``start_server()``, which its
            # users run as a background task: so does the server, until it closes
            self._serving = asyncio.get_running_loop().create_task(self._serve(serve))

    async def _serve(self, serve: Callable[[], Any]) -> None:
        try:
            await serve()
        except Exception as exc:  # a port in use, a bad host: reported, the server goes on
            self._serve_failed = True
            if self.on_error is not None:
                self.on_error(self.plugin_name, exc)

    async def close(self) -> None:
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
        closer = getattr(self.plugin, "shutdown", None) or getattr(self.plugin, "close", None)
        if callable(closer):
            await closer()
