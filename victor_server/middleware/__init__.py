"""Middleware: logging, auth and rate limits around every method, plus plugins.

``middleware:`` in config is an ordered list of names or ``{name: options}``; each name is
looked up in the ``victor_server.middleware`` plugin group, where the built-ins (``logging``,
``auth``, ``rate_limit``) are registered beside third-party entry points, and called with its
options. The first entry is outermost.

Options come inline (``{name: options}``) or from ``plugins.<name>``. An entry point may name a
class (built with its options, called as ``(call, call_next)``) or a victor-ai-shaped function
``async (orchestrator, func, *args, **kwargs)`` (adapted by ``FunctionMiddleware``).

Two rules hold whatever the config says. ``auth`` runs before ``rate_limit`` (the bucket is
the tenant's, which only auth knows), so a list naming them the other way round is reordered
with a warning. And an authentication middleware (``auth``, any entry whose name contains
"auth", or one whose object sets ``fails_closed = True``) that cannot be loaded, built or run
fails closed: every call is refused with -32004 and the reason, because skipping it would open
a server meant to be guarded. Any other middleware that fails is reported by the plugin
registry, logged once and skipped.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from victor_server.errors import Unauthorized
from victor_server.middleware.chain import (
    AuthenticationError,
    CallNext,
    FunctionMiddleware,
    GuardedMiddleware,
    MethodCall,
    Middleware,
    build_chain,
)
from victor_server.plugins import REGISTRY, PluginFailed

GROUP = "victor_server.middleware"

logger = logging.getLogger(__name__)


class RefuseAll:
    """Stands in for an authentication middleware that could not be loaded or built."""

    def __init__(self, name: str = "auth", reason: str = "it is misconfigured") -> None:
        self.name = name
        self.reason = reason

    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any:
        raise Unauthorized(f"unauthorized: the server's authentication middleware {self.name} "
                           f"is unavailable ({self.reason})")


def is_auth(name: str, plugin: Any = None) -> bool:
    return "auth" in name.lower() or getattr(plugin, "fails_closed", False) is True


def entry_name(entry: Any) -> tuple[str, dict[str, Any]]:
    if isinstance(entry, str):
        return entry, {}
    if isinstance(entry, dict) and len(entry) == 1:
        name, options = next(iter(entry.items()))
        return str(name), dict(options or {}) if isinstance(options, dict) else {}
    raise ValueError(f"a middleware entry is a name or {{name: options}}, not {entry!r}")


def auth_first(entries: list[Any]) -> list[Any]:
    names = [entry_name(e)[0] if isinstance(e, str | dict) else "" for e in entries]
    if "auth" in names and "rate_limit" in names and names.index("rate_limit") < names.index(
            "auth"):
        logger.warning("middleware: auth moved before rate_limit (limits are per tenant)")
        auth = entries[names.index("auth")]
        rest = [e for i, e in enumerate(entries) if i != names.index("auth")]
        rest.insert(names.index("rate_limit"), auth)
        return rest
    return list(entries)


def create_middlewares(entries: list[Any], orchestrator: Any,
                       plugin_options: dict[str, dict[str, Any]] | None = None,
                       disabled: list[str] | tuple[str, ...] = ()) -> list[Middleware]:
    """Config entries (``"logging"`` or ``{"auth": {...}}``) to middleware, in order."""
    created: list[Middleware] = []
    for entry in auth_first(list(entries or [])):
        try:
            name, inline = entry_name(entry)
        except ValueError as exc:
            logger.error("middleware entry skipped: %s", exc)
            continue
        if name in disabled:
            if is_auth(name):
                created.append(RefuseAll(name, "listed in plugins.disabled"))
            continue
        options = {**(plugin_options or {}).get(name, {}), **inline}
        try:
            middleware = REGISTRY.create(GROUP, name, options,
                                         ready=inspect.iscoroutinefunction)
            if inspect.iscoroutinefunction(middleware):
                middleware = FunctionMiddleware(name, middleware, orchestrator,
                                                is_auth(name, middleware),
                                                REGISTRY.reporter(GROUP))
            else:
                if hasattr(middleware, "bind"):
                    middleware.bind(orchestrator)
                if not REGISTRY.get(GROUP, name).builtin:
                    middleware = GuardedMiddleware(name, middleware, is_auth(name, middleware),
                                                   REGISTRY.reporter(GROUP))
        except Exception as exc:
            if not isinstance(exc, PluginFailed):
                logger.error("middleware %s could not be loaded: %s", name, exc)
            if is_auth(name):
                created.append(RefuseAll(name, str(exc)))
            continue
        created.append(middleware)
    return created


__all__ = ["AuthenticationError", "FunctionMiddleware", "MethodCall", "Middleware", "RefuseAll",
           "build_chain", "create_middlewares"]
