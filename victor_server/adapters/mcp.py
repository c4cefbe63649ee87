"""The MCP face (``victor-server mcp``) on the ``mcp`` 2.x SDK's ``MCPServer``: a thin translation.

Every tool, resource and prompt is one ``Application.call`` to the same ``victor/*`` method the
LSP face serves. The tools are the method table's rows with an MCP name: their arguments are the
params model's fields, their output the result model in snake_case (``mcp_schemas``); errors
are the face kit's ``wire_error``. The params models accept snake_case as it is.

* Errors: a ``VictorError`` from a tool becomes an ``isError`` result whose text names the error
  code (``error -32001: session not found: x``); from a resource, a JSON-RPC error with that code.
  Arguments that break a tool's input schema are rejected by the SDK before the core is called.
* Progress: ``chat`` reports each streamed delta and tool call as a progress notification whose
  message is the text (the SDK drops them when the request carried no progress token).
* Cancellation: ``notifications/cancelled`` cancels the SDK's cancel scope around the tool. The
  turn runs in its own asyncio task so that the core sees exactly one ``CancelledError`` and can
  store what was said; an anyio scope would re-cancel every await of that tidy-up.
* Approvals: a tool call inside ``chat`` that the approvals policy says to ask about becomes an
  elicitation when the client declared that capability (``mcp_permissions``); else it is refused.
* Auth: ``_meta.authToken`` on a request is handed to the middleware as ``auth_token``.
* Both protocol eras (2025 ``initialize`` and 2026-07-28 ``server/discover``) are the SDK's.
* The application is built on the first request, so ``initialize`` answers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import inspect
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Annotated, Any

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from victor_server import __version__
from victor_server.adapters.common import AppHolder, credentials, render, wire_error
from victor_server.adapters.mcp_permissions import McpApprover
from victor_server.adapters.mcp_schemas import snake_model
from victor_server.api_models import McpType

if TYPE_CHECKING:
    from victor_server.methods import Method

logger = logging.getLogger(__name__)

AppFactory = Callable[[], Awaitable[Any]]

# Resources and prompts get no ``Context`` argument from the SDK; their request's credentials
# (``_meta.authToken``) reach ``Bridge.call`` through this, set around each read.
_REQUEST_CREDENTIALS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "victor_mcp_request_credentials", default=None)

INSTRUCTIONS = (
    "victor-server: an agent orchestrator. `chat` runs a turn with tool use in a stored session "
    "(pass session_id to continue one); `select_tools`, `compact_context`, `get_context` and "
    "`build_prompt` expose its parts; sessions and analytics are also resources under victor://.")

# Hints for clients deciding whether to ask the user: only `chat` (which runs the agent, its
# tools and the model) and `compact_context` (which rewrites a session's context) change state.
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True,
                            openWorldHint=False)
CHAT = ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False,
                       openWorldHint=True)
COMPACT = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False,
                          openWorldHint=False)



class ApplicationHolder(AppHolder):
    """The face kit's ``AppHolder``; closing also cancels the turns still running."""

    async def close(self, running: Any = ()) -> None:
        await super().close([*running, *RUNNING_TURNS])


class Bridge:
    """One route from an MCP request to ``Application.call``, with the error mapping."""

    def __init__(self, holder: ApplicationHolder) -> None:
        self.holder = holder
        self.subscriptions: Any = None  # mcp_features.ResourceSubscriptions, set by create_server

    async def call(self, method: str, params: dict[str, Any], ctx: Context | None = None,
                   **extra: Any) -> Any:
        app = await self.holder.get()
        given = credentials_of(ctx) if ctx is not None else _REQUEST_CREDENTIALS.get()
        started = time.perf_counter()
        try:
            return await app.call(method, _drop_none(params), credentials=given, **extra)
        finally:  # what a client that asked for `logging/setLevel debug` sees of each call
            logger.debug("%s session=%s %.0f ms", method, params.get("session_id") or "-",
                         (time.perf_counter() - started) * 1000)

    async def tool(self, method: str, params: dict[str, Any], ctx: Context | None,
                   **extra: Any) -> Any:
        """A tool's answer in snake_case; an error is an ``isError`` result naming its code."""
        try:
            return render(method, await self.call(method, params, ctx, **extra), "snake")
        except Exception as exc:
            error = wire_error(exc, "mcp", method)
            raise ToolError(f"error {error.code}: {error.message}") from exc

    async def resource(self, method: str, params: dict[str, Any], case: str = "snake") -> str:
        """A resource's text: the answer as JSON; an error is a JSON-RPC error with its code."""
        try:
            result = render(method, await self.call(method, params), case)
        except Exception as exc:
            error = wire_error(exc, "mcp", method)
            raise MCPError(code=error.code, message=error.message, data=error.data) from exc
        return json.dumps(result, indent=2, ensure_ascii=False)


def credentials_of(ctx: Context | None) -> dict[str, Any] | None:
    try:
        meta = ctx.request_context.meta if ctx is not None else None
    except (AttributeError, ValueError, LookupError):  # a Context made outside a request
        meta = None
    return meta_credentials(meta)


