"""The ACP face (``victor-server acp``): the Agent Client Protocol over stdio, protocol version 1.

Built on PyPI ``agent-client-protocol`` (import ``acp``), which owns the framing (one JSON
message per line), the schema types and the request routing; ``VictorAcpAgent`` implements its
``Agent`` interface as thin translations over the same core the other faces use:

======================  ==========================================================
ACP                     core (``Application.call``)
======================  ==========================================================
``session/new``         ``victor/session/create`` (+ MCP servers -> ToolCoordinator)
``session/load``        ``victor/session/get``, replayed as ``session/update``s
``session/list``        ``victor/session/list``
``session/prompt``      ``victor/chat`` with ``on_delta``/``on_tool`` -> updates
                        (a tool call is ``pending`` until approved, then
                        ``in_progress``), ``ask_permission`` ->
                        ``session/request_permission``,
                        ``client_fs`` -> ``fs/*``; then ``victor/getContext`` and
                        ``victor/analytics/summary`` (the session's cost) for
                        the ``usage_update``; the turn's tokens, cache reads and
                        writes included, in the response's ``usage``
``session/cancel``      cancels the task running the chat (stopReason "cancelled")
``set_config_option``   per-session config override (``model``)
``_victor/...``         the method table's rows marked ``acp`` (extension methods)
======================  ==========================================================

The application (orchestrator, store, middleware) is built once per process: eagerly at
``--workspace`` when one was given, else on the first session request at its ``cwd``. The
``initialize`` answer never waits for it, and the core's heavy imports run in a thread so the
event loop keeps answering meanwhile. ``_meta.authToken`` on ``initialize`` (or on any request)
is presented to the auth middleware as the client's credentials. Translation of values lives
in ``acp_updates``; the permission prompt and the editor file system in ``acp_permissions``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from acp import PROTOCOL_VERSION, RequestError, run_agent, schema
from acp.helpers import update_agent_message_text

from victor_server import __version__
from victor_server.adapters import acp_commands
from victor_server.adapters.acp_permissions import EditorFiles, PermissionGate
from victor_server.adapters.acp_terminal import EditorTerminal
from victor_server.adapters.acp_updates import (
    history_updates,
    plan_update,
    prompt_to_message,
    stop_reason,
    tool_finished,
    tool_running,
    tool_started,
)
from victor_server.adapters.common import (
    ACP_RESOURCE_NOT_FOUND,
    AppHolder,
    build_app,
    credentials,
    wire_error,
)
from victor_server.errors import MethodNotFound, SessionNotFound

if TYPE_CHECKING:
    from acp import Agent

    from victor_server.app import Application

logger = logging.getLogger(__name__)

MODEL_OPTION = "model"


@dataclass
class AcpSession:
    """What the face keeps per ACP session: only protocol state, never conversation."""

    session_id: str
    override: dict[str, Any] = field(default_factory=dict)
    mode: str = "default"
    turn: asyncio.Task[Any] | None = None


class VictorAcpAgent:
    def __init__(self, workspace: Path | None, config: Path | None, db: str | None) -> None:
        self._workspace = workspace  # None: the first session's cwd decides
        self._config = config
        self._db = db
        self._client: Any = None
        self._capabilities: schema.ClientCapabilities | None = None
        self._auth_token: str | None = None
        self._holder = AppHolder()
        self._sessions: dict[str, AcpSession] = {}
        self._background: set[asyncio.Task[None]] = set()

    # ---- the application -------------------------------------------------------------------

    def on_connect(self, conn: Any) -> None:
        self._client = conn
        if self._workspace is not None:
            self._holder.start(self._factory(self._workspace))

    def _factory(self, workspace: Path) -> Any:
        return lambda: build_app("acp", workspace, self._config, self._db)

    async def app(self, cwd: str | None = None) -> Application:
        try:
            app: Application = await self._holder.get(self._factory(_workspace_for(cwd)))
        except Exception as exc:  # e.g. a store that could not open: tried again next call
            raise _rpc_error(exc) from exc
        return app

    async def close(self) -> None:
        """Cancel the turns still running and let them store what was said, then close."""
        try:
            await self._holder.close(s.turn for s in self._sessions.values()
                                     if s.turn is not None)
        except Exception as exc:  # exiting anyway: say what could not be closed
            logger.warning("closing: %s", exc)

    async def _call(self, app: Application, method: str, params: dict[str, Any],
                    meta: dict[str, Any], **extra: Any) -> Any:
        given = credentials(meta.get("authToken") or self._auth_token)
        try:
            return await app.call(method, params, credentials=given, **extra)
        except Exception as exc:
            raise _rpc_error(exc, method) from exc

    async def ext_method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """``_victor/...``: a row of the method table marked for ACP, answered in camelCase;
        ``_meta.authToken`` as on every other request."""
        from victor_server.methods import lookup

        row = lookup(method)
        if row is None or not row.acp:
            raise _rpc_error(MethodNotFound(f"unknown method: _{method}"))
        meta = params.pop("_meta", None) if isinstance(params, dict) else None
        result: dict[str, Any] = await self._call(await self.app(), row.name, params,
                                                  meta if isinstance(meta, dict) else {})
        return result

    # ---- lifecycle ---------------------------------------------------------------------------

    async def initialize(self, protocol_version: int,
                         client_capabilities: schema.ClientCapabilities | None = None,
                         client_info: schema.Implementation | None = None,
                         **meta: Any) -> schema.InitializeResponse:
        self._capabilities = client_capabilities
        if isinstance(meta.get("authToken"), str):
            self._auth_token = meta["authToken"]
        return schema.InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_capabilities=schema.AgentCapabilities(
                load_session=True,
                prompt_capabilities=schema.PromptCapabilities(embedded_context=True,
                                                              image=True),
                mcp_capabilities=schema.McpCapabilities(http=False, sse=False),
                session_capabilities=schema.SessionCapabilities(
                    list=schema.SessionListCapabilities())),
            agent_info=schema.Implementation(name="victor-server", title="Victor",
                                             version=__version__),
            auth_methods=[])

    async def authenticate(self, method_id: str, **meta: Any) -> None:
        raise RequestError.invalid_params({"methodId": method_id,
                                           "reason": "no authentication methods are offered"})

    # ---- sessions ----------------------------------------------------------------------------

    async def new_session(self, cwd: str, additional_directories: list[str] | None = None,
                          mcp_servers: list[Any] | None = None,
                          **meta: Any) -> schema.NewSessionResponse:
        app = await self.app(cwd)
        _add_mcp_servers(app, mcp_servers)
        row = await self._call(app, "victor/session/create", {}, meta)
        session = self._session(row["sessionId"])
        options = await self._options(app, session, meta)
        self._advertise_commands(session.session_id)
        return schema.NewSessionResponse(session_id=session.session_id, config_options=options,
                                         modes=_modes(session))

    async def load_session(self, cwd: str, session_id: str,
                           mcp_servers: list[Any] | None = None,
                           additional_directories: list[str] | None = None,
                           **meta: Any) -> schema.LoadSessionResponse:
        app = await self.app(cwd)
        _add_mcp_servers(app, mcp_servers)
        stored = await self._call(app, "victor/session/get", {"sessionId": session_id}, meta)
        session = self._session(session_id)
        for update in history_updates(app.orchestrator.workspace, stored["messages"]):
            await self._client.session_update(session_id=session_id, update=update)
        await self._send_usage(app, session, meta)
        await self._client.session_update(session_id=session_id,
                                          update=acp_commands.commands_update())
        return schema.LoadSessionResponse(config_options=await self._options(app, session, meta),
                                          modes=_modes(session))

    async def list_sessions(self, cwd: str | None = None, cursor: str | None = None,
                            **meta: Any) -> schema.ListSessionsResponse:
        app = await self.app(cwd)
        workspace = app.orchestrator.workspace
        if cwd and _workspace_for(cwd) != workspace:
            return schema.ListSessionsResponse(sessions=[])  # this store serves one project
        params: dict[str, Any] = {"cursor": cursor} if cursor else {}
        listed = await self._call(app, "victor/session/list", params, meta)
        return schema.ListSessionsResponse(
            sessions=[schema.SessionInfo(session_id=s["sessionId"], cwd=str(workspace),
                                         title=s.get("title"),
                                         updated_at=_iso(s.get("updatedAt")))
                      for s in listed["sessions"]],
            next_cursor=listed.get("nextCursor"))

    async def set_config_option(self, config_id: str, session_id: str, value: str | bool,
                                **meta: Any) -> schema.SetSessionConfigOptionResponse:
        if config_id != MODEL_OPTION or not isinstance(value, str) or not value:
            raise RequestError.invalid_params({"configId": config_id,
                                               "reason": "only a model name can be set"})
        app = await self.app()
        session = self._session(session_id)
        session.override[MODEL_OPTION] = value
        return schema.SetSessionConfigOptionResponse(
            config_options=await self._options(app, session, meta))

    async def set_session_mode(self, session_id: str, mode_id: str,
                               **meta: Any) -> schema.SetSessionModeResponse:
        known = [mode for mode, _, _ in SESSION_MODES]
        if mode_id not in known:
            raise RequestError.invalid_params({"modeId": mode_id,
                                               "reason": "one of " + ", ".join(known)})
        session = self._sessions.get(session_id)
        if session is None:
            raise RequestError(ACP_RESOURCE_NOT_FOUND, "session not found: call session/new or "
                               "session/load first", {"sessionId": session_id})
        session.mode = mode_id
        await self._client.session_update(session_id=session_id, update=schema.CurrentModeUpdate(
            session_update="current_mode_update", current_mode_id=mode_id))
        return schema.SetSessionModeResponse()

    def _advertise_commands(self, session_id: str) -> None:
        """``available_commands_update`` for a new session, sent once the answer naming the
        session has gone out (an update for an id the client has not seen yet may be dropped)."""
        async def send() -> None:
            for _ in range(3):  # the SDK writes our answer in the loop turns after we return
                await asyncio.sleep(0)
            await self._client.session_update(session_id=session_id,
                                              update=acp_commands.commands_update())

        task = asyncio.get_running_loop().create_task(send())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _session(self, session_id: str) -> AcpSession:
        return self._sessions.setdefault(session_id, AcpSession(session_id))

    async def _options(self, app: Application, session: AcpSession,
                       meta: dict[str, Any]) -> list[Any]:
        """The model choice: the configured ``model`` plus any listed under ``models``."""
        config = (await self._call(app, "victor/getConfig", {"sessionId": session.session_id},
                                   meta))["config"]
        current = str(session.override.get(MODEL_OPTION) or config.get("model"))
        models = [current, str(config.get("model")),
                  *[str(m) for m in config.get("models") or [] if m]]
        return [schema.SessionConfigOptionSelect(
            type="select", id=MODEL_OPTION, name="Model", category="model",
            current_value=current,
            options=[schema.SessionConfigSelectOption(value=m, name=m)
                     for m in dict.fromkeys(models)])]

    # ---- turns -------------------------------------------------------------------------------

    async def prompt(self, prompt: list[Any], session_id: str,
                     **meta: Any) -> schema.PromptResponse:
        app = await self.app()
        session = self._sessions.get(session_id)
        if session is None:
            raise RequestError(ACP_RESOURCE_NOT_FOUND, "session not found: call session/new or "
                               "session/load first", {"sessionId": session_id,
                                                      "victorCode": SessionNotFound.code})
        if session.turn is not None and not session.turn.done():
            raise RequestError.invalid_request({"reason": "a prompt is already running",
                                                "sessionId": session_id})
        message, extra_blocks = prompt_to_message(prompt)
        command = acp_commands.parse(message) if not extra_blocks else None
        if command is not None:
            return await self._command(app, session, *command, meta)
        session.turn = asyncio.get_running_loop().create_task(
            self._turn(app, session, message, extra_blocks, meta))
        try:
            await asyncio.wait({session.turn})
        except asyncio.CancelledError:  # the connection is going away
            session.turn.cancel()
            raise
        if session.turn.cancelled():  # cancelled before the core's turn had started
            return schema.PromptResponse(stop_reason="cancelled")
        result: dict[str, Any] = session.turn.result()
        await self._send_usage(app, session, meta)
        usage = result.get("usage") or {}
        return schema.PromptResponse(
            stop_reason=stop_reason(str(result.get("stopReason"))),
            usage=acp_usage(usage))

    async def _command(self, app: Application, session: AcpSession, name: str, argument: str,
                       meta: dict[str, Any]) -> schema.PromptResponse:
        async def call(method: str, params: dict[str, Any]) -> Any:
            return await self._call(app, method, params, meta)

        text = await acp_commands.run(name, argument, session.session_id, call, session.override)
        await self._client.session_update(session_id=session.session_id,
                                          update=update_agent_message_text(text))
        if name == "compact":
            await self._send_usage(app, session, meta)
        return schema.PromptResponse(stop_reason="end_turn")

    async def _turn(self, app: Application, session: AcpSession, message: str,
                    extra_blocks: list[dict[str, Any]], meta: dict[str, Any]) -> Any:
        sid, workspace = session.session_id, app.orchestrator.workspace

        async def on_delta(_core_sid: str, text: str) -> None:
            await self._client.session_update(session_id=sid,
                                              update=update_agent_message_text(text))

        async def on_tool(info: dict[str, Any]) -> None:
            status = info.get("status")
            if info.get("name") == "plan":  # the model's checklist: shown as the plan itself
                entries = (info.get("data") or {}).get("plan")
                if status == "completed" and entries:
                    await self._client.session_update(session_id=sid, update=plan_update(entries))
                return
            update: Any = (tool_started(workspace, info) if status == "pending"
                           else tool_running(info) if status == "running"
                           else tool_finished(workspace, info))
            await self._client.session_update(session_id=sid, update=update)

        gate = PermissionGate(self._client, sid, workspace)
        return await self._call(
            app, "victor/chat", {"message": message, "sessionId": sid}, meta,
            on_delta=on_delta, on_tool=on_tool, ask_permission=gate,
            client_fs=EditorFiles.offered(self._client, sid, self._capabilities),
            extra_blocks=extra_blocks or None, override=dict(session.override) or None,
            mode=session.mode,
            terminal=EditorTerminal.offered(self._client, sid, self._capabilities))

    async def _send_usage(self, app: Application, session: AcpSession,
                          meta: dict[str, Any]) -> None:
        """``usage_update``: tokens the next request would send, the context window, and the
        session's estimated cost so far (priced with cache reads and writes)."""
        try:
            context = await self._call(app, "victor/getContext",
                                       {"sessionId": session.session_id}, meta)
            summary = await self._call(app, "victor/analytics/summary",
                                       {"sessionId": session.session_id}, meta)
        except RequestError as exc:  # usage is informative; never fail a turn over it
            logger.debug("no usage for %s: %s", session.session_id, exc)
            return
        usd = (summary.get("cost") or {}).get("usd") if isinstance(summary, dict) else None
        cost = schema.Cost(amount=float(usd), currency="USD") if usd is not None else None
        await self._client.session_update(
            session_id=session.session_id,
            update=schema.UsageUpdate(session_update="usage_update",
                                      used=int(context["tokens"]),
                                      size=int(context["contextWindow"]), cost=cost))

    async def cancel(self, session_id: str, **meta: Any) -> None:
        session = self._sessions.get(session_id)
        if session is not None and session.turn is not None and not session.turn.done():
            session.turn.cancel()


