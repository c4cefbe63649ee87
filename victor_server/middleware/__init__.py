"""Middleware: logging, auth and rate limits around every method, plus plugins.

``middleware:`` in config is an ordered list of names or ``{name: options}``; each name is
looked up in the ``victor_server.middleware`` plugin group, where the built-ins (``logging``,
``auth``, ``rate_limit``) are registered beside third-party entry points, and called with its
options. The first entry is outermost.

Two rules hold whatever the config says. ``auth`` runs before ``rate_limit`` (the bucket is
the tenant's, which only auth knows), so a list naming them the other way round is reordered
with a warning. And an ``auth`` entry that cannot be built fails closed: a middleware refusing
every call takes its place, because skipping it would open a server meant to be guarded. Any
other middleware that fails to load is logged and skipped, like every plugin.
"""

from __future__ import annotations

import logging
from typing import Any

from victor_server.errors import Unauthorized
from victor_server.middleware.chain import CallNext, MethodCall, Middleware, build_chain
from victor_server.plugins import instantiate, load_plugin

logger = logging.getLogger(__name__)


class RefuseAll:
    """Stands in for an ``auth`` middleware whose config is broken."""

    name = "auth"

    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any:
        raise Unauthorized("unauthorized: the server's auth middleware is misconfigured")


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


def create_middlewares(entries: list[Any], orchestrator: Any) -> list[Middleware]:
    """Config entries (``"logging"`` or ``{"auth": {...}}``) to middleware, in order."""
    created: list[Middleware] = []
    for entry in auth_first(list(entries or [])):
        name = "?"
        try:
            name, options = entry_name(entry)
            middleware = instantiate(load_plugin("victor_server.middleware", name), options)
            if hasattr(middleware, "bind"):
                middleware.bind(orchestrator)
        except Exception as exc:
            logger.error("middleware %s could not be loaded: %s", name, exc)
            if name == "auth" or (isinstance(entry, dict) and "auth" in entry):
                created.append(RefuseAll())
            continue
        created.append(middleware)
    return created


__all__ = ["MethodCall", "Middleware", "RefuseAll", "build_chain", "create_middlewares"]
