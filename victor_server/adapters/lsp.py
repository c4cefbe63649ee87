"""The LSP-style face (``victor-server lsp``) on pygls 2.x: a thin translation over the core.

Each row of the method table (``victor_server.methods``) is a ``victor/*`` request, and a
``workspace/executeCommand`` command where the row names one; each is one ``Application.call``.
Errors are the face kit's ``wire_error`` (``adapters.common``), raised as pygls' exception. The
application is built on the first request so ``initialize`` answers at once, rooted at
``--workspace`` or else the client's root. ``$/cancelRequest`` cancels the task
running a chat; the core turns that into a normal result with ``stopReason: "cancelled"``.
A tool call the approvals policy says to ask about becomes a ``victor/requestPermission``
request to the editor (``lsp_permissions``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import (
    JsonRPCNotification,
    JsonRPCRequestMessage,
    JsonRPCResponseMessage,
    LanguageServerProtocol,
    default_converter,
    lsp_method,
)

from victor_server import __version__
from victor_server.adapters.common import AppHolder, wire_error
from victor_server.adapters.lsp_permissions import CAPABILITY as PERMISSION_CAPABILITY
from victor_server.adapters.lsp_permissions import METHOD as PERMISSION_METHOD
from victor_server.adapters.lsp_permissions import LspApprover
from victor_server.adapters.lsp_wire import answered_id
from victor_server.adapters.wire_flow import InFlight, StdoutSink
from victor_server.adapters.wire_guard import (
    INVALID_REQUEST,
    WireLimits,
    error_response,
    invalid_request,
)
from victor_server.methods import LSP_METHODS, TABLE

logger = logging.getLogger(__name__)

# What a client may notify (no result type) in the LSP 3.17 schema, but not ``$/cancelRequest``:
# pygls handles that one itself, without a registered handler, and it must reach it.
ORDINARY_NOTIFICATIONS = frozenset(
    method for method, (_, result, *_) in types.METHOD_TO_TYPES.items()
    if result is None and method != types.CANCEL_REQUEST)

COMMANDS = {m.lsp_command: m.name for m in TABLE if m.lsp_command is not None}


def raw_params_converter() -> Any:
    """pygls' converter, but custom params and results stay plain JSON.

    pygls turns unknown params into namedtuples with ``rename=True``, which silently renames
    keys that are not identifiers (``tool_selection.strategy``, ``class``, ``my-key``). Our
    params are validated by pydantic anyway, so they arrive as the dicts the client sent.
    """
    converter = default_converter()  # type: ignore[no-untyped-call]
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, cls: cls(**obj))
    for message_type in (JsonRPCRequestMessage, JsonRPCNotification):
        # JSON-RPC lets a request omit params; without the default it would go unanswered
        converter.register_structure_hook(
            message_type, lambda obj, cls: cls(**{"params": None, **obj}))
    return converter


class VictorProtocol(LanguageServerProtocol):
    in_flight: InFlight | None = None  # set by start_io: answers release request slots

    def _send_data(self, data: Any) -> None:
        super()._send_data(data)
        answers, request_id = answered_id(data)
        if answers and self.in_flight is not None:
            self.in_flight.done(request_id)

    def handle_message(self, message: Any) -> None:
        # pygls drops (or raises on) JSON that is not a JSON-RPC message; the error rules want
        # -32600. Its object hook leaves anything without "jsonrpc" as plain JSON.
        if not hasattr(message, "jsonrpc"):
            self._send_data(invalid_request(message))
            return
        method = getattr(message, "method", "")
        if not isinstance(method, str) or (hasattr(message, "method") and not method):
            self._send_data(invalid_request({"jsonrpc": "2.0", "id": getattr(
                message, "id", None), "method": method}))
            return
        if self._shutdown and hasattr(message, "id") and method and method != types.EXIT:
            # pygls drops it silently; the client would wait for an answer forever
            self._send_data(error_response(message.id, INVALID_REQUEST,
                                           "invalid request: the server is shutting down"))
            return
        super().handle_message(message)

    def _handle_notification(self, method_name: str, params: Any) -> None:
        # Editors send the ordinary document and workspace notifications to every server they
        # start; pygls warns for each one it has no handler for. They need nothing from us.
        if method_name in ORDINARY_NOTIFICATIONS and not self._has_handler(method_name):
            logger.debug("ignored %s", method_name)
            return
        super()._handle_notification(method_name, params)

    def _has_handler(self, method_name: str) -> bool:
        return method_name in self.fm.features or method_name in self.fm.builtin_features

    @lsp_method(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def lsp_work_done_progress_cancel(self, params: types.WorkDoneProgressCancelParams) -> None:
        future = self.progress.tokens.get(params.token)
        if future is None:  # we start no progress of our own: nothing to cancel, nothing to say
            logger.debug("work done progress cancel for unknown token %s", params.token)
        else:
            future.cancel()

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(self, params: types.InitializeParams) -> Any:
        result = yield from super().lsp_initialize(params)
        result.capabilities.experimental = {"victor": {
            "methods": list(LSP_METHODS), "notifications": [
                "victor/chatDelta", "victor/toolCall"], "requests": [PERMISSION_METHOD],
            "version": __version__}}
        server = self._server
        if isinstance(server, VictorLanguageServer):
            server.on_initialize(params)
        return result


class VictorLanguageServer(LanguageServer):
    def __init__(self, factory: Callable[[Path | None, dict[str, Any]], Any]) -> None:
        super().__init__("victor-server", __version__, protocol_cls=VictorProtocol,
                         converter_factory=raw_params_converter)
        self._factory = factory
        self._root: Path | None = None
        self._init_options: dict[str, Any] = {}
        self.holder = AppHolder()
        self._sink: StdoutSink | None = None
        self._closing: asyncio.Future[None] | None = None

    def on_initialize(self, params: types.InitializeParams) -> None:
        if params.root_uri and params.root_uri.startswith("file://"):
            from pygls.uris import to_fs_path

            path = to_fs_path(params.root_uri)
            self._root = Path(path) if path else None
        options = params.initialization_options
        self._init_options = dict(options) if isinstance(options, dict) else {}

    async def app(self) -> Any:
        """The running application, built on the first request (at the client's root when
        ``--workspace`` was not given)."""
        return await self.holder.get(lambda: self._factory(self._root, self._init_options))

    async def client_caught_up(self) -> None:
        """Wait while the client has not read what we wrote (a streamed turn pauses)."""
        if self._sink is not None:
            await self._sink.drain()

    def report_server_error(self, error: Exception, source: Any) -> None:
        if isinstance(error, VictorRpcError):  # answered; the application logged what matters
            return
        if isinstance(error, json.JSONDecodeError | UnicodeDecodeError):
            # A frame we cannot parse: answer -32700 (id null) and keep serving.
            self.protocol._send_data({"jsonrpc": "2.0", "id": None, "error": {
                "code": -32700, "message": f"parse error: {error}"}})
            return
        if source is JsonRpcException:  # a frame pygls could not make a message of
            self.protocol._send_data(error_response(None, INVALID_REQUEST,
                                                    f"invalid request: {error}"))
        logger.error("server error (%s): %s", getattr(source, "__name__", source), error)

    def start_io(self, stdin: Any = None, stdout: Any = None) -> None:
        """Serve stdio until the client goes away (stdin EOF, ``exit``) or a signal stops us;
        either way running turns are cancelled (they store what was said), analytics flushed,
        the store closed, and the process ends (``shutdown.exit_now``). pygls' own loop is
        replaced by ``lsp_wire.serve`` (framing and flow control)."""
        import threading

        from victor_server.adapters import lsp_wire
        from victor_server.adapters.shutdown import close_on_signals, exit_now
        from victor_server.adapters.wire_flow import open_stdio

        self._stop_event = threading.Event()
        limits = WireLimits.process()
        protocol = self.protocol
        assert isinstance(protocol, VictorProtocol)

        async def serve() -> None:
            reader, sink = await open_stdio(stdin, stdout)
            self._sink = sink
            protocol.in_flight = in_flight = InFlight(limits)
            protocol.set_writer(sink)
            close_on_signals(self.close_after_disconnect)
            try:
                await lsp_wire.serve(self, reader, sink, limits, in_flight)
            except SystemExit:  # pygls' `exit` notification
                pass
            finally:
                await self.close_after_disconnect()
            await sink.flush()
            exit_now(0)

        try:
            asyncio.run(serve())
        except BrokenPipeError:
            logger.error("the client went away; shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]

    async def close_after_disconnect(self) -> None:
        """Cancel the requests still running (a turn stores what was said), close the
        application; once, however many ask (stdin EOF and a signal together)."""
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close_everything())
        await asyncio.shield(self._closing)

    async def _close_everything(self) -> None:
        futures: list[Any] = list(self.protocol._request_futures.values())
        await self.holder.close(f for f in futures if isinstance(f, asyncio.Future))


class VictorRpcError(JsonRpcException):
    """A ``VictorError`` on its way to the client: an answer, not a server fault, so pygls'
    tracebacks for it are dropped (kept at ``-vv``) and the answer itself says what happened."""


class _QuietAnswers(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, VictorRpcError) or logging.getLogger().isEnabledFor(
            logging.DEBUG)


logging.getLogger("pygls.protocol.json_rpc").addFilter(_QuietAnswers())


def rpc_error(exc: BaseException, method: str = "") -> JsonRpcException:
    error = wire_error(exc, "lsp", method)
    return VictorRpcError(error.message, error.code, error.data)


def create_server(factory: Callable[[Path | None, dict[str, Any]], Any]) -> VictorLanguageServer:
    server = VictorLanguageServer(factory)

    async def dispatch(method: str, params: Any) -> Any:
        notify = server.protocol.notify
        approver = LspApprover(server.protocol,
                               server._init_options.get(PERMISSION_CAPABILITY) is True)

        async def on_delta(session_id: str, text: str) -> None:
            notify("victor/chatDelta", {"sessionId": session_id, "text": text})
            await server.client_caught_up()  # a client that reads nothing pauses the stream

        try:
            app = await server.app()  # a store that cannot be opened is -32005, not -32603
            return await app.call(
                method, params, ask_permission=approver, on_delta=on_delta,
                on_tool=lambda info: notify("victor/toolCall", {
                    k: info[k] for k in ("sessionId", "id", "name", "status")}))
        except Exception as exc:  # a bug or a plugin's: one line, never a traceback in `data`
            raise rpc_error(exc, method) from exc

    for method in LSP_METHODS:
        server.feature(method)(_handler(dispatch, method))
    for command, method in COMMANDS.items():
        server.command(command)(_command(dispatch, method))

    @server.feature(types.SHUTDOWN)
    async def on_shutdown(params: Any) -> None:
        await server.holder.close()

    return server


def _handler(dispatch: Callable[[str, Any], Any], method: str) -> Callable[[Any], Any]:
    async def handle(params: Any) -> Any:
        return await dispatch(method, params)
    handle.__name__ = method.replace("/", "_")
    return handle


def _command(dispatch: Callable[[str, Any], Any], method: str) -> Callable[..., Any]:
    async def handle(*args: Any) -> Any:
        return await dispatch(method, args[0] if args else {})
    return handle
