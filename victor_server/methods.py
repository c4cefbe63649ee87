"""The method table: every protocol method once, read by all three faces.

A row names the method (``victor/...``, the LSP method and the base of every other name), the
core function that serves it (``victor_server.service``), its params and result models
(``victor_server.api_models``), and where each face shows it:

* LSP: every row is a request ``victor/...``; ``lsp_command`` also makes it a
  ``workspace/executeCommand`` command;
* MCP: ``mcp_tool`` makes it a tool of that name, its input schema from the params model and
  its output schema from the result model (snake_case), ``mcp_hint`` says whether it changes
  anything; ``description`` is the tool's description;
* ACP: ``acp`` makes it an extension method ``_victor/...`` (the ACP name with its ``_``).

Adding a method to every face is a core function, its models, and a row here. A row names its
function and models, imported on first use: the LSP face reads the table before it answers
``initialize``, without the core or pydantic.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from victor_server.api_models import Params, Result

Hint = Literal["read_only", "changes", "agent"]


@dataclass(frozen=True)
class Method:
    name: str
    handler: str  # a function of victor_server.service
    params: str  # models of victor_server.api_models
    result: str
    description: str
    mcp_tool: str | None = None
    mcp_hint: Hint = "read_only"
    lsp_command: str | None = None
    acp: bool = False
    streams: bool = False  # takes on_delta, on_tool and the face's per-turn extras

    @cached_property
    def function(self) -> Callable[..., Awaitable[Result]]:
        return getattr(_module("victor_server.service"), self.handler)  # type: ignore[no-any-return]

    @cached_property
    def params_model(self) -> type[Params]:
        return getattr(_module("victor_server.api_models"), self.params)  # type: ignore[no-any-return]

    @cached_property
    def result_model(self) -> type[Result]:
        return getattr(_module("victor_server.api_models"), self.result)  # type: ignore[no-any-return]


def _module(name: str) -> Any:
    return importlib.import_module(name)


TABLE: tuple[Method, ...] = (
    Method("victor/chat", "chat", "ChatParams", "ChatResult",
           "Run one agent turn (model + tools) in a stored session and return the answer.",
           mcp_tool="chat", mcp_hint="agent", lsp_command="victor.chat", streams=True),
    Method("victor/selectTools", "select_tools", "SelectToolsParams", "SelectToolsResult",
           "Rank the tools the agent would offer the model for this query.",
           mcp_tool="select_tools", lsp_command="victor.selectTools"),
    Method("victor/compactContext", "compact_context", "CompactContextParams",
           "CompactContextResult",
           "Compact a session's context now; returns the size before and after.",
           mcp_tool="compact_context", mcp_hint="changes", lsp_command="victor.compactContext"),
    Method("victor/getContext", "get_context", "SessionParams", "GetContextResult",
           "The messages the next turn of this session would send, and their token count.",
           mcp_tool="get_context"),
    Method("victor/buildPrompt", "build_prompt", "BuildPromptParams",
           "BuildPromptResult",
           "Build the system prompt for a context; lists each contributor's part.",
           mcp_tool="build_prompt", lsp_command="victor.buildPrompt"),
    Method("victor/getConfig", "get_config", "OptionalSessionParams", "ConfigResult",
           "The resolved config and the source of each key."),
    Method("victor/session/create", "create_session", "CreateSessionParams", "Session",
           "Create a stored session."),
    Method("victor/session/list", "list_sessions", "ListSessionsParams", "SessionList",
           "Stored sessions, most recently updated first.", mcp_tool="list_sessions"),
    Method("victor/session/get", "get_session", "SessionParams", "SessionWithMessages",
           "A stored session with its messages.", mcp_tool="get_session"),
    Method("victor/session/delete", "delete_session", "SessionParams", "Deleted",
           "Delete a stored session."),
    Method("victor/session/search", "search_sessions", "SearchParams", "SearchResults",
           "Full-text search of the stored messages."),
    Method("victor/analytics/summary", "analytics_summary", "SummaryParams",
           "AnalyticsSummary",
           "Counts of analytics events, tokens and tool calls (one session or all).",
           mcp_tool="analytics_summary", lsp_command="victor.analyticsSummary", acp=True),
    Method("victor/tools/list", "list_tools", "OptionalSessionParams", "ToolList",
           "The tools the agent can use here: where each comes from, whether it writes, and "
           "whether a call runs, is asked about or is denied (tools.approvals, with the "
           "deciding key); and the names disabled in config.",
           mcp_tool="list_tools", acp=True),
)

BY_NAME: dict[str, Method] = {method.name: method for method in TABLE}

# The LSP face's custom requests, in table order.
LSP_METHODS: tuple[str, ...] = tuple(BY_NAME)


def lookup(name: str) -> Method | None:
    return BY_NAME.get(name)


__all__ = ["BY_NAME", "LSP_METHODS", "TABLE", "Hint", "Method", "lookup"]

