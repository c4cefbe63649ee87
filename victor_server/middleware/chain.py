"""The middleware chain around every protocol method of every face.

A middleware is ``async (call: MethodCall, call_next) -> result``: it may inspect or change the
call (the auth middleware sets ``call.scope``), time it, short-circuit by raising or returning,
and observe errors. Lifecycle methods never reach the chain (the faces handle them first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from victor_server.scope import DEFAULT_SCOPE, RequestScope


@dataclass
class MethodCall:
    face: str  # "lsp" | "mcp" | "acp" | "cli"
    method: str
    params: Any
    scope: RequestScope = DEFAULT_SCOPE
    credentials: dict[str, Any] = field(default_factory=dict)  # e.g. {"auth_token": "..."}
    extra: dict[str, Any] = field(default_factory=dict)  # callbacks for chat


CallNext = Callable[[MethodCall], Awaitable[Any]]


class Middleware(Protocol):
    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any: ...


def build_chain(middlewares: list[Middleware], endpoint: CallNext) -> CallNext:
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: Middleware, call_next: CallNext) -> CallNext:
    async def run(call: MethodCall) -> Any:
        return await middleware(call, call_next)
    return run
