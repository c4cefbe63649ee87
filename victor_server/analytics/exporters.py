"""The built-in analytics exporters and how config names them.

Every exporter is an ``AnalyticsExporter``: ``async export(events)`` that raises (or returns a
result with ``success: false``) when the batch was not delivered (the coordinator then parks it
as dead letters and retries later), with optional ``async start()`` and ``async close()``.
Built-ins load through the same registry as user exporters (entry-point group
``victor_server.analytics_exporters``), with options inline or from ``plugins.<name>``, from
config such as::

    analytics:
      exporters:
        - sqlite
        - {jsonl: {path: .victor/events.jsonl}}
        - {webhook: {url: "http://127.0.0.1:9000/hook", headers: {Authorization: "Bearer x"}}}
        - {prometheus: {pushgateway: "http://127.0.0.1:9091", job: victor}}
        - {websocket: {host: 127.0.0.1, port: 8765}}

Each exporter is named by its config key (``webhook``; a second one is ``webhook-2``): the name
keys its dead letters, so it must stay stable across restarts. httpx2 and websockets are imported
when an exporter that needs them is built, never at server start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from victor_server.analytics.events import AnalyticsEvent
from victor_server.analytics.protocol import ExportFailed, PluginExporter
from victor_server.plugins import REGISTRY, PluginDisabled, PluginFailed, PluginNotFound

if TYPE_CHECKING:
    from victor_server.analytics.protocol import AnalyticsExporter

logger = logging.getLogger(__name__)

GROUP = "victor_server.analytics_exporters"


class SQLiteExporter:
    """The default sink: the store's ``analytics_events`` table, one ``executemany`` a batch.

    It is the coordinator's *primary* exporter: summaries read this table, so a flush awaits it,
    while other exporters deliver in the background. ``INSERT OR IGNORE`` on the event id makes a
    repeated batch harmless."""

    name = "sqlite"
    primary = True

    def __init__(self, store: Any) -> None:
        self.store = store

    async def export(self, events: list[AnalyticsEvent]) -> int:
        return int(await self.store.insert_events(events))


class JSONLExporter:
    """One JSON object per line, appended; the file write runs in a thread off the loop."""

    name = "jsonl"

    def __init__(self, path: str | Path = ".victor/analytics.jsonl") -> None:
        self.path = Path(path)

    async def export(self, events: list[AnalyticsEvent]) -> int:
        text = "".join(json.dumps(e.to_json(), separators=(",", ":")) + "\n" for e in events)
        await asyncio.to_thread(self._append, text)
        return len(events)

    def _append(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(text)


class WebhookExporter:
    """POSTs each batch as a JSON array of events, retrying with exponential backoff.

    Connection errors, timeouts, 408, 429 and 5xx are retried; other 4xx mean the receiver
    refuses the payload and retrying now will not help (the batch is parked and retried on the
    dead-letter schedule). Receivers deduplicate on each event's ``id``."""

    name = "webhook"

    def __init__(self, url: str, headers: dict[str, str] | None = None, timeout: float = 5.0,
                 retries: int = 3, backoff: float = 0.5) -> None:
        import httpx2

        self.url = url
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.retries = retries
        self.backoff = backoff
        self._client = httpx2.AsyncClient(timeout=timeout)

    async def export(self, events: list[AnalyticsEvent]) -> int:
        import httpx2

        body = json.dumps([e.to_json() for e in events]).encode()
        problem = "not sent"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = await self._client.post(self.url, content=body, headers=self.headers)
            except httpx2.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
                continue
            if response.status_code < 300:
                return len(events)
            problem = f"HTTP {response.status_code}"
            if response.status_code < 500 and response.status_code not in (408, 429):
                break
        raise ExportFailed(f"webhook {self.url}: {problem}")

    async def close(self) -> None:
        await self._client.aclose()


