"""ToolCoordinator: the tools a session can call, and the one place they are run.

The agent loop asks for ``specs()`` (what selection may offer the model) and calls
``execute()``; tool failures come back as ``ToolResult(is_error=True)`` so the turn goes on.

Where tools come from, in order (a later one with the same name replaces an earlier one):

1. built-ins ``read write edit ls search`` and, when ``bash.enabled``, ``bash``;
2. plugins from the ``victor_server.tools`` entry-point group;
3. tools passed to the constructor or ``add_tool`` (tests, the lead's own wiring);
4. MCP servers from ``mcp_servers`` or ``add_mcp_servers`` (ACP ``session/new``), started
   lazily on the first ``specs()`` so a server that is never needed is never spawned.

Names listed in ``disabled`` (and built-ins named in ``plugins.disabled``) are neither offered
nor run. ``options`` is shaped like the
``tools`` config section plus the servers: ``{"bash": {...}, "disabled": [...],
"mcp_servers": {...}, "mcp_timeout": 60, "protected_paths": [...], "store_path": ...,
"standards_file": ..., "<plugin>": {...}}``; the coordinator hands every call the
protected-path rules built from the last three (``protected_paths.Protection``).

``execute`` is the single gate every call passes: unknown or disabled name, input against the
tool's JSON schema, the tool's optional ``precheck(input, ctx)`` (a path outside the workspace, a
command off the allow-list: refused before anyone is asked), then the approvals policy
(``approvals``: allow, deny, or ask the user through the face, config ``tools.approvals``), then
the tool itself.
``ToolError`` keeps its message; any other exception becomes "<tool> failed: ...".
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from pathlib import Path
from typing import Any

from victor_server.tools.approvals import PERMISSION_DENIED, ApprovalGate
from victor_server.tools.base import Tool, ToolContext, ToolError, ToolResult, ToolSpec
from victor_server.tools.bash_tool import BashTool
from victor_server.tools.file_tools import EditTool, LsTool, ReadTool, WriteTool
from victor_server.tools.input_validation import InputValidator
from victor_server.tools.mcp_tools import (
    DEFAULT_TIMEOUT,
    McpServerConnection,
    McpTool,
    mcp_tool_name,
)
from victor_server.tools.plan_tool import PlanTool
from victor_server.tools.plugin_tools import load_plugin_tools, plugin_tool_failed
from victor_server.tools.protected_paths import Protection
from victor_server.tools.search_tool import SearchTool

logger = logging.getLogger(__name__)

__all__ = ["PERMISSION_DENIED", "ToolCoordinator", "builtin_tools"]



def _plain(config: Any) -> dict[str, Any]:
    """A server config as a dict, whether given as a mapping or a pydantic model."""
    if hasattr(config, "model_dump"):
        return dict(config.model_dump())
    return dict(config)


def builtin_tools(options: dict[str, Any]) -> list[Tool]:
    tools: list[Tool] = [ReadTool(), WriteTool(), EditTool(), LsTool(), SearchTool(), PlanTool()]
    bash = options.get("bash") or {}
    if bash.get("enabled", False):
        tools.append(BashTool(bash))
    return tools


class ToolCoordinator:
    def __init__(self, workspace: Path, options: dict[str, Any] | None = None,
                 tools: list[Tool] | None = None, *, load_plugins: bool = True) -> None:
        self.workspace = workspace
        self.options = options or {}
        self.disabled = set(self.options.get("disabled") or [])
        self.protection = Protection.from_options(workspace, self.options)
        self.mcp_timeout = float(self.options.get("mcp_timeout", DEFAULT_TIMEOUT))
        self.mcp_errors: dict[str, str] = {}  # server -> why it is not available
        self._tools: dict[str, Tool] = {}
        self.approvals = ApprovalGate(workspace, self.options.get("approvals"),
                                      self.options.get("approval_timeout"))
        self._validator = InputValidator()
        self._pending_servers: dict[str, dict[str, Any]] = {}
        self._servers: dict[str, McpServerConnection] = {}
        self._server_lock = asyncio.Lock()
        plugins_disabled = set(self.options.get("plugins_disabled") or [])
        for tool in builtin_tools(self.options):
            if tool.spec.name in plugins_disabled:  # plugins.disabled turns built-ins off too
                self.disabled.add(tool.spec.name)
            self.add_tool(tool)
        if load_plugins:
            for tool in load_plugin_tools(
                    self.options, self.disabled | plugins_disabled,
                    self.options.get("plugin_options")):
                self.add_tool(tool)
        for tool in tools or []:
            self.add_tool(tool)
        self.add_mcp_servers(self.options.get("mcp_servers") or {})

    def add_tool(self, tool: Tool) -> None:
        if tool.spec.source == "builtin":  # the registry lists it as in use, or turned off
            from victor_server.plugins import REGISTRY

            REGISTRY.in_use("tools", tool.spec.name,
                            "disabled" if tool.spec.name in self.disabled else "active")
        if tool.spec.name in self._tools:
            logger.info("tool %s from %s replaces the one from %s", tool.spec.name,
                        tool.spec.source, self._tools[tool.spec.name].spec.source)
        self._tools[tool.spec.name] = tool

    def add_mcp_servers(self, servers: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Servers to start on the next ``specs()``: ``{name: {command, args, env}}`` or ACP's
        list of ``{name, command, args, env}``. A name already running keeps its process."""
        items = ({s["name"]: s for s in servers} if isinstance(servers, list)
                 else dict(servers))
        for name, config in items.items():
            if name not in self._servers:
                self._pending_servers[name] = _plain(config)

    async def specs(self) -> list[ToolSpec]:
        await self._start_pending_servers()
        return [tool.spec for name, tool in self._tools.items() if name not in self.disabled]

    async def execute(self, name: str, tool_input: dict[str, Any], ctx: ToolContext,
                      tool_use_id: str = "") -> ToolResult:
        if self._pending_servers and name not in self._tools:
            await self._start_pending_servers()
        tool = self._tools.get(name)
        if ctx.protection is None:
            ctx = dataclasses.replace(ctx, protection=self.protection)
        if tool is None or name in self.disabled:
            return ToolResult(self._why_unavailable(name), is_error=True)
        problem = self._validator.problem(tool.spec, tool_input)
        if problem is not None:
            return ToolResult(problem, is_error=True)
        precheck = getattr(tool, "precheck", None)
        try:  # refuse what would fail anyway before bothering the user
            if precheck is not None:
                precheck(tool_input, ctx)
        except ToolError as exc:
            return ToolResult(str(exc), is_error=True)
        tool_use_id = tool_use_id or str(ctx.options.get("tool_use_id", ""))
        refused = await self.approvals.check(tool.spec, tool_input, ctx, tool_use_id)
        if refused is not None:
            return refused
        if ctx.on_start is not None:
            await ctx.on_start()
        try:
            return await tool.run(tool_input, ctx)
        except ToolError as exc:
            return ToolResult(str(exc), is_error=True)
        except Exception as exc:  # a tool bug is the model's problem to route around, not a crash
            if not plugin_tool_failed(tool, exc):  # a plugin's is reported by the registry
                logger.warning("tool %s failed: %s", name, exc, exc_info=True)
            return ToolResult(f"{name} failed: {type(exc).__name__}: {exc}", is_error=True)

    def _why_unavailable(self, name: str) -> str:
        if name in self.disabled:
            return f"tool {name} is disabled in config"
        if name == "bash":
            return "tool bash is disabled; enable it in config (tools: bash: {enabled: true})"
        for server, error in self.mcp_errors.items():
            if name.startswith(mcp_tool_name(server, "", set())):
                return f"MCP server {server!r} is unavailable: {error}"
        return f"unknown tool: {name}"

    async def _start_pending_servers(self) -> None:
        async with self._server_lock:
            pending, self._pending_servers = self._pending_servers, {}
            if not pending:
                return
            connections = [McpServerConnection(name, config, self.workspace, self.mcp_timeout)
                           for name, config in pending.items()]
            results = await asyncio.gather(*(c.start() for c in connections),
                                           return_exceptions=True)
            for connection, listed in zip(connections, results, strict=True):
                if isinstance(listed, BaseException):
                    self.mcp_errors[connection.name] = connection.error or str(listed)
                    logger.warning("MCP server %s skipped: %s", connection.name, listed)
                    continue
                self._servers[connection.name] = connection
                self.mcp_errors.pop(connection.name, None)
                taken = set(self._tools)
                for remote in listed:
                    tool = McpTool(connection, remote, mcp_tool_name(connection.name,
                                                                     remote.name, taken))
                    taken.add(tool.spec.name)
                    self.add_tool(tool)

    async def aclose(self) -> None:
        servers, self._servers = list(self._servers.values()), {}
        await asyncio.gather(*(server.aclose() for server in servers), return_exceptions=True)
        self._tools = {name: tool for name, tool in self._tools.items()
                       if not isinstance(tool, McpTool)}
