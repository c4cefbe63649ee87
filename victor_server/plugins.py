"""The plugin registry: built-ins and entry points, by kind and name, through one route.

Every extension kind (SPEC section 10) is an entry-point group. Built-ins register under the
same group names at import of this module, so ``load_plugin("victor_server.providers",
"scripted")`` and a third-party ``load_plugin(..., "my_provider")`` take the same path. A plugin
that fails to load is logged and skipped; asking for a name nobody registered is a clear error.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

logger = logging.getLogger(__name__)

GROUPS = (
    "victor_server.config_providers", "victor_server.prompt_contributors",
    "victor_server.compaction_strategies", "victor_server.tool_selection_strategies",
    "victor_server.analytics_exporters", "victor_server.middleware", "victor_server.providers",
    "victor_server.tools",
)

# Built-ins as "module:attribute" strings, so registering them imports nothing heavy.
BUILTINS: dict[str, dict[str, str]] = {
    "victor_server.analytics_exporters": {
        "sqlite": "victor_server.analytics.exporters:SQLiteExporter",
        "jsonl": "victor_server.analytics.exporters:JSONLExporter",
        "webhook": "victor_server.analytics.exporters:WebhookExporter",
        "websocket": "victor_server.analytics.exporters:WebSocketExporter",
        "prometheus": "victor_server.analytics.prometheus:PrometheusExporter",
        "postgresql": "victor_server.analytics.postgresql_exporter:PostgreSQLExporter",
    },
    "victor_server.providers": {
        "anthropic": "victor_server.providers.anthropic:AnthropicProvider",
        "openai": "victor_server.providers.openai:OpenAIProvider",
        "scripted": "victor_server.providers.scripted:ScriptedProvider",
    },
    "victor_server.middleware": {
        "logging": "victor_server.middleware.request_log:RequestLoggingMiddleware",
        "auth": "victor_server.middleware.auth:AuthMiddleware",
        "rate_limit": "victor_server.middleware.rate_limit:RateLimitMiddleware",
    },
}


class PluginNotFound(LookupError):
    pass


def register_builtin(group: str, name: str, target: str) -> None:
    BUILTINS.setdefault(group, {})[name] = target


def _resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    obj: Any = import_module(module)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


def available(group: str) -> list[str]:
    names = set(BUILTINS.get(group, {}))
    names.update(ep.name for ep in entry_points(group=group))
    return sorted(names)


def load_plugin(group: str, name: str) -> Any:
    """The class or factory registered as ``name`` in ``group`` (built-ins first)."""
    target = BUILTINS.get(group, {}).get(name)
    if target is not None:
        return _resolve(target)
    for ep in entry_points(group=group):
        if ep.name == name:
            return ep.load()
    raise PluginNotFound(f"no {group.rsplit('.', 1)[-1].rstrip('s')} named {name!r}; "
                         f"available: {', '.join(available(group)) or 'none'}")


def iter_plugins(group: str, disabled: list[str] | None = None) -> list[tuple[str, Any]]:
    """Installed third-party plugins of a group, loaded; failures are logged and skipped."""
    loaded = []
    for ep in entry_points(group=group):
        if disabled and ep.name in disabled:
            continue
        try:
            loaded.append((ep.name, ep.load()))
        except Exception as exc:
            logger.error("plugin %s in %s failed to load and is skipped: %s", ep.name, group, exc)
    return loaded


def instantiate(factory: Callable[..., Any], options: dict[str, Any] | None) -> Any:
    """Call a plugin's class or factory with its options (empty when none).

    Options go in as keyword arguments when the signature takes them (``Strategy(keep=2)``,
    the seed's classes), and as one dict when it takes a single positional parameter
    (``factory(options)``). Errors raised by the plugin itself propagate unchanged.
    """
    options = options or {}
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # no signature to read: builtins, some C types
        return factory(**options)
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = {p.name for p in params if p.kind in by_keyword}
    takes_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    required = {p.name for p in params if p.kind in by_keyword and p.default is p.empty}
    if (takes_kwargs or set(options) <= names) and required <= set(options):
        return factory(**options)
    positional = [p for p in params if p.kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                   inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    if len(positional) == 1:
        return factory(options)
    return factory(**options)
