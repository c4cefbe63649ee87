"""``victor-server dashboard``: a live analytics page served from the store, on loopback.

One asyncio server (``websockets``) answers both plain HTTP and the WebSocket, routing in
``process_request`` (returning a response ends the exchange; returning ``None`` lets the
WebSocket handshake go on):

* ``/`` the page (``dashboard.html``, self-contained: inline SVG charts, no external scripts)
* ``/api/summary`` the summary JSON every face returns (``?session=ID``, ``?since=`` as
  the CLI's ``--since`` takes it: epoch seconds, an ISO date or an age like ``24h``)
* ``/metrics`` Prometheus text (``victor_*``) computed from the store
* ``/ws`` a WebSocket: first ``{"kind": "snapshot", "events", "summary"}`` with recent history,
  then ``{"kind": "events", ...}`` whenever new events appear

The dashboard reads the store rather than any server's memory, so it works beside every process
writing the same database (an LSP server, ``victor-server chat``, an MCP server): a poll reads
``analytics_events`` rows past the last ``rowid`` it saw and pushes them to every viewer. Events
reach the table when the writing process flushes (every ``analytics_export_interval`` and at
exit).

Every request, the WebSocket handshake included, passes ``victor_server.http_guard`` first:
Host allow-list (421), Origin check (403), and the bearer token when one is configured (401);
bound to anything but loopback it does not start without an operator token. An operator token
(or an open loopback dashboard) sees every tenant; an auth middleware token sees its tenant's
events and summaries only, on every route and on the live feed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from victor_server.analytics.events import AnalyticsEvent
from victor_server.analytics.export import parse_time
from victor_server.analytics.pricing import PriceTable, cost_usd, priced_model
from victor_server.analytics.prometheus import MetricTotals
from victor_server.http_guard import COOKIE, HttpGuard, Principal
from victor_server.scope import tenant_of

if TYPE_CHECKING:
    from victor_server.api_models import AnalyticsSummary
    from victor_server.store.protocols import EventStore

logger = logging.getLogger(__name__)
OPERATOR = Principal()  # sees every tenant


def page() -> bytes:
    return resources.files("victor_server.analytics").joinpath("dashboard.html").read_bytes()


class Dashboard:
    def __init__(self, store: EventStore, host: str = "127.0.0.1", port: int = 8765,
                 poll_interval: float = 0.5, history: int = 500,
                 prices: PriceTable | None = None, guard: HttpGuard | None = None) -> None:
        self.store = store
        self.guard = guard or HttpGuard(port, host)
        self.host = host
        self.port = port
        self.poll_interval = poll_interval
        self.history = history
        self.prices = prices
        self.clients: dict[Any, Principal] = {}
        self._last_rowid = 0
        self._server: Any = None
        self._poller: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/"

    async def start(self) -> Dashboard:
        from websockets.asyncio.server import serve

        recent = await self.store.recent_events(1)
        self._last_rowid = recent[-1][0] if recent else 0
        self._server = await serve(self._viewer, self.host, self.port,
                                   process_request=self._route, max_size=2 ** 16)
        self.port = int(next(iter(self._server.sockets)).getsockname()[1])
        self.guard.port = self.port  # port 0 asked for any: the Host check needs the real one
        self._poller = asyncio.get_running_loop().create_task(self._poll())
        return self

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def summary(self, session_id: str | None = None, since: float | None = None,
                      principal: Principal = OPERATOR) -> AnalyticsSummary:
        return await self.store.event_summary(
            session_id=session_id, tenant_id=principal.tenant, since=since,
            all_tenants=principal.all_tenants, prices=self.prices)

    # ---- HTTP -------------------------------------------------------------------------------

    async def _route(self, connection: Any, request: Any) -> Any:
        url = urlsplit(request.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        verdict = self.guard.check(request.headers, query.get("token"))
        if not isinstance(verdict, Principal):
            status, reason = verdict
            logger.info("dashboard refused %s %s: %s", status, url.path, reason)
            return _response(connection, status, f"{reason}\n".encode(), "text/plain")
        if url.path == "/ws":
            connection.victor_principal = verdict
            return None
        try:
            if url.path in ("/", "/index.html"):
                if query.get("token"):  # once, from a link: keep it in a cookie, off the URL
                    return _with_token_cookie(connection, query["token"])
                return _response(connection, 200, page(), "text/html; charset=utf-8")
            if url.path == "/api/summary":
                since = parse_time(query["since"]) if query.get("since") else None
                session = query.get("session") or None
                if session and not self._may_see(verdict, session):
                    return _response(connection, 404, b"not found\n", "text/plain")
                body = json.dumps((await self.summary(session, since, verdict)).render("camel"))
                return _response(connection, 200, body.encode(), "application/json")
            if url.path == "/metrics":
                from prometheus_client import CONTENT_TYPE_LATEST

                totals = MetricTotals.from_summary(await self.summary(principal=verdict))
                return _response(connection, 200, totals.render(), CONTENT_TYPE_LATEST)
        except ValueError as exc:
            return _response(connection, 400, f"bad request: {exc}\n".encode(), "text/plain")
        return _response(connection, 404, b"not found\n", "text/plain")

    @staticmethod
    def _may_see(principal: Principal, session_id: str) -> bool:
        return principal.all_tenants or tenant_of(session_id) == principal.tenant

    @staticmethod
    def _visible(principal: Principal, events: list[AnalyticsEvent]) -> list[AnalyticsEvent]:
        if principal.all_tenants:
            return events
        return [e for e in events if e.tenant_id == principal.tenant]

    # ---- WebSocket --------------------------------------------------------------------------

    async def _viewer(self, connection: Any) -> None:
        principal: Principal = getattr(connection, "victor_principal", None) or Principal("-")
        recent = [e for _, e in await self.store.recent_events(self.history)]
        await connection.send(self._message("snapshot", self._visible(principal, recent),
                                            await self.summary(principal=principal)))
        self.clients[connection] = principal
        try:
            await connection.wait_closed()
        finally:
            self.clients.pop(connection, None)

    async def _poll(self) -> None:
        from websockets.asyncio.server import broadcast

        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                rows = await self.store.events_after(self._last_rowid)
                if not rows:
                    continue
                self._last_rowid = rows[-1][0]
                events = [e for _, e in rows]
                # one message per audience: each viewer gets its tenant's events only
                for principal in set(self.clients.values()):
                    visible = self._visible(principal, events)
                    if visible:
                        viewers = {c for c, p in self.clients.items() if p == principal}
                        broadcast(viewers, self._message(
                            "events", visible, await self.summary(principal=principal)))
            except Exception as exc:  # a locked or busy store: try again next tick
                logger.warning("dashboard poll failed: %s", exc)

    def _message(self, kind: str, events: list[AnalyticsEvent], summary: AnalyticsSummary) -> str:
        return json.dumps({"kind": kind, "events": [self._view(e) for e in events],
                           "summary": summary.render("camel")})

    def _view(self, event: AnalyticsEvent) -> dict[str, Any]:
        view = event.to_json()
        if event.type == "token_usage":  # the page plots cost per call without a price table
            view["costUsd"] = cost_usd(priced_model(event.data),
                                       int(event.data.get("input_tokens") or 0),
                                       int(event.data.get("output_tokens") or 0),
                                       self.prices,
                                       int(event.data.get("cache_read_tokens") or 0),
                                       int(event.data.get("cache_write_tokens") or 0)) or 0.0
        return view


def _response(connection: Any, status: int, body: bytes, content_type: str) -> Any:
    response = connection.respond(status, "")
    response.body = body
    del response.headers["Content-Type"]
    del response.headers["Content-Length"]
    response.headers["Content-Type"] = content_type
    response.headers["Content-Length"] = str(len(body))
    response.headers["Cache-Control"] = "no-store"
    return response


def _with_token_cookie(connection: Any, token: str) -> Any:
    """``/?token=...``: set the token as an HttpOnly, same-site cookie (sent with the page's
    fetches and its WebSocket) and send the browser to ``/``, so the token leaves the URL."""
    response = _response(connection, 303, b"", "text/plain")
    response.headers["Location"] = "/"
    response.headers["Set-Cookie"] = (
        f"{COOKIE}={quote(token, safe='')}; HttpOnly; SameSite=Strict; Path=/")
    return response


async def _settings(workspace: Path, config: Path | None) -> Any:
    """The project's settings (the dashboard has no orchestrator): prices and the store."""
    from victor_server.config import (
        ConfigCoordinator,
        EnvironmentConfigProvider,
        FileConfigProvider,
    )

    try:
        resolved = await ConfigCoordinator(
            [EnvironmentConfigProvider(), FileConfigProvider(config, workspace)]).resolve()
    except Exception as exc:
        logger.warning("dashboard: config not read, using defaults: %s", exc)
        return None
    return resolved.settings


