"""MCP's optional server features, the same in both protocol eras: logging, completions and
resource subscriptions.

* Logging: ``logging/setLevel`` picks, per client session, the lowest level of this server's
  own log records (``victor_server.*``) sent to it as ``notifications/message``. Nothing is sent
  before a client asks: its stderr already carries the log. Secrets are masked as on stderr.
* Completions: the ``language`` argument of the ``victor_system`` prompt, and the session id of
  the ``victor://sessions/{session_id}`` template (the caller's own sessions, by prefix). An
  unknown prompt or template is -32602.
* Subscriptions: a 2025-era client subscribes with ``resources/subscribe``; a 2026-07-28 client
  listens with ``subscriptions/listen`` (the SDK's bus). Either way, a turn that stores messages
  announces ``victor://sessions/<id>``, ``victor://sessions`` and ``victor://analytics/summary``
  as updated. Any URI may be subscribed; one this server never changes simply never fires.
  The list-changed flags are declared the same way in both eras; our lists are fixed, so no
  list-changed notification is ever due.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from mcp.server.lowlevel.server import NotificationOptions
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated

from victor_server.logging_redaction import redact_text

logger = logging.getLogger(__name__)

# Python's levels for MCP's syslog-style ones, and back
MCP_TO_PYTHON = {"debug": logging.DEBUG, "info": logging.INFO, "notice": logging.INFO + 5,
                 "warning": logging.WARNING, "error": logging.ERROR,
                 "critical": logging.CRITICAL, "alert": logging.CRITICAL + 5,
                 "emergency": logging.CRITICAL + 10}
LANGUAGES = ("python", "typescript", "javascript", "go", "rust", "java", "kotlin", "c", "c++",
             "c#", "ruby", "php", "swift", "scala", "shell", "sql", "english", "french",
             "german", "spanish", "japanese", "chinese")
MAX_COMPLETIONS = 100  # the most values MCP lets one completion carry


def mcp_level(levelno: int) -> types.LoggingLevel:
    chosen: types.LoggingLevel = "debug"
    for name, number in MCP_TO_PYTHON.items():
        if levelno >= number:
            chosen = name  # type: ignore[assignment]
    return chosen


class ClientLogForwarder(logging.Handler):
    """Sends this server's log records to the client connections that asked for them."""

    def __init__(self) -> None:
        super().__init__()
        self.levels: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()
        self._sends: set[asyncio.Task[None]] = set()

    def set_level(self, session: Any, level: str) -> None:
        self.levels[session] = MCP_TO_PYTHON[level]
        package = logging.getLogger("victor_server")
        wanted = min(self.levels.values())
        if package.getEffectiveLevel() > wanted:
            # stderr keeps the verbosity the command line chose; only our handler sees more
            for handler in logging.getLogger().handlers:
                if handler.level == logging.NOTSET:
                    handler.setLevel(package.getEffectiveLevel())
            package.setLevel(wanted)

    def emit(self, record: logging.LogRecord) -> None:
        # the SDK logs under `mcp.*`, so sending a record never makes another one to send
        if not self.levels or not record.name.startswith("victor_server"):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # a record from a worker thread: it reaches stderr only
            return
        text = redact_text(record.getMessage())
        for session, level in list(self.levels.items()):
            if record.levelno >= level:
                task = loop.create_task(self._send(session, mcp_level(record.levelno), text,
                                                   record.name))
                self._sends.add(task)
                task.add_done_callback(self._sends.discard)

    async def _send(self, session: Any, level: types.LoggingLevel, text: str, name: str) -> None:
        try:
            await session.notify("notifications/message",
                                 {"level": level, "data": text, "logger": name})
        except Exception:
            self.levels.pop(session, None)  # the client is gone


