"""Tools from stdio MCP servers: one ``McpServerConnection`` per server, one ``McpTool`` per tool.

A server named in config (``mcp_servers: {name: {command, args, env}}``) or by ACP
``session/new`` is started on first use, initialised, and its tools listed. Each tool is offered
as ``<server>__<tool>``, sanitised to a legal Anthropic tool name (``^[a-zA-Z0-9_-]{1,64}$``);
a name that had to be shortened, or that would collide with one already taken, gets a short
hash of the original pair, so two servers' tools never collide.

Why each connection has an *owner task*: the SDK's ``stdio_client`` and ``ClientSession`` are
anyio context managers holding task groups, and anyio requires a cancel scope to be exited by
the task that entered it. The agent loop lists tools in one task and the server shuts down in
another, so entering them on an ``AsyncExitStack`` in the caller's task would break at close.
The owner task enters them (on its own ``AsyncExitStack``), reports the tool list, and waits
for ``aclose()``; calls from any task go through the session's streams, which is safe.

A server that cannot start (missing command, crash during initialise, timeout) is logged and
reported once as an error; its tools are simply absent. A server that dies mid-session turns
every later call into an ``is_error`` result naming the server.

The ``mcp`` SDK is imported only when a server is started: it costs most of a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from victor_server.tools.base import ToolContext, ToolResult, ToolSpec

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0


def mcp_tool_name(server: str, tool: str, taken: set[str]) -> str:
    """``<server>__<tool>`` as a legal, unused Anthropic tool name."""
    name = re.sub(r"[^a-zA-Z0-9_-]", "_", f"{server}__{tool}")
    if len(name) <= 64 and name not in taken:
        return name
    digest = hashlib.sha1(f"{server}\0{tool}".encode()).hexdigest()[:8]
    return f"{name[:55]}_{digest}"


def server_env(raw: Any) -> dict[str, str]:
    """The server's extra environment: a mapping, or ACP's ``[{name, value}]`` list."""
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return {str(item["name"]): str(item["value"]) for item in raw
                if isinstance(item, dict) and "name" in item}
    return {}


def _describe(exc: BaseException) -> str:
    while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
        exc = exc.exceptions[0]  # anyio task groups wrap the one real failure
    return str(exc) or type(exc).__name__


def _errlog() -> TextIO:
    """Where the server's stderr goes: ours when it is a real file, else nowhere."""
    try:
        sys.stderr.fileno()
        return sys.stderr
    except (AttributeError, OSError, ValueError):
        return open(os.devnull, "w")  # closed by the owner task