async def serve(db: Path | str, host: str, port: int, workspace: Path,
                config: Path | None = None, token_file: Path | None = None) -> None:
    from victor_server.http_guard import http_settings, read_token, tenant_tokens_of
    from victor_server.store.factory import is_postgres_url, open_store

    stop = asyncio.Event()  # set by a signal, even one that arrives while we start
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    settings = await _settings(workspace, config)
    hosts, origins, configured_file = http_settings(settings)
    guard = HttpGuard(port, host, read_token(token_file or configured_file),
                      tenant_tokens_of(settings), hosts, origins)  # refuses an unsafe bind
    # the same store the servers use: SQLite by default, PostgreSQL when config names it
    # (``--db postgresql://...`` names it directly)
    chosen = str(db) if is_postgres_url(str(db)) or settings is None else settings
    store = await open_store(chosen, Path(db) if not is_postgres_url(str(db)) else workspace)
    try:
        prices: PriceTable | None = getattr(getattr(settings, "analytics", None), "prices", None)
        dashboard = Dashboard(store, host, port, prices=prices, guard=guard)
        await dashboard.start()
        note = " (bearer token required)" if guard.requires_token else " (loopback, no token)"
        sys.stderr.write(f"victor-server dashboard on {dashboard.url}{note}\n")
        sys.stderr.flush()
        try:
            await stop.wait()
        finally:
            await dashboard.close()
    finally:  # also when it could not listen: the store's thread would keep the process alive
        await store.close()


def run(args: argparse.Namespace) -> int:
    """Serve until a signal; every failure to start is one line on stderr."""
    from victor_server.app import db_path_for
    from victor_server.errors import VictorError
    from victor_server.http_guard import HttpSetupError
    from victor_server.store.factory import is_postgres_url

    workspace = Path(args.workspace or Path.cwd()).resolve()
    try:
        db = args.db if args.db and is_postgres_url(args.db) else db_path_for(workspace, args.db)
        asyncio.run(serve(db, args.host, args.port, workspace,
                          getattr(args, "config", None), getattr(args, "token_file", None)))
    except HttpSetupError as exc:
        sys.stderr.write(f"victor-server: dashboard: {exc}\n")
        return 2
    except VictorError as exc:
        sys.stderr.write(f"victor-server: dashboard: error {exc.code}: {exc.message}\n")
        return 1
    except (OSError, OverflowError) as exc:  # a busy port; a port outside 0-65535
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        sys.stderr.write(f"victor-server: dashboard cannot listen on {args.host}:{args.port}: "
                         f"{reason}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