def meta_credentials(meta: Any) -> dict[str, Any] | None:
    return credentials(meta.get("authToken") if meta else None)


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


RUNNING_TURNS: set[asyncio.Task[Any]] = set()  # cancelled by ApplicationHolder.close


async def run_turn(coro: Coroutine[Any, Any, Any]) -> Any:
    """Await ``coro`` in its own task; if the request is cancelled, cancel the turn once and
    let it finish storing (shielded) before the cancellation goes on."""
    task = asyncio.ensure_future(coro)
    RUNNING_TURNS.add(task)
    task.add_done_callback(RUNNING_TURNS.discard)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        task.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the request is gone, nobody else will read it
        raise


class ChatProgress:
    """Streams a turn as progress notifications: one per delta or tool call, text as message."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.count = 0

    async def report(self, message: str) -> None:
        self.count += 1
        await self.ctx.report_progress(self.count, None, message)

    async def on_delta(self, session_id: str, text: str) -> None:
        await self.report(text)

    async def on_tool(self, info: dict[str, Any]) -> None:
        await self.report(f"tool {info.get('name')} ({info.get('id')}): {info.get('status')}")


class VictorMCPServer(MCPServer[Any]):
    async def read_resource(self, uri: Any, context: Context | None = None) -> Any:
        token = _REQUEST_CREDENTIALS.set(credentials_of(context))
        try:
            return await super().read_resource(uri, context)
        finally:
            _REQUEST_CREDENTIALS.reset(token)

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None,
                         context: Context | None = None) -> Any:
        # The SDK turns an unknown prompt into a ValueError, which goes out as error code 0;
        # MCP says an invalid prompt name is -32602.
        prompt = self._prompt_manager.get_prompt(name)
        if prompt is None:
            raise MCPError(code=-32602, message=f"unknown prompt: {name}", data={"name": name})
        # Missing arguments would also be a ValueError (code 0) with a traceback in the log.
        given = arguments or {}
        missing = sorted(a.name for a in prompt.arguments or []
                         if a.required and a.name not in given)
        if missing:
            raise MCPError(code=-32602, message=f"{name}: missing required argument "
                           f"{', '.join(missing)}", data={"name": name, "missing": missing})
        token = _REQUEST_CREDENTIALS.set(credentials_of(context))
        try:
            return await super().get_prompt(name, arguments, context)
        finally:
            _REQUEST_CREDENTIALS.reset(token)


def create_server(holder: ApplicationHolder) -> MCPServer[Any]:
    from victor_server.adapters.mcp_features import install

    server = VictorMCPServer("victor-server", version=__version__, instructions=INSTRUCTIONS,
                             log_level="WARNING")
    bridge = Bridge(holder)

    async def session_ids(request: Any, prefix: str) -> list[str]:
        token = _REQUEST_CREDENTIALS.set(meta_credentials(request.meta))
        try:
            listed = await bridge.call("victor/session/list", {"limit": 1000})
        finally:
            _REQUEST_CREDENTIALS.reset(token)
        return [s["sessionId"] for s in listed["sessions"] if s["sessionId"].startswith(prefix)]

    bridge.subscriptions = install(server, session_ids)
    register_tools(server, bridge)
    register_resources(server, bridge)
    return server


HINTS = {"read_only": READ_ONLY, "changes": COMPACT, "agent": CHAT}


def register_tools(server: MCPServer[Any], bridge: Bridge) -> None:
    """One tool per row of the method table with an ``mcp_tool`` name: its arguments are the
    params model's fields (snake_case, with their limits and descriptions), its output schema
    the result model's (``snake_model``)."""
    from victor_server.methods import TABLE

    for method in TABLE:
        if method.mcp_tool is not None:
            server.add_tool(tool_function(bridge, method), name=method.mcp_tool,
                            description=method.description, annotations=HINTS[method.mcp_hint])


def tool_function(bridge: Bridge, method: Method) -> Callable[..., Awaitable[Any]]:
    """A function whose signature is ``method``'s params model, for the SDK to read."""
    async def tool(ctx: Context, **arguments: Any) -> Any:
        params = {k: v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v
                  for k, v in arguments.items()}
        if not method.streams:
            return await bridge.tool(method.name, params, ctx)
        progress = ChatProgress(ctx)
        result = await run_turn(bridge.tool(
            method.name, params, ctx, on_delta=progress.on_delta, on_tool=progress.on_tool,
            ask_permission=McpApprover(ctx)))
        await bridge.subscriptions.turn_stored(result["session_id"])
        return result

    parameters = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    for name, field in method.params_model.model_fields.items():
        mcp_type = next((x for x in field.metadata if isinstance(x, McpType)), None)
        annotation = mcp_type.annotation if mcp_type is not None else field.annotation
        metadata = [x for x in field.metadata if not isinstance(x, McpType)]
        if field.description:
            metadata.append(Field(description=field.description))
        if metadata:
            annotation = Annotated[(annotation, *metadata)]
        default = inspect.Parameter.empty if field.is_required() else field.default
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                            default=default, annotation=annotation))
    output = snake_model(method.result_model)
    tool.__signature__ = inspect.Signature(parameters, return_annotation=output)  # type: ignore[attr-defined]
    tool.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": output}
    tool.__name__ = method.mcp_tool or method.name
    tool.__doc__ = method.description
    return tool