# Session modes (the core's approval modes): what the model may do without asking.
SESSION_MODES = (
    ("default", "Ask", "Ask before editing files or running commands (as configured)"),
    ("accept_edits", "Accept edits", "Edit files without asking; still ask before commands"),
    ("read_only", "Read only", "Read, search and answer; never change files or run commands"),
)


def _modes(session: AcpSession) -> schema.SessionModeState:
    return schema.SessionModeState(current_mode_id=session.mode, available_modes=[
        schema.SessionMode(id=mode_id, name=name, description=description)
        for mode_id, name, description in SESSION_MODES])


def acp_usage(usage: dict[str, Any]) -> schema.Usage:
    """The turn's usage in ACP's shape, whose total is the sum of every token type."""
    read, write = int(usage.get("cacheReadTokens", 0)), int(usage.get("cacheWriteTokens", 0))
    return schema.Usage(input_tokens=usage.get("inputTokens", 0),
                        output_tokens=usage.get("outputTokens", 0),
                        total_tokens=int(usage.get("totalTokens", 0)) + read + write,
                        cached_read_tokens=read, cached_write_tokens=write)


def _add_mcp_servers(app: Application, servers: list[Any] | None) -> None:
    """ACP stdio MCP servers as ToolCoordinator config; http/sse ones are not offered."""
    stdio = {}
    for server in servers or []:
        if isinstance(server, schema.McpServerStdio):
            stdio[server.name] = {"command": server.command, "args": list(server.args),
                                  "env": {v.name: v.value for v in server.env}}
        else:
            logger.warning("MCP server %s skipped: only stdio servers are supported",
                           getattr(server, "name", "?"))
    if stdio and app.orchestrator.tools is not None:
        app.orchestrator.tools.add_mcp_servers(stdio)


