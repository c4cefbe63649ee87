"""Middleware: logging, auth and rate limits around every method, plus plugins."""

from __future__ import annotations

from typing import Any

from victor_server.middleware.chain import MethodCall, Middleware, build_chain
from victor_server.plugins import instantiate, load_plugin


def create_middlewares(entries: list[Any], orchestrator: Any) -> list[Middleware]:
    """Config entries (``"logging"`` or ``{"auth": {...}}``) to middleware, in order."""
    created: list[Middleware] = []
    for entry in entries:
        name, options = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        factory = load_plugin("victor_server.middleware", name)
        middleware = instantiate(factory, options or {})
        if hasattr(middleware, "bind"):
            middleware.bind(orchestrator)
        created.append(middleware)
    return created


__all__ = ["MethodCall", "Middleware", "build_chain", "create_middlewares"]
