"""The core function behind each protocol method: validated params in, a typed result out.

Each function takes the orchestrator, the method's params model (``api_models``) and the
caller's ``RequestScope``, and returns the method's result model; it knows no wire case. The
method table (``victor_server.methods``) names which function serves which method, and each
face renders the result in its own case.

Kept light: the orchestrator and chat types are only imported for type checking, so the faces
can read the table before the core is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from victor_server.api_models import (
    AgentTool,
    AnalyticsSummary,
    BuildPromptParams,
    BuildPromptResult,
    ChatParams,
    ChatResult,
    ChatUsage,
    CompactContextParams,
    CompactContextResult,
    ConfigResult,
    ContextSize,
    Contribution,
    CreateSessionParams,
    Deleted,
    GetContextResult,
    ListSessionsParams,
    OptionalSessionParams,
    SearchHit,
    SearchParams,
    SearchResults,
    SelectedTool,
    SelectToolsParams,
    SelectToolsResult,
    Session,
    SessionList,
    SessionParams,
    SessionWithMessages,
    SummaryParams,
    ToolCallRecord,
    ToolList,
)

if TYPE_CHECKING:
    from victor_server.chat import DeltaCallback, ToolCallback
    from victor_server.orchestrator import AgentOrchestrator
    from victor_server.scope import RequestScope


async def chat(o: AgentOrchestrator, p: ChatParams, scope: RequestScope,
               on_delta: DeltaCallback | None = None, on_tool: ToolCallback | None = None,
               **extra: Any) -> ChatResult:
    result = await o.chat(p.message, p.session_id, p.context, pin=p.pin,
                          on_delta=on_delta if p.stream else None, on_tool=on_tool,
                          scope=scope, **extra)
    u = result.usage
    return ChatResult(
        session_id=result.session_id, content=result.content,
        usage=ChatUsage(input_tokens=u.input_tokens, output_tokens=u.output_tokens,
                        total_tokens=u.total_tokens, cache_read_tokens=u.cache_read_tokens,
                        cache_write_tokens=u.cache_creation_tokens),
        tool_calls=[ToolCallRecord(id=t.id, name=t.name, input=t.input, is_error=t.is_error)
                    for t in result.tool_calls],
        stop_reason=result.stop_reason, compacted=result.compacted, variant=result.variant)


async def select_tools(o: AgentOrchestrator, p: SelectToolsParams,
                       scope: RequestScope) -> SelectToolsResult:
    result = await o.select_tools(p.query, p.max_tools, p.strategy, p.session_id, scope)
    return SelectToolsResult(strategy=result.strategy, tools=[
        SelectedTool(name=s.spec.name, description=s.spec.description,
                     score=round(float(s.score), 6), cost_tier=s.spec.cost_tier,
                     domain=s.spec.domain) for s in result.tools],
        fallback=result.fallback)


async def compact_context(o: AgentOrchestrator, p: CompactContextParams,
                          scope: RequestScope) -> CompactContextResult:
    r = await o.compact_context(p.session_id, p.strategy, p.target_ratio, scope)
    return CompactContextResult(
        strategy=r.strategy,
        before=ContextSize(messages=r.before_messages, tokens=r.before_tokens),
        after=ContextSize(messages=r.after_messages, tokens=r.after_tokens),
        ran=r.ran, fallback=r.fallback, note=r.note or None)


async def get_context(o: AgentOrchestrator, p: SessionParams,
                      scope: RequestScope) -> GetContextResult:
    return await o.get_context(p.session_id, scope)


async def build_prompt(o: AgentOrchestrator, p: BuildPromptParams,
                       scope: RequestScope) -> BuildPromptResult:
    sid = None
    if p.session_id:
        sid = (await o.visible_session(p.session_id, scope)).session_id
    built = await o.build_prompt(p.context, sid, scope=scope)
    return BuildPromptResult(system_prompt=built.system_prompt, contributions=[
        Contribution(name=c.name, priority=c.priority, chars=len(c.text), truncated=c.truncated)
        for c in built.contributions])


async def get_config(o: AgentOrchestrator, p: OptionalSessionParams,
                     scope: RequestScope) -> ConfigResult:
    resolved = await o.get_config(p.session_id, scope)
    return ConfigResult(config=resolved.public_config(), sources=resolved.sources,
                        errors=resolved.errors or None)


async def create_session(o: AgentOrchestrator, p: CreateSessionParams,
                         scope: RequestScope) -> Session:
    row = await o.create_session(p.session_id, p.tenant_id, p.title, scope)
    return Session.from_row(row)


async def list_sessions(o: AgentOrchestrator, p: ListSessionsParams,
                        scope: RequestScope) -> SessionList:
    return await o.list_sessions(p.tenant_id, p.limit, p.cursor, scope)


async def get_session(o: AgentOrchestrator, p: SessionParams,
                      scope: RequestScope) -> SessionWithMessages:
    return await o.get_session(p.session_id, scope)


async def delete_session(o: AgentOrchestrator, p: SessionParams, scope: RequestScope) -> Deleted:
    return Deleted(deleted=await o.delete_session(p.session_id, scope))


async def search_sessions(o: AgentOrchestrator, p: SearchParams,
                          scope: RequestScope) -> SearchResults:
    hits = await o.store.search_messages(
        p.query, scope.tenant_id, all_tenants=not scope.authenticated, limit=p.limit)
    return SearchResults(results=[SearchHit(session_id=h.session_id, seq=h.seq, snippet=h.snippet)
                                  for h in hits])


async def analytics_summary(o: AgentOrchestrator, p: SummaryParams,
                            scope: RequestScope) -> AnalyticsSummary:
    return await o.analytics_summary(p.session_id, p.since, scope)


async def list_tools(o: AgentOrchestrator, p: OptionalSessionParams,
                     scope: RequestScope) -> ToolList:
    from victor_server.tools.approval_policy import CommandRules, policy_from_config

    settings = (await o.get_config(p.session_id, scope)).settings
    # a broken policy asks about every call, as the turn's does
    policy, _ = policy_from_config(settings.tools.get("approvals"))
    assert o.tools is not None
    tools = []
    for spec in sorted(await o.tools.specs(), key=lambda s: s.name):
        if isinstance(policy.tools.get(spec.name), CommandRules):
            approval, rule = "per_command", f"tools.approvals.{spec.name}"
        else:
            verdict = policy.decide(spec, {})
            approval, rule = verdict.decision, verdict.rule
        tools.append(AgentTool(name=spec.name, description=spec.description,
                               source=spec.source, domain=spec.domain,
                               cost_tier=spec.cost_tier, writes=spec.writes,
                               approval=approval, rule=rule))
    disabled = set(o.tools.disabled) | set(settings.tools.get("disabled") or [])
    return ToolList(tools=tools, disabled=sorted(disabled))