def register_resources(server: MCPServer[Any], bridge: Bridge) -> None:
    @server.resource("victor://standards", name="standards", mime_type="text/markdown",
                     description="the project standards part of the built system prompt")
    async def standards() -> str:
        built = await bridge.resource("victor/buildPrompt", {}, "camel")
        return contribution_text(json.loads(built), "project_standards")

    @server.resource("victor://config", name="config", mime_type="application/json",
                     description="the resolved config and the source of each key")
    async def config() -> str:
        return await bridge.resource("victor/getConfig", {}, "camel")

    @server.resource("victor://sessions", name="sessions", mime_type="application/json",
                     description="stored sessions, most recent first")
    async def sessions() -> str:
        return await bridge.resource("victor/session/list", {})

    @server.resource("victor://sessions/{session_id}", name="session",
                     mime_type="application/json", description="a session with its messages")
    async def session(session_id: str) -> str:
        return await bridge.resource("victor/session/get", {"session_id": session_id})

    @server.resource("victor://analytics/summary", name="analytics_summary",
                     mime_type="application/json", description="the analytics summary")
    async def analytics() -> str:
        return await bridge.resource("victor/analytics/summary", {})

    @server.prompt(name="victor_system", description="the system prompt victor builds")
    async def victor_system(task: str, language: str | None = None) -> str:
        context = _drop_none({"task": task, "language": language})
        built = json.loads(await bridge.resource("victor/buildPrompt", {"context": context},
                                                 "camel"))
        return str(built["systemPrompt"])


def contribution_text(built: dict[str, Any], name: str) -> str:
    """One contributor's text, cut from the built prompt (parts are joined by a blank line)."""
    prompt, start = str(built["systemPrompt"]), 0
    for part in built["contributions"]:
        if part["name"] == name:
            return prompt[start:start + part["chars"]]
        start += part["chars"] + 2
    return ""


RETRY_MS = 1000  # the SSE `retry` hint: how soon a dropped client reconnects and resumes


def transport_security(guard: Any) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding protection with our allow-lists (``victor_server.http_guard``),
    behind the guard that also asks for the token."""
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=guard.allowed_hosts(),
        allowed_origins=guard.allowed_origins())


async def serve_http(server: MCPServer[Any], args: argparse.Namespace) -> None:
    """Streamable HTTP: Host, Origin and (when set) the bearer token checked before the SDK
    sees a request; beyond loopback only with a token (``HttpSetupError`` otherwise)."""
    import uvicorn

    from victor_server.http_guard import GuardedASGI, load_guard

    # the tenant of an MCP request is its ``_meta.authToken`` (auth middleware): the HTTP
    # token only opens the door
    guard = await load_guard(args.host, args.port, getattr(args, "token_file", None),
                             args.workspace, args.config, tenant_tokens=False)
    from victor_server.adapters.mcp_events import BoundedEventStore

    app = server.streamable_http_app(transport_security=transport_security(guard),
                                     host=args.host, event_store=BoundedEventStore(),
                                     retry_interval=RETRY_MS)
    logger.info("serving MCP on http://%s:%s/mcp%s", args.host, args.port,
                " (bearer token required)" if guard.requires_token else "")
    config = uvicorn.Config(GuardedASGI(app, guard), host=args.host, port=args.port,
                            log_level="warning")
    await uvicorn.Server(config).serve()


def run(args: argparse.Namespace, first: Any = None) -> int:
    """Serve MCP; ``first`` is a frame ``mcp_fast_start`` read (and maybe answered) already."""
    async def factory() -> Any:
        # built on the first request: the core (settings, yaml, store, ...) is ~100 modules
        # that `initialize` does not need (bench/bench_startup.py)
        from victor_server.adapters.common import build_app

        return await build_app("mcp", args.workspace, args.config, args.db)

    holder = ApplicationHolder(factory)
    server = create_server(holder)

    async def serve() -> None:
        from victor_server.adapters.shutdown import close_on_signals, exit_now, once

        close = once(holder.close)  # a signal during the close at EOF waits for that close
        close_on_signals(close)
        try:
            if args.http:
                await serve_http(server, args)
            else:
                from victor_server.adapters.mcp_stdio import serve_stdio

                # run_stdio_async, answering malformed frames
                await serve_stdio(server, first)
        finally:
            with anyio.CancelScope(shield=True):
                await close()
        exit_now(0)  # closed; no thread (a provider warm-up) is waited for

    from victor_server.http_guard import HttpSetupError

    try:
        anyio.run(serve)
    except HttpSetupError as exc:
        sys.stderr.write(f"victor-server: mcp --http: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