class WebSocketExporter:
    """Serves a WebSocket on loopback and pushes each batch, as a JSON array, to every client.

    A client that went away is not a failed delivery: live viewers see what happens while they
    watch; history is in the store (the dashboard replays it from there). The handshake passes
    ``victor_server.http_guard`` (Host 421, Origin 403, token 401): options ``token_file``
    (or ``VICTOR_HTTP_TOKEN``), ``allowed_hosts`` and ``allowed_origins``; a host other than
    loopback needs the token. Every tenant's events go out, so only an operator token is
    accepted."""

    name = "websocket"

    def __init__(self, host: str = "127.0.0.1", port: int = 8765,
                 token_file: str | None = None, allowed_hosts: list[str] | None = None,
                 allowed_origins: list[str] | None = None) -> None:
        from victor_server.http_guard import HttpGuard, read_token

        self.host = host
        self.port = port
        self.clients: set[Any] = set()
        self._server: Any = None
        self.guard = HttpGuard(port, host, read_token(token_file), {}, allowed_hosts or (),
                               allowed_origins or ())

    async def start(self) -> None:
        from websockets.asyncio.server import serve

        self._server = await serve(self._client, self.host, self.port,
                                   process_request=self._check)
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])
        self.guard.port = self.port

    def _check(self, connection: Any, request: Any) -> Any:
        from victor_server.http_guard import Principal

        verdict = self.guard.check(request.headers)
        if isinstance(verdict, Principal):
            return None
        status, reason = verdict
        return connection.respond(status, f"{reason}\n")

    async def _client(self, connection: Any) -> None:
        self.clients.add(connection)
        try:
            await connection.wait_closed()
        finally:
            self.clients.discard(connection)

    async def export(self, events: list[AnalyticsEvent]) -> int:
        from websockets.asyncio.server import broadcast

        broadcast(self.clients, json.dumps([e.to_json() for e in events]))
        return len(events)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


def parse_spec(spec: Any) -> tuple[str, dict[str, Any]]:
    """``"sqlite"`` or ``{"webhook": {...}}`` -> (name, options)."""
    if isinstance(spec, str):
        return spec, {}
    if isinstance(spec, dict) and len(spec) == 1:
        name, options = next(iter(spec.items()))
        return str(name), dict(options or {})
    raise ValueError(f"analytics.exporters: expected a name or {{name: options}}, got {spec!r}")


def create_exporters(specs: list[Any], store: Any, workspace: Path | None = None,
                     plugin_options: dict[str, dict[str, Any]] | None = None,
                     disabled: list[str] | None = None) -> list[AnalyticsExporter]:
    """Build the configured exporters; one that fails to load is logged and skipped."""
    exporters: list[Any] = []
    seen: dict[str, int] = {}
    for spec in specs:
        try:
            name, inline = parse_spec(spec)
            options = {**(plugin_options or {}).get(name, {}), **inline}
            if name == "sqlite":
                exporter: Any = SQLiteExporter(store)  # the store itself, built here
                REGISTRY.in_use(GROUP, name)
            else:
                if name == "jsonl" and workspace is not None:
                    options["path"] = workspace / options.get("path", ".victor/analytics.jsonl")
                exporter = REGISTRY.create(GROUP, name, options, inject={"workspace": workspace},
                                           disabled=tuple(disabled or ()))
                if not REGISTRY.get(GROUP, name).builtin:
                    exporter = PluginExporter(name, exporter, REGISTRY.reporter(GROUP))
        except PluginDisabled:
            logger.info("analytics exporter %s is disabled (plugins.disabled)", spec)
            continue
        except PluginFailed:
            continue  # recorded and logged by the registry
        except (PluginNotFound, ValueError) as exc:
            logger.error("analytics exporter %r is skipped: %s", spec, exc)
            continue
        seen[name] = seen.get(name, 0) + 1
        with contextlib.suppress(AttributeError):  # the name keys the exporter's dead letters
            exporter.name = name if seen[name] == 1 else f"{name}-{seen[name]}"
        exporters.append(exporter)
    return exporters