class McpServerConnection:
    def __init__(self, name: str, config: dict[str, Any], workspace: Path,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.name = name
        self.config = config
        self.workspace = workspace
        self.timeout = timeout
        self.error: str | None = None  # why it failed to start or died
        self._session: Any = None
        self._dead = False
        self._stop = asyncio.Event()
        self._owner: asyncio.Task[None] | None = None

    async def start(self) -> list[Any]:
        """Start the server and list its tools (``mcp.types.Tool``); raise ``RuntimeError``."""
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[list[Any]] = loop.create_future()
        self._owner = asyncio.create_task(self._own(ready), name=f"mcp-server-{self.name}")
        try:
            return await asyncio.wait_for(asyncio.shield(ready), self.timeout)
        except Exception as exc:
            self.error = f"failed to start: {_describe(exc)}"
            await self.aclose()
            if ready.done() and not ready.cancelled():
                ready.exception()  # retrieved: no "exception never retrieved" noise
            raise RuntimeError(f"MCP server {self.name!r} {self.error}") from exc

    async def _own(self, ready: asyncio.Future[list[Any]]) -> None:
        from mcp import ClientSession, StdioServerParameters, stdio_client

        params = StdioServerParameters(
            command=str(self.config["command"]),
            args=[str(a) for a in self.config.get("args", [])],
            env={**os.environ, **server_env(self.config.get("env"))},
            cwd=self.workspace)
        errlog = _errlog()
        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(stdio_client(params, errlog))
                session = await stack.enter_async_context(
                    ClientSession(read, write, read_timeout_seconds=self.timeout))
                await session.initialize()
                tools = await self._list_tools(session)
                self._session = session
                ready.set_result(tools)
                await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc if isinstance(exc, Exception)
                                    else RuntimeError(_describe(exc)))
            elif not self._stop.is_set():
                self.error = f"died: {_describe(exc)}"
                logger.warning("MCP server %s %s", self.name, self.error)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._session = None
            if errlog is not sys.stderr:
                errlog.close()

    @staticmethod
    async def _list_tools(session: Any) -> list[Any]:
        from mcp.types import PaginatedRequestParams

        result = await session.list_tools()
        tools = list(result.tools)
        while result.next_cursor:
            result = await session.list_tools(
                params=PaginatedRequestParams(cursor=result.next_cursor))
            tools.extend(result.tools)
        return tools

    async def call(self, tool: str, arguments: dict[str, Any]) -> ToolResult:
        session = self._session
        if session is None or self._owner is None or self._owner.done() or self._dead:
            reason = self.error or "is not running"
            return ToolResult(f"MCP server {self.name!r} {reason}", is_error=True,
                              data={"server": self.name})
        try:
            result = await session.call_tool(tool, arguments)
        except Exception as exc:
            if self._owner.done() or "closed" in str(exc).lower():
                self._dead = True  # the SDK reports a vanished process as a closed connection
                self.error = f"died: {_describe(exc)}"
                return ToolResult(f"MCP server {self.name!r} died while running {tool}: "
                                  f"{_describe(exc)}", is_error=True, data={"server": self.name})
            return ToolResult(f"MCP server {self.name!r}: {tool} failed: {_describe(exc)}",
                              is_error=True, data={"server": self.name})
        return ToolResult(_result_text(result), is_error=bool(result.is_error),
                          data={"server": self.name,
                                "structured": result.structured_content})

    async def aclose(self) -> None:
        self._stop.set()
        owner, self._owner = self._owner, None
        if owner is None or owner.done():
            return
        if self._session is None:
            owner.cancel()  # still starting (e.g. a server that never answers initialize)
        try:
            await asyncio.wait_for(owner, self.timeout)
        except asyncio.CancelledError:
            if not owner.cancelled():
                raise  # our caller is being cancelled, not the owner
        except Exception as exc:  # closing must not fail the caller's shutdown
            logger.debug("MCP server %s closed with %s", self.name, _describe(exc))


def _result_text(result: Any) -> str:
    parts: list[str] = []
    for block in result.content:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(block.text)
        elif kind == "resource":
            res = block.resource
            parts.append(getattr(res, "text", None) or f"[resource {res.uri}]")
        elif kind == "resource_link":
            parts.append(f"[resource link {block.uri}]")
        else:
            parts.append(f"[{kind} content: {getattr(block, 'mime_type', '')}]")
    if not parts and result.structured_content is not None:
        import json

        parts.append(json.dumps(result.structured_content))
    return "\n".join(parts)


class McpTool:
    """One MCP server tool, offered under its namespaced name."""

    def __init__(self, connection: McpServerConnection, tool: Any, name: str) -> None:
        self.connection = connection
        self.remote_name = tool.name
        annotations = tool.annotations
        read_only = bool(annotations and annotations.read_only_hint)
        config = connection.config
        self.spec = ToolSpec(
            name=name,
            description=(tool.description or tool.title or tool.name)
            + f" (from MCP server {connection.name})",
            input_schema=dict(tool.input_schema or {"type": "object", "properties": {}}),
            cost_tier=str(config.get("cost_tier", "medium")),
            domain=str(config.get("domain", "general")),
            writes=not read_only,  # unknown side effects: ask, as for bash
            source=connection.name)

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        return await self.connection.call(self.remote_name, tool_input)
