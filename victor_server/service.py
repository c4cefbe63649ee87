"""The method table every face serves: validated params in, JSON-ready results out.

``VictorService.call(method, params, ...)`` is the one route from a protocol method to the
orchestrator, so LSP, MCP and ACP share validation, scoping and result shapes
(MCP renames keys to snake_case at its edge). Middleware wraps ``call``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from victor_server.adapters.params import (
    BuildPromptParams,
    ChatParams,
    CompactContextParams,
    CreateSessionParams,
    ListSessionsParams,
    OptionalSessionParams,
    SearchParams,
    SelectToolsParams,
    SessionParams,
    SummaryParams,
    validate_params,
)
from victor_server.chat import DeltaCallback, ToolCallback
from victor_server.errors import MethodNotFound
from victor_server.methods import LSP_METHODS
from victor_server.orchestrator import AgentOrchestrator
from victor_server.scope import DEFAULT_SCOPE, RequestScope

Handler = Callable[..., Awaitable[Any]]


class VictorService:
    METHODS = LSP_METHODS

    def __init__(self, orchestrator: AgentOrchestrator) -> None:
        self.o = orchestrator
        self._table: dict[str, Handler] = {
            "victor/chat": self.chat, "victor/selectTools": self.select_tools,
            "victor/compactContext": self.compact_context,
            "victor/getContext": self.get_context, "victor/buildPrompt": self.build_prompt,
            "victor/getConfig": self.get_config, "victor/session/create": self.create_session,
            "victor/session/list": self.list_sessions, "victor/session/get": self.get_session,
            "victor/session/delete": self.delete_session,
            "victor/session/search": self.search_sessions,
            "victor/analytics/summary": self.analytics_summary,
        }

    async def call(self, method: str, params: Any, scope: RequestScope = DEFAULT_SCOPE,
                   on_delta: DeltaCallback | None = None, on_tool: ToolCallback | None = None,
                   **extra: Any) -> Any:
        handler = self._table.get(method)
        if handler is None:
            raise MethodNotFound(f"unknown method: {method}")
        if method == "victor/chat":
            return await handler(params, scope, on_delta=on_delta, on_tool=on_tool, **extra)
        return await handler(params, scope)

    async def chat(self, raw: Any, scope: RequestScope, on_delta: DeltaCallback | None = None,
                   on_tool: ToolCallback | None = None, **extra: Any) -> dict[str, Any]:
        p = validate_params(ChatParams, raw)
        result = await self.o.chat(p.message, p.session_id, p.context, pin=p.pin,
                                   on_delta=on_delta if p.stream else None, on_tool=on_tool,
                                   scope=scope, **extra)
        return result.to_json()

    async def select_tools(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(SelectToolsParams, raw)
        result = await self.o.select_tools(p.query, p.max_tools, p.strategy, p.session_id,
                                           scope)
        return {"strategy": result.strategy, "tools": [
            {"name": s.spec.name, "description": s.spec.description,
             "score": round(float(s.score), 6), "costTier": s.spec.cost_tier,
             "domain": s.spec.domain} for s in result.tools],
            # why the ranking is by keyword when the strategy asked for embeddings, else None
            "fallback": result.fallback}

    async def compact_context(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(CompactContextParams, raw)
        r = await self.o.compact_context(p.session_id, p.strategy, p.target_ratio, scope)
        result: dict[str, Any] = {
            "strategy": r.strategy,
            "before": {"messages": r.before_messages, "tokens": r.before_tokens},
            "after": {"messages": r.after_messages, "tokens": r.after_tokens},
            # which strategy's output was used, and why the fallback ran if it did
            "ran": r.ran, "fallback": r.fallback}
        if r.note:
            result["note"] = r.note
        return result

    async def get_context(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(SessionParams, raw)
        return await self.o.get_context(p.session_id, scope)

    async def build_prompt(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(BuildPromptParams, raw)
        sid = None
        if p.session_id:
            sid = (await self.o.visible_session(p.session_id, scope)).session_id
        built = await self.o.build_prompt(p.context, sid, scope=scope)
        return {"systemPrompt": built.system_prompt,
                "contributions": [c.to_json() for c in built.contributions]}

    async def get_config(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(OptionalSessionParams, raw)
        resolved = await self.o.get_config(p.session_id, scope)
        result: dict[str, Any] = {"config": resolved.public_config(), "sources": resolved.sources}
        if resolved.errors:
            result["errors"] = resolved.errors
        return result

    async def create_session(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(CreateSessionParams, raw)
        row = await self.o.create_session(p.session_id, p.tenant_id, p.title, scope)
        return row.to_json()

    async def list_sessions(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(ListSessionsParams, raw)
        return await self.o.list_sessions(p.tenant_id, p.limit, p.cursor, scope)

    async def get_session(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(SessionParams, raw)
        return await self.o.get_session(p.session_id, scope)

    async def delete_session(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(SessionParams, raw)
        return {"deleted": await self.o.delete_session(p.session_id, scope)}

    async def search_sessions(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(SearchParams, raw)
        hits = await self.o.store.search_messages(
            p.query, scope.tenant_id, all_tenants=not scope.authenticated, limit=p.limit)
        return {"results": hits}

    async def analytics_summary(self, raw: Any, scope: RequestScope) -> dict[str, Any]:
        p = validate_params(SummaryParams, raw)
        return await self.o.analytics_summary(p.session_id, p.since, scope)