def _workspace_for(cwd: str | None) -> Path:
    """A session's ``cwd`` as the workspace root; the process's own when it is not usable."""
    path = Path(cwd) if cwd else Path.cwd()
    return (path if path.is_absolute() and path.is_dir() else Path.cwd()).resolve()


def _rpc_error(exc: BaseException, method: str = "") -> RequestError:
    """The face kit's answer for ``exc`` (ACP's codes, ours in ``data.victorCode``)."""
    error = wire_error(exc, "acp", method)
    return RequestError(error.code, error.message, error.data)


def _iso(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int | float):
        return None
    return datetime.datetime.fromtimestamp(timestamp, datetime.UTC).isoformat()


async def serve(args: argparse.Namespace) -> None:
    workspace = args.workspace if getattr(args, "workspace_explicit", True) else None
    agent = VictorAcpAgent(workspace, args.config, args.db)
    from victor_server.adapters.shutdown import close_on_signals, exit_now, once
    from victor_server.adapters.stdio_claim import claim_stdout
    from victor_server.adapters.stdio_lines import AcpStdio
    from victor_server.adapters.wire_flow import open_stdio
    from victor_server.adapters.wire_guard import WireLimits

    # The SDK reads through our transport: frames over the size or depth limit, and frames that
    # are not a JSON-RPC object (which would end the SDK's receive loop), are answered there,
    # and requests beyond the in-flight limit wait unread.
    # stdout is claimed for the protocol: a plugin's print() goes to stderr
    reader, sink = await open_stdio(stdout=claim_stdout())
    close = once(agent.close)
    close_on_signals(close)
    try:
        # a subset of Agent: the SDK answers -32601 for the rest
        await run_agent(cast("Agent", agent), AcpStdio(reader, sink, WireLimits.process()))
    finally:
        await close()
    await sink.flush()
    exit_now(0)  # stdin EOF: closed; no thread (a provider warm-up) is waited for


def run(args: argparse.Namespace) -> int:
    """``victor-server acp``: serve until the client closes stdin or a signal stops it."""
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        return 130
    return 0
