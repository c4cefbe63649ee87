"""AgentOrchestrator: the protocol-free core every face (LSP, MCP, ACP, CLI) calls.

It owns the coordinators, each injectable through the constructor::

    async with AgentOrchestrator(settings=..., provider=..., model=...,
                                 config_coordinator=..., prompt_coordinator=...,
                                 context_coordinator=..., tool_coordinator=...,
                                 selection_coordinator=..., analytics=..., store=...,
                                 tenancy=...) as agent:
        result = await agent.chat("Hello!")

(victor-ai's spellings ``_config_coordinator``, ``_prompt_coordinator``,
``_context_coordinator``, ``_analytics_coordinator`` and ``_tool_selection_coordinator`` are
accepted too) and builds the defaults for whatever is not given. ``async with`` starts and
closes it; a method called before ``start()`` raises ``NotStarted`` saying so. Faces translate
params, call one method here, and map the result; errors are ``VictorError``s with their codes.
docs/python-api.md walks through it; docs/architecture.md places it among the layers.

The parts it is composed of are passed down, never the orchestrator itself: a chat turn runs in
``chat.TurnRunner`` with a ``TurnDeps`` (store, analytics, tools, context coordinator), session
methods live in ``sessions.Sessions``, and ``tenancy.Tenancy`` contributes config sources and a
prompt contributor that ``start()`` adds where they belong.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import inspect
import json
import logging
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from victor_server.analytics import AnalyticsCoordinator
from victor_server.api_models import (
    AnalyticsSummary,
    CompactionView,
    ContextMessage,
    GetContextResult,
    SessionList,
    SessionWithMessages,
)
from victor_server.chat import (
    ChatResult,
    DeltaCallback,
    ToolCallback,
    TurnDeps,
    TurnRunner,
    TurnSetup,
    request_overhead,
)
from victor_server.config import (
    ConfigCoordinator,
    EnvironmentConfigProvider,
    FileConfigProvider,
    PluginConfigProvider,
    ResolvedConfig,
)
from victor_server.config.advice import provider_advice
from victor_server.context.coordinator import (
    CompactionResult,
    ContextCoordinator,
    compaction_event,
)
from victor_server.context.summarize import summarizer_for
from victor_server.errors import InvalidParams, ProviderUnavailable
from victor_server.messages import Message
from victor_server.plugins import REGISTRY, plugin_options
from victor_server.prompts import BuiltPrompt, PromptCoordinator
from victor_server.prompts.coordinator import PluginContributor, PromptContributor
from victor_server.providers import LLMProvider, Providers
from victor_server.scope import DEFAULT_SCOPE, RequestScope, tenant_of
from victor_server.selection.coordinator import SelectionResult, ToolSelectionCoordinator
from victor_server.selection.sticky import StickyToolSets
from victor_server.sessions import Sessions, title_from
from victor_server.settings import Settings
from victor_server.store import SessionRow, SqliteStore, Store
from victor_server.store.factory import make_store, uses_postgres
from victor_server.tenancy import Tenancy
from victor_server.tools.base import PermissionAsker, ToolContext, ToolSpec
from victor_server.tools.coordinator import ToolCoordinator

logger = logging.getLogger(__name__)


# Keys of a prompt context the server fills in itself. A client's ``context`` may not set them
# under any spelling: ``tenant_id`` there would pick another tenant's prompt template.
SERVER_CONTEXT_KEYS = frozenset({"tenant_id", "session_id", "variant", "ab_variant"})


def prompt_context(context: Mapping[str, Any] | None, **extra: Any) -> dict[str, Any]:
    """The request ``context`` with camelCase keys also offered in snake_case (victor-ai's
    contributors read ``tech_stack``, ``code_style``);
    the server's own keys (``extra``: session, tenant, variant) replace whatever the client
    sent under those names, even when their value is None."""
    merged: dict[str, Any] = {}
    for key, value in (context or {}).items():
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in str(key))
        if snake.lower() in SERVER_CONTEXT_KEYS or str(key).lower() in SERVER_CONTEXT_KEYS:
            continue
        merged[key] = value
        merged.setdefault(snake, value)
    merged.update({k: v for k, v in extra.items() if v is not None})
    return merged


class AgentOrchestrator:
    def __init__(self, settings: Settings | None = None, provider: LLMProvider | None = None, *,
                 workspace: Path | str | None = None, store: Store | None = None,
                 config_coordinator: ConfigCoordinator | None = None,
                 prompt_coordinator: PromptCoordinator | None = None,
                 context_coordinator: ContextCoordinator | None = None,
                 tool_coordinator: ToolCoordinator | None = None,
                 selection_coordinator: ToolSelectionCoordinator | None = None,
                 analytics: AnalyticsCoordinator | None = None,
                 config_path: Path | None = None, db_path: Path | str | None = None,
                 model: str | None = None, tenancy: Tenancy | None = None,
                 **underscored: Any) -> None:
        aliases = {"_config_coordinator": "config_coordinator",
                   "_prompt_coordinator": "prompt_coordinator",
                   "_context_coordinator": "context_coordinator",
                   "_analytics_coordinator": "analytics",
                   "_tool_selection_coordinator": "selection_coordinator",
                   "_tool_coordinator": "tool_coordinator"}
        unknown = set(underscored) - set(aliases)
        if unknown:
            raise TypeError(f"AgentOrchestrator got unexpected arguments: {sorted(unknown)}")
        given = {aliases[k]: v for k, v in underscored.items()}
        config_coordinator = config_coordinator or given.get("config_coordinator")
        prompt_coordinator = prompt_coordinator or given.get("prompt_coordinator")
        context_coordinator = context_coordinator or given.get("context_coordinator")
        analytics = analytics or given.get("analytics")
        selection_coordinator = selection_coordinator or given.get("selection_coordinator")
        tool_coordinator = tool_coordinator or given.get("tool_coordinator")
        self.workspace = Path(workspace or Path.cwd()).resolve()
        self.config = config_coordinator or ConfigCoordinator(
            [EnvironmentConfigProvider(), FileConfigProvider(config_path, self.workspace)])
        self._base_settings = settings
        if model:
            self._base_settings = (settings or Settings()).model_copy(update={"model": model})
        self.providers = Providers(provider)
        self.store = store or SqliteStore(db_path or self.workspace / ".victor" / "victor.db")
        self.prompts = prompt_coordinator
        self._prompts_fixed = prompt_coordinator is not None
        self._prompts_key = ""  # the base settings' prompt config, which ``prompts`` was built for
        self._prompt_variants: dict[str, PromptCoordinator] = {}
        self._context_fixed = context_coordinator
        self.tools = tool_coordinator
        self._selection_fixed = selection_coordinator
        self.analytics = analytics or AnalyticsCoordinator(self.store)
        if self.analytics.store is None:  # built without one, as victor-ai's examples do
            self.analytics.attach(self.store)
        self.tenancy = tenancy or Tenancy()
        self._contexts: dict[tuple[Any, ...], ContextCoordinator] = {}
        self.sessions = Sessions(self.store, self.analytics, self._contexts)
        self._selections: dict[tuple[Any, ...], ToolSelectionCoordinator] = {}
        self.sticky_tools = StickyToolSets()
        # long-running faces import the provider SDK in the background; one-shot commands don't
        self.warm_up_provider = False
        self.started = False

    # ---- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> AgentOrchestrator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _require_started(self) -> None:
        if not self.started:
            raise NotStarted()

    async def start(self) -> AgentOrchestrator:
        if self.started:
            return self
        if self._base_settings is not None:
            self.config.add_provider(_SettingsProvider(self._base_settings))
        # the built-in sources say which plugins are disabled and what options they get
        self._add_plugin_config_providers((await self.config.resolve()).settings)
        resolved = await self.config.resolve()
        base = resolved.settings
        if not self.store.is_open and isinstance(self.store, SqliteStore) \
                and uses_postgres(base):
            # a team's shared PostgreSQL (unless a database URL was given on the command line)
            self.store = make_store(base, self.store.path, resolved.sources.get("store.url"))
            self.analytics.store = self.store
            self.sessions.store = self.store
        if not self.store.is_open:
            await self.store.open()
        await self.tenancy.seed(self.store, base)
        present = {getattr(p, "name", None) for p in self.config.providers}
        experiment = self.tenancy.experiment(base)
        for source in self.tenancy.config_providers(self.store, experiment, self.analytics):
            if source.name not in present:
                self.config.add_provider(source)
        if experiment is not None:  # the summary names what each variant sets
            self.analytics.variant_settings = {
                name: experiment.settings_of(name) for name in experiment.variants}
        if self.prompts is None:
            self.prompts = self._new_prompts(base)
            self._prompts_key = _prompt_key(base)
        else:  # given ready-made: the tenant's template joins it
            names = {getattr(c, "name", None) for c in self.prompts.contributors}
            for contributor in self.tenancy.prompt_contributors(self.store):
                if getattr(contributor, "name", None) not in names:
                    self.prompts.add_contributor(contributor)
        if self.tools is None:
            options = {**base.tools, "store_path": getattr(self.store, "path", None),
                       "standards_file": base.prompts.standards_file,
                       "mcp_servers": {name: server.model_dump()
                                       for name, server in base.mcp_servers.items()},
                       "plugins_disabled": base.plugins.disabled,
                       "plugin_options": plugin_sections(base)}
            self.tools = ToolCoordinator(self.workspace, options)
        self.tools.approvals.store = self.store  # "always allow" answers live in the store
        self.analytics.interval = base.analytics_export_interval
        self.analytics.enabled = base.enable_analytics
        self.analytics.configure(base.analytics, self.workspace, plugin_sections(base),
                                 base.plugins.disabled)
        await self.analytics.start()
        if self.warm_up_provider:
            self._warm_up = asyncio.get_running_loop().create_task(
                self._warm_provider_sdk(base))
        self.started = True
        return self

    def _add_plugin_config_providers(self, settings: Settings) -> None:
        for extension in REGISTRY.installed("config_providers", settings.plugins.disabled):
            plugin = REGISTRY.try_create(
                "config_providers", extension.name, plugin_options(settings, extension.name),
                ready=lambda t: not inspect.isclass(t) and hasattr(t, "get_config"),
                inject={"workspace": self.workspace, "settings": settings})
            if plugin is not None:
                self.config.add_provider(PluginConfigProvider(
                    extension.name, plugin, REGISTRY.reporter("config_providers")))

    def _new_prompts(self, settings: Settings) -> PromptCoordinator:
        contributors = [*self._plugin_contributors(settings),
                        *self.tenancy.prompt_contributors(self.store)]
        return PromptCoordinator(contributors,
                                 settings.prompts.max_contribution_chars,
                                 on_error=REGISTRY.reporter("prompt_contributors"))

    def prompts_for(self, settings: Settings | None) -> PromptCoordinator:
        """The prompt coordinator for ``settings``: an A/B variant or tenant whose ``prompts.*``
        or ``plugins`` differ from the base config gets contributors built from its values."""
        assert self.prompts is not None
        if self._prompts_fixed or settings is None:
            return self.prompts
        key = _prompt_key(settings)
        if key == self._prompts_key:
            return self.prompts
        if key not in self._prompt_variants:
            if len(self._prompt_variants) >= 32:
                self._prompt_variants.pop(next(iter(self._prompt_variants)))
            self._prompt_variants[key] = self._new_prompts(settings)
        return self._prompt_variants[key]

    def _plugin_contributors(self, settings: Settings) -> list[PromptContributor]:
        """Every enabled contributor, built-in or installed, built with its options."""
        contributors: list[PromptContributor] = []
        for extension in REGISTRY.installed("prompt_contributors", settings.plugins.disabled):
            plugin = REGISTRY.try_create(
                "prompt_contributors", extension.name,
                plugin_options(settings, extension.name),
                ready=lambda t: not inspect.isclass(t) and hasattr(t, "get_contribution"),
                inject={"workspace": self.workspace, "settings": settings})
            if plugin is None:
                continue
            contributors.append(plugin if extension.builtin
                                else PluginContributor(extension.name, plugin))
        return contributors

    async def _warm_provider_sdk(self, settings: Settings) -> None:
        """Import the provider's SDK in a thread while the user is still typing: ``import
        anthropic`` takes a second or more, and the first chat should not wait for it."""
        if self.providers.fixed is None and settings.provider == "anthropic":
            try:
                await asyncio.to_thread(importlib.import_module, "anthropic")
            except Exception as exc:  # only an optimisation; the first chat imports it anyway
                logger.debug("provider SDK warm-up skipped: %s", exc)

    async def close(self) -> None:
        if getattr(self, "_warm_up", None) is not None:
            self._warm_up.cancel()
        await self.analytics.close()
        if self.tools is not None:
            await self.tools.aclose()
        await self.providers.aclose()
        plugin_databases = sys.modules.get("victor_server.db_connection")
        if plugin_databases is not None:  # pools opened for plugins' db_connection
            await plugin_databases.close_all()
        await self.store.close()

    # ---- coordinators per settings ---------------------------------------------------------

    def provider_for(self, settings: Settings) -> LLMProvider:
        return self.providers.for_settings(settings)

    def context_for(self, settings: Settings) -> ContextCoordinator:
        if self._context_fixed is not None:
            return self._context_fixed
        options = plugin_sections(settings)
        # the summarizer's model and provider are part of the key: an A/B variant with another
        # model summarizes with its own
        key = (settings.context_compaction_strategy, settings.context_window,
               settings.context_compaction_threshold, settings.context_compaction_target_ratio,
               settings.model, min(settings.max_tokens, 1024), Providers.key(settings),
               json.dumps([options, settings.plugins.disabled], sort_keys=True, default=str))
        if key not in self._contexts:
            self._contexts[key] = ContextCoordinator(
                settings.context_compaction_strategy, settings.context_window,
                settings.context_compaction_threshold, settings.context_compaction_target_ratio,
                summarizer=summarizer_for(self.providers, settings), strategy_options=options,
                workspace=self.workspace, disabled=settings.plugins.disabled)
        return self._contexts[key]

    def selection_for(self, settings: Settings) -> ToolSelectionCoordinator:
        if self._selection_fixed is not None:
            return self._selection_fixed
        ts = settings.tool_selection
        options = ts.model_dump()
        # ``plugins.<name>`` options, with the older ``strategy_options.<name>`` on top
        inline = options.get("strategy_options")
        options["strategy_options"] = {**plugin_sections(settings),
                                       **(inline if isinstance(inline, dict) else {})}
        options["plugins_disabled"] = list(settings.plugins.disabled)
        key = (ts.strategy, json.dumps(options, sort_keys=True, default=str))
        if key not in self._selections:
            self._selections[key] = ToolSelectionCoordinator(ts.strategy, options,
                                                             store=self.store)
        return self._selections[key]

    # ---- the turn ------------------------------------------------------------------------

    async def chat(self, message: str, session_id: str | None = None,
                   context: Mapping[str, Any] | None = None, *, pin: bool = False,
                   on_delta: DeltaCallback | None = None, on_tool: ToolCallback | None = None,
                   scope: RequestScope = DEFAULT_SCOPE, override: dict[str, Any] | None = None,
                   ask_permission: PermissionAsker | None = None, client_fs: Any = None,
                   extra_blocks: list[dict[str, Any]] | None = None,
                   mode: str | None = None, terminal: Any = None) -> ChatResult:
        self._require_started()
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
        setup = TurnSetup(sid, tenant, settings, built.system_prompt,
                          await self._turn_tools(message, settings, sid, tenant, context), variant,
                          {**metadata, "task": metadata.get("task") or message})
        tool_ctx = ToolContext(self.workspace, sid, ask_permission, client_fs,
                               {"settings": settings, "mode": mode, "terminal": terminal})
        assert self.tools is not None
        deps = TurnDeps(provider, self.store, self.analytics, self.tools,
                        self.context_for(settings))
        started = time.monotonic()
        result = await TurnRunner(deps, setup, on_delta, on_tool, tool_ctx).run()
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
            if self.providers.fixed is not None:
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
        """The tools a chat turn offers, in a stable order: a stable list keeps the provider's
        prompt cache valid from one request to the next."""
        selection = await self._select(message, settings, sid, tenant)
        picked = [s.spec for s in selection.tools]
        ts = settings.tool_selection
        if not ts.sticky:
            return sorted(picked, key=lambda spec: spec.name)
        assert self.tools is not None
        task = (context or {}).get("task")
        # strategy "all" offers every tool
        limit = max(self.sticky_tools.limit_factor * ts.max_tools, len(picked))
        return self.sticky_tools.tools_for(sid, tenant, task if isinstance(task, str) else None,
                                           picked, await self.tools.specs(), limit)

    # ---- the other methods -----------------------------------------------------------------

    async def build_prompt(self, context: Mapping[str, Any] | None = None,
                           session_id: str | None = None, *, settings: Settings | None = None,
                           metadata: dict[str, Any] | None = None,
                           scope: RequestScope = DEFAULT_SCOPE) -> BuiltPrompt:
        """The system prompt; the tenant is the session's, else the authenticated caller's,
        never one named in ``context``."""
        self._require_started()
        if settings is None and session_id:
            settings = (await self.config.resolve(session_id)).settings
        if metadata is None:
            tenant = tenant_of(session_id) if session_id else None
            if tenant is None and scope.authenticated:
                tenant = scope.tenant_id
            metadata = prompt_context(context, session_id=session_id, tenant_id=tenant)
        return await self.prompts_for(settings).build(metadata)

    async def select_tools(self, query: str, max_tools: int | None = None,
                           strategy: str | None = None, session_id: str | None = None,
                           scope: RequestScope = DEFAULT_SCOPE) -> SelectionResult:
        self._require_started()
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
        self._require_started()
        row = await self.visible_session(session_id, scope)
        settings = (await self.config.resolve(row.session_id)).settings
        history = await self.store.get_messages(row.session_id)
        result = await self.context_for(settings).compact(
            history, strategy, metadata={"session_id": row.session_id},
            target_ratio=target_ratio)
        self.analytics.record("compaction", row.session_id, row.tenant_id,
                              **compaction_event(result, automatic=False))
        return result

    async def get_context(self, session_id: str,
                          scope: RequestScope = DEFAULT_SCOPE) -> GetContextResult:
        self._require_started()
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
            history, request_overhead(built.system_prompt, [s.spec for s in selection.tools]),
            {"session_id": row.session_id})
        return GetContextResult(
            messages=[ContextMessage(role=m.role, content=m.content) for m in view.messages],
            tokens=view.tokens, context_window=view.context_window,
            utilization=view.utilization,
            compaction=CompactionView(strategy=view.strategy, compacted=view.compacted,
                                      ran=view.ran, fallback=view.fallback))

    async def get_config(self, session_id: str | None = None,
                         scope: RequestScope = DEFAULT_SCOPE) -> ResolvedConfig:
        if session_id:
            session_id = (await self.visible_session(session_id, scope)).session_id
        resolved = await self.config.resolve(session_id)
        failed = [e for e in REGISTRY.errors() if e not in resolved.errors]
        return dataclasses.replace(resolved, errors=[*resolved.errors, *failed]) \
            if failed else resolved

    async def analytics_summary(self, session_id: str | None = None, since: float | None = None,
                                scope: RequestScope = DEFAULT_SCOPE) -> AnalyticsSummary:
        if session_id:
            row = await self.visible_session(session_id, scope)
            return await self.analytics.summary(row.session_id, all_tenants=True, since=since)
        if scope.authenticated:
            return await self.analytics.summary(None, scope.tenant_id, since)
        return await self.analytics.summary(None, None, since, all_tenants=True)


    # ---- sessions (``Sessions``, under the orchestrator's names) --------------------------

    @property
    def _session_coordinator(self) -> Sessions:
        """Session operations under the name victor-ai's middleware uses for them."""
        return self.sessions

    async def session_for_chat(self, session_id: str | None,
                               scope: RequestScope) -> tuple[str, SessionRow | None]:
        return await self.sessions.session_for_chat(session_id, scope)

    async def create_session(self, session_id: str | None = None, tenant_id: str | None = None,
                             title: str | None = None,
                             scope: RequestScope = DEFAULT_SCOPE) -> SessionRow:
        return await self.sessions.create_session(session_id, tenant_id, title, scope)

    async def visible_session(self, session_id: str, scope: RequestScope) -> SessionRow:
        return await self.sessions.visible_session(session_id, scope)

    async def validate_session(self, session_id: str | None,
                               scope: RequestScope = DEFAULT_SCOPE) -> bool:
        return await self.sessions.validate_session(session_id, scope)

    async def get_session(self, session_id: str,
                          scope: RequestScope = DEFAULT_SCOPE) -> SessionWithMessages:
        return await self.sessions.get_session(session_id, scope)

    async def list_sessions(self, tenant_id: str | None = None, limit: int = 50,
                            cursor: str | None = None,
                            scope: RequestScope = DEFAULT_SCOPE) -> SessionList:
        return await self.sessions.list_sessions(tenant_id, limit, cursor, scope)

    async def delete_session(self, session_id: str, scope: RequestScope = DEFAULT_SCOPE) -> bool:
        return await self.sessions.delete_session(session_id, scope)


class NotStarted(RuntimeError):
    """A method called on an orchestrator that was never started."""

    def __init__(self) -> None:
        super().__init__("the orchestrator is not started: use `async with AgentOrchestrator(...) "
                         "as agent:` or `await orchestrator.start()` before calling it")


class _SettingsProvider:
    """Settings passed to the constructor, as a config source just above the defaults."""

    name = "default"

    def __init__(self, settings: Settings) -> None:
        self._data = settings.model_dump(exclude_unset=True)

    def priority(self) -> int:
        return 1

    async def get_config(self, session_id: str | None) -> dict[str, Any]:
        return self._data



def _prompt_key(settings: Settings) -> str:
    return json.dumps([settings.prompts.model_dump(), settings.plugins.model_dump()],
                      sort_keys=True, default=str)


def plugin_sections(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every ``plugins.<name>`` options mapping in config, by name."""
    extra = settings.plugins.model_extra or {}
    return {name: dict(value) for name, value in extra.items() if isinstance(value, dict)}