class ResourceSubscriptions:
    """Who listens to which resource URI, in either era, and telling them it changed."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus  # the SDK's subscriptions/listen bus (2026-07-28)
        self.subscribers: dict[str, weakref.WeakSet[Any]] = {}

    def subscribe(self, session: Any, uri: str) -> None:
        self.subscribers.setdefault(uri, weakref.WeakSet()).add(session)

    def unsubscribe(self, session: Any, uri: str) -> None:
        self.subscribers.get(uri, weakref.WeakSet()).discard(session)

    async def updated(self, *uris: str) -> None:
        for uri in uris:
            await self.bus.publish(ResourceUpdated(uri=uri))
            for session in list(self.subscribers.get(uri, ())):
                try:
                    await session.send_resource_updated(uri)
                except Exception:  # a session that went away stops listening
                    self.unsubscribe(session, uri)

    async def turn_stored(self, session_id: str) -> None:
        await self.updated(f"victor://sessions/{session_id}", "victor://sessions",
                           "victor://analytics/summary")


def connection(ctx: Any) -> Any:
    """The client's connection, which outlives the request: ``ctx.session`` is a proxy made
    for each request, so remembering it would forget the client as soon as the request ends."""
    return ctx.session._connection


SessionIds = Callable[[Any, str], Awaitable[list[str]]]


def install(server: Any, session_ids: SessionIds) -> ResourceSubscriptions:
    """Register the handlers on an ``MCPServer``; returns the subscriptions for the tools."""
    lowlevel = server._lowlevel_server
    subscriptions = ResourceSubscriptions(server._subscriptions)
    forwarder = ClientLogForwarder()
    logging.getLogger("victor_server").addHandler(forwarder)

    async def set_level(ctx: Any, params: types.SetLevelRequestParams) -> types.EmptyResult:
        forwarder.set_level(connection(ctx), params.level)
        return types.EmptyResult()

    async def subscribe(ctx: Any, params: types.SubscribeRequestParams) -> types.EmptyResult:
        subscriptions.subscribe(connection(ctx), str(params.uri))
        return types.EmptyResult()

    async def unsubscribe(ctx: Any, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        subscriptions.unsubscribe(connection(ctx), str(params.uri))
        return types.EmptyResult()

    async def complete(ctx: Any, params: types.CompleteRequestParams) -> types.CompleteResult:
        values = await completions(server, params, lambda prefix: session_ids(ctx, prefix))
        return types.CompleteResult(completion=types.Completion(
            values=values[:MAX_COMPLETIONS], total=len(values),
            has_more=len(values) > MAX_COMPLETIONS))

    lowlevel.add_request_handler("logging/setLevel", types.SetLevelRequestParams, set_level)
    lowlevel.add_request_handler("resources/subscribe", types.SubscribeRequestParams, subscribe)
    lowlevel.add_request_handler("resources/unsubscribe", types.UnsubscribeRequestParams,
                                 unsubscribe)
    lowlevel.add_request_handler("completion/complete", types.CompleteRequestParams, complete)
    # 2026-07-28 derives list-changed from subscriptions/listen being served; say the same in
    # the 2025 era so a client sees one server whichever handshake it used
    same_in_both_eras = NotificationOptions(prompts_changed=True, resources_changed=True,
                                            tools_changed=True)
    options = lowlevel.create_initialization_options
    lowlevel.create_initialization_options = lambda *args, **kwargs: options(
        *(args or (same_in_both_eras,)), **kwargs)
    return subscriptions


async def completions(server: Any, params: types.CompleteRequestParams,
                      session_ids: Callable[[str], Awaitable[list[str]]]) -> list[str]:
    ref, argument = params.ref, params.argument
    prefix = argument.value.lower()
    if isinstance(ref, types.PromptReference):
        prompt = server._prompt_manager.get_prompt(ref.name)
        if prompt is None:
            raise MCPError(code=-32602, message=f"unknown prompt: {ref.name}")
        if argument.name == "language":
            return [language for language in LANGUAGES if language.startswith(prefix)]
        return []
    templates = {t.uri_template for t in server._resource_manager.list_templates()}
    if ref.uri not in templates:
        raise MCPError(code=-32602, message=f"unknown resource template: {ref.uri}")
    if argument.name == "session_id":
        return await session_ids(argument.value)
    return []
