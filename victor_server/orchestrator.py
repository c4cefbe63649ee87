"""AgentOrchestrator: the protocol-free core every face (LSP, MCP, ACP, CLI) calls.

It owns the coordinators, each injectable through the constructor as in the seed recipes::

    AgentOrchestrator(settings=..., provider=..., config_coordinator=..., prompt_coordinator=...,
                      context_coordinator=..., tool_coordinator=..., selection_coordinator=...,
                      analytics=..., store=...)

and builds the defaults for whatever is not given. Faces translate params, call one method
here, and map the result; errors are ``VictorError``s with SPEC codes. ``async with
AgentOrchestrator(...) as orchestrator`` starts it and closes it (flushing analytics, closing
the store and MCP servers) however the block ends.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from victor_server.analytics import AnalyticsCoordinator
from victor_server.chat import ChatResult, DeltaCallback, ToolCallback, TurnRunner
from victor_server.config import (
    ConfigCoordinator,
    EnvironmentConfigProvider,
    FileConfigProvider,
    ResolvedConfig,
)
from victor_server.config.advice import provider_advice
from victor_server.context.coordinator import CompactionResult, ContextCoordinator
from victor_server.errors import InvalidParams, ProviderUnavailable
from victor_server.messages import Message
from victor_server.plugins import instantiate, iter_plugins
from victor_server.prompts import BuiltPrompt, PromptCoordinator
from victor_server.prompts.defaults import default_contributors
from victor_server.providers import LLMProvider, ModelRequest, create_provider
from victor_server.scope import DEFAULT_SCOPE, RequestScope, tenant_of
from victor_server.selection.coordinator import SelectionResult, ToolSelectionCoordinator
from victor_server.selection.sticky import StickyToolSets
from victor_server.sessions import SessionOperations, title_from
from victor_server.settings import Settings
from victor_server.store import Store
from victor_server.store.factory import make_store, uses_postgres
from victor_server.tools.base import PermissionAsker, ToolContext, ToolSpec
from victor_server.tools.coordinator import ToolCoordinator

logger = logging.getLogger(__name__)


@dataclass
class TurnSetup:
    session_id: str
    tenant_id: str | None
    settings: Settings
    provider: LLMProvider
    system_prompt: str
    tools: list[ToolSpec]
    variant: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def prompt_context(context: Mapping[str, Any] | None, **extra: Any) -> dict[str, Any]:
    """The request ``context`` with camelCase keys also offered in snake_case (seed shape)."""
    merged: dict[str, Any] = {}
    for key, value in (context or {}).items():
        merged[key] = value
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
        merged.setdefault(snake, value)
    merged.update({k: v for k, v in extra.items() if v is not None})
    return merged


def _estimate(value: Any) -> int:
    return len(value if isinstance(value, str) else json.dumps(value)) // 4


def _overhead(system_prompt: str, tools: list[ToolSpec]) -> int:
    """Tokens a request spends before the first message: system prompt and tool schemas."""
    return _estimate(system_prompt) + _estimate([t.to_anthropic() for t in tools])


class AgentOrchestrator(SessionOperations):
    def __init__(self, settings: Settings | None = None, provider: LLMProvider | None = None, *,
                 workspace: Path | str | None = None, store: Store | None = None,
                 config_coordinator: ConfigCoordinator | None = None,
                 prompt_coordinator: PromptCoordinator | None = None,
                 context_coordinator: ContextCoordinator | None = None,
                 tool_coordinator: ToolCoordinator | None = None,
                 selection_coordinator: ToolSelectionCoordinator | None = None,
                 analytics: AnalyticsCoordinator | None = None,
                 config_path: Path | None = None, db_path: Path | str | None = None,
                 model: str | None = None) -> None:
        self.workspace = Path(workspace or Path.cwd()).resolve()
        self.config = config_coordinator or ConfigCoordinator(
            [EnvironmentConfigProvider(), FileConfigProvider(config_path, self.workspace)])
        self._base_settings = settings
        if model:
            self._base_settings = (settings or Settings()).model_copy(update={"model": model})
        self._fixed_provider = provider
        self.store = store or Store(db_path or self.workspace / ".victor" / "victor.db")
        self.prompts = prompt_coordinator
        self._context_fixed = context_coordinator
        self.tools = tool_coordinator
        self._selection_fixed = selection_coordinator
        self.analytics = analytics or AnalyticsCoordinator(self.store)
        self._providers: dict[str, LLMProvider] = {}
        self._contexts: dict[tuple[Any, ...], ContextCoordinator] = {}
        self._selections: dict[tuple[Any, ...], ToolSelectionCoordinator] = {}
        self.sticky_tools = StickyToolSets()
        self.auth_required = False
        # long-running faces import the provider SDK in the background; one-shot commands don't
        self.warm_up_provider = False
        self.started = False

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> AgentOrchestrator:
        if self.started:
            return self
        if self._base_settings is not None:
            self.config.add_provider(_SettingsProvider(self._base_settings))
        for name, factory in iter_plugins("victor_server.config_providers"):
            self.config.add_provider(_named(instantiate(factory, {}), name))
        resolved = await self.config.resolve()
        base = resolved.settings
        if self.store._db is None and uses_postgres(base):  # a team's shared PostgreSQL
            self.store = make_store(base, self.store.path, resolved.sources.get("store.url"))
            self.analytics.store = self.store
        if self.store._db is None:
            await self.store.open()
        if self.prompts is None:
            self.prompts = PromptCoordinator(default_contributors(self.workspace, base),
                                             base.prompts.max_contribution_chars)
            for name, factory in iter_plugins("victor_server.prompt_contributors",
                                              base.plugins.disabled):
                options = getattr(base.plugins, name, None)
                self.prompts.add_contributor(_named(instantiate(factory, options), name))
        if self.tools is None:
            options = {**base.tools, "store_path": getattr(self.store, "path", None),
                       "standards_file": base.prompts.standards_file,
                       "mcp_servers": {name: server.model_dump()
                                       for name, server in base.mcp_servers.items()}}
            self.tools = ToolCoordinator(self.workspace, options)
        self.tools.approvals.store = self.store  # "always allow" answers live in the store
        from victor_server.tenancy import install_tenancy

        await install_tenancy(self, base)  # tenant rows + A/B provider (SPEC section 7)
        self.analytics.interval = base.analytics_export_interval
        self.analytics.enabled = base.enable_analytics
        self.analytics.configure(base.analytics, self.workspace)
        await self.analytics.start()
        if self.warm_up_provider:
            self._warm_up = asyncio.get_running_loop().create_task(
                self._warm_provider_sdk(base))
        self.started = True
        return self

    async def _warm_provider_sdk(self, settings: Settings) -> None:
        """Import the provider's SDK in a thread while the user is still typing: ``import
        anthropic`` takes a second or more, and the first chat should not wait for it."""
        if self._fixed_provider is None and settings.provider == "anthropic":
            try:
                await asyncio.to_thread(importlib.import_module, "anthropic")
            except Exception as exc:  # only an optimisation; the first chat imports it anyway
                logger.debug("provider SDK warm-up skipped: %s", exc)

    async def __aenter__(self) -> AgentOrchestrator:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if getattr(self, "_warm_up", None) is not None:
            self._warm_up.cancel()
        await self.analytics.close()
        if self.tools is not None:
            await self.tools.aclose()
        for provider in self._providers.values():
            try:
                await provider.aclose()
            except Exception as exc:
                logger.debug("provider close failed: %s", exc)
        await self.store.close()

    # ---- coordinators per settings ---------------------------------------------------------

    def provider_for(self, settings: Settings) -> LLMProvider:
        if self._fixed_provider is not None:
            return self._fixed_provider
        key = json.dumps([settings.provider, settings.base_url,
                          getattr(settings, settings.provider, None)], default=str)
        if key not in self._providers:
            self._providers[key] = create_provider(settings)
        return self._providers[key]

    def context_for(self, settings: Settings, provider: LLMProvider | None = None) \
            -> ContextCoordinator:
        if self._context_fixed is not None:
            return self._context_fixed
        key = (settings.context_compaction_strategy, settings.context_window,
               settings.context_compaction_threshold, settings.context_compaction_target_ratio)
        if key not in self._contexts:
            self._contexts[key] = ContextCoordinator(
                settings.context_compaction_strategy, settings.context_window,
                settings.context_compaction_threshold, settings.context_compaction_target_ratio,
                summarizer=self._summarizer(settings))
        return self._contexts[key]

    def selection_for(self, settings: Settings) -> ToolSelectionCoordinator:
        if self._selection_fixed is not None:
            return self._selection_fixed
        ts = settings.tool_selection
        key = (ts.strategy, json.dumps(ts.model_dump(), sort_keys=True, default=str))
        if key not in self._selections:
            self._selections[key] = ToolSelectionCoordinator(ts.strategy, ts.model_dump(),
                                                             store=self.store)
        return self._selections[key]

    def _summarizer(self, settings: Settings) -> Any:
        async def summarize(messages: list[Message]) -> str:
            transcript = "\n".join(f"{m.role}: {m.text()}" for m in messages)
            request = ModelRequest(
                model=settings.model, max_tokens=min(settings.max_tokens, 1024),
                system="Summarize this conversation span for a coding agent. Keep decisions, "
                       "file names, errors and anything the user marked important.",
                messages=[{"role": "user", "content": transcript}])
            text = []
            async for event in self.provider_for(settings).stream(request):
                if hasattr(event, "content"):
                    text = [b.get("text", "") for b in event.content if b.get("type") == "text"]
            return "".join(text)
        return summarize

    # ---- the turn ------------------------------------------------------------------------

    async def chat(self, message: str, session_id: str | None = None,
                   context: Mapping[str, Any] | None = None, *, pin: bool = False,
                   on_delta: DeltaCallback | None = None, on_tool: ToolCallback | None = None,
                   scope: RequestScope = DEFAULT_SCOPE, override: dict[str, Any] | None = None,
                   ask_permission: PermissionAsker | None = None, client_fs: Any = None,
                   extra_blocks: list[dict[str, Any]] | None = None,
                   mode: str | None = None, terminal: Any = None) -> ChatResult:
        if not isinstance(message, str) or not message.strip():
            raise InvalidParams("message", "a non-empty string is required")
        sid, row = await self.session_for_chat(session_id, scope)
        tenant = tenant_of(sid)
        resolved = await self.config.resolve(sid, override)
        settings = resolved.settings
        variant = getattr(settings, "ab_variant", None)
        provider = self.ready_provider(resolved)
        if row is None:  # only now: a chat refused above leaves no empty session behind
            await self.create_session(sid, scope=scope, title=title_from(message))
        elif not row.title:
            await self.store.title_if_untitled(sid, title_from(message))
        content: str | list[dict[str, Any]] = message
        if extra_blocks:
            content = [{"type": "text", "text": message}, *extra_blocks]
        # Committed before the model is called: an acknowledged message is never lost.
        await self.store.add_message(sid, Message("user", content, pinned=pin))
        self.analytics.record("chat_request", sid, tenant, model=settings.model,
                              provider=settings.provider, variant=variant)
        metadata = prompt_context(context, session_id=sid, tenant_id=tenant, variant=variant)
        built = await self.build_prompt(context, sid, settings=settings, metadata=metadata)
        setup = TurnSetup(sid, tenant, settings, provider, built.system_prompt,
                          await self._turn_tools(message, settings, sid, tenant, context), variant,
                          {**metadata, "task": metadata.get("task") or message})
        tool_ctx = ToolContext(self.workspace, sid, ask_permission, client_fs,
                               {"settings": settings, "mode": mode, "terminal": terminal})
        started = time.monotonic()
        result = await TurnRunner(self, setup, on_delta, on_tool, tool_ctx).run()
        # latency per turn, so the analytics summary can compare A/B variants on it
        self.analytics.record("chat_response", sid, tenant, variant=variant,
                              stop_reason=result.stop_reason,
                              duration_ms=round((time.monotonic() - started) * 1000, 1))
        return result

    def ready_provider(self, resolved: ResolvedConfig) -> LLMProvider:
        """The provider for a turn, checked before anything is stored (an API key that is
        not there fails here). The error's advice names the config source that chose the
        provider, so it never suggests a change that a higher source would override."""
        settings = resolved.settings
        try:
            provider = self.provider_for(settings)
            check = getattr(provider, "check_ready", None)
            if check is not None:
                check()
        except ProviderUnavailable as exc:
            if self._fixed_provider is not None:
                raise
            source = resolved.sources.get("provider", "default")
            advice = provider_advice(settings.provider, source, self.config.source_file(source))
            if resolved.errors:  # a file that did not parse may be why the default is in force
                advice += (f" (the config has {len(resolved.errors)} error(s): "
                           "`victor-server config` lists them)")
            raise ProviderUnavailable(exc.provider, f"{exc.reason}; {advice}") from exc
        return provider

    async def _select(self, query: str, settings: Settings, sid: str | None,
                      tenant: str | None, max_tools: int | None = None,
                      strategy: str | None = None) -> SelectionResult:
        assert self.tools is not None
        specs = await self.tools.specs()
        result = await self.selection_for(settings).select(query, specs, max_tools, strategy)
        self.analytics.record("tool_selection", sid, tenant, strategy=result.strategy,
                              tools=[s.spec.name for s in result.tools], candidates=len(specs),
                              fallback=result.fallback)
        return result

    async def _turn_tools(self, message: str, settings: Settings, sid: str, tenant: str | None,
                          context: Mapping[str, Any] | None) -> list[ToolSpec]:
        """The tools a chat turn offers, ordered by name: a stable list keeps the provider's
        prompt cache valid from one request to the next."""
        selection = await self._select(message, settings, sid, tenant)
        picked = [s.spec for s in selection.tools]
        ts = settings.tool_selection
        if not ts.sticky:
            return sorted(picked, key=lambda spec: spec.name)
        assert self.tools is not None
        task = (context or {}).get("task")
        limit = max(2 * ts.max_tools, len(picked))  # strategy "all" offers every tool
        return self.sticky_tools.tools_for(sid, tenant, task if isinstance(task, str) else None,
                                           picked, await self.tools.specs(), limit)

    async def context_view(self, setup: TurnSetup, tool_ctx: ToolContext | None = None) \
            -> tuple[list[Message], bool]:
        """What the next request sends, compacting automatically past the threshold (the
        context coordinator carries a session's earlier compaction forward)."""
        history = await self.store.get_messages(setup.session_id)
        coordinator = self.context_for(setup.settings, setup.provider)
        metadata = {**setup.metadata, "session_id": setup.session_id}
        result = await coordinator.prepare(history, _overhead(setup.system_prompt, setup.tools),
                                           metadata)
        if result is None:
            return history, False
        if result.reused:
            return result.messages, False
        self._record_compaction(setup.session_id, result, setup.tenant_id, automatic=True)
        return result.messages, True

    def _record_compaction(self, session_id: str, result: CompactionResult,
                           tenant: str | None, automatic: bool) -> None:
        self.analytics.record(
            "compaction", session_id, tenant, strategy=result.strategy, automatic=automatic,
            before_tokens=result.before_tokens, after_tokens=result.after_tokens,
            before_messages=result.before_messages, after_messages=result.after_messages)

    # ---- the other methods -----------------------------------------------------------------

    async def build_prompt(self, context: Mapping[str, Any] | None = None,
                           session_id: str | None = None, *, settings: Settings | None = None,
                           metadata: dict[str, Any] | None = None) -> BuiltPrompt:
        assert self.prompts is not None
        if metadata is None:
            metadata = prompt_context(context, session_id=session_id,
                                      tenant_id=tenant_of(session_id) if session_id else None)
        return await self.prompts.build(metadata)

    async def select_tools(self, query: str, max_tools: int | None = None,
                           strategy: str | None = None, session_id: str | None = None,
                           scope: RequestScope = DEFAULT_SCOPE) -> SelectionResult:
        if not isinstance(query, str) or not query.strip():
            raise InvalidParams("query", "a non-empty string is required")
        if max_tools is not None and (not isinstance(max_tools, int) or max_tools < 1):
            raise InvalidParams("maxTools", "a positive integer is required")
        if session_id:
            session_id = (await self.visible_session(session_id, scope)).session_id
        settings = (await self.config.resolve(session_id)).settings
        return await self._select(query, settings, session_id, scope.tenant_id, max_tools,
                                  strategy)

    async def compact_context(self, session_id: str, strategy: str | None = None,
                              target_ratio: float | None = None,
                              scope: RequestScope = DEFAULT_SCOPE) -> CompactionResult:
        if target_ratio is not None and (isinstance(target_ratio, bool) or
                                         not isinstance(target_ratio, int | float) or
                                         not 0 < target_ratio < 1):
            raise InvalidParams("targetRatio", "a number strictly between 0 and 1 is required")
        row = await self.visible_session(session_id, scope)
        settings = (await self.config.resolve(row.session_id)).settings
        history = await self.store.get_messages(row.session_id)
        result = await self.context_for(settings).compact(
            history, strategy, metadata={"session_id": row.session_id},
            target_ratio=target_ratio)
        self._record_compaction(row.session_id, result, row.tenant_id, automatic=False)
        return result

    async def get_context(self, session_id: str,
                          scope: RequestScope = DEFAULT_SCOPE) -> dict[str, Any]:
        row = await self.visible_session(session_id, scope)
        resolved = await self.config.resolve(row.session_id)
        settings = resolved.settings
        history = await self.store.get_messages(row.session_id)
        built = await self.build_prompt(None, row.session_id, settings=settings)
        assert self.tools is not None
        selection = await self.selection_for(settings).select(
            next((m.text() for m in reversed(history) if m.role == "user"), ""),
            await self.tools.specs())
        view = await self.context_for(settings).preview(
            history, _overhead(built.system_prompt, [s.spec for s in selection.tools]),
            {"session_id": row.session_id})
        return {"messages": [m.to_api() for m in view.messages], "tokens": view.tokens,
                "contextWindow": view.context_window, "utilization": view.utilization}

    async def get_config(self, session_id: str | None = None,
                         scope: RequestScope = DEFAULT_SCOPE) -> ResolvedConfig:
        if session_id:
            session_id = (await self.visible_session(session_id, scope)).session_id
        return await self.config.resolve(session_id)

    async def analytics_summary(self, session_id: str | None = None, since: float | None = None,
                                scope: RequestScope = DEFAULT_SCOPE) -> dict[str, Any]:
        if session_id:
            row = await self.visible_session(session_id, scope)
            return await self.analytics.summary(row.session_id, all_tenants=True, since=since)
        if scope.authenticated:
            return await self.analytics.summary(None, scope.tenant_id, since)
        return await self.analytics.summary(None, None, since, all_tenants=True)


class _SettingsProvider:
    """Settings passed to the constructor, as a config source just above the defaults."""

    name = "default"

    def __init__(self, settings: Settings) -> None:
        self._data = settings.model_dump(exclude_unset=True)

    def priority(self) -> int:
        return 1

    async def get_config(self, session_id: str | None) -> dict[str, Any]:
        return self._data


def _named(obj: Any, name: str) -> Any:
    if not hasattr(obj, "name"):
        try:
            obj.name = name
        except AttributeError:
            pass
    return obj
