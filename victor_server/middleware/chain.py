"""The middleware chain around every protocol method of every face.

A middleware is ``async (call: MethodCall, call_next) -> result``: it may inspect or change the
call (the auth middleware sets ``call.scope``), time it, short-circuit by raising or returning,
and observe errors. Lifecycle methods never reach the chain (the faces handle them first).

The ``MethodCall`` is one mutable object handed down the chain, so a middleware placed before
``auth`` (``logging``) still sees the tenant auth chose when its own code runs after
``call_next`` returns.
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

    @property
    def session_id(self) -> str | None:
        """The session the params name (camelCase from LSP/ACP, snake_case from MCP)."""
        params = self.params
        if hasattr(params, "_asdict"):  # pygls hands custom params over as namedtuples
            params = params._asdict()
        if not isinstance(params, dict):
            return None
        value = params.get("sessionId", params.get("session_id"))
        return value if isinstance(value, str) and value else None


CallNext = Callable[[MethodCall], Awaitable[Any]]


class Middleware(Protocol):
    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any: ...


def build_chain(middlewares: list[Middleware], endpoint: CallNext) -> CallNext:
    """The first middleware is outermost: it runs first and sees the final outcome."""
    handler = endpoint
    for middleware in reversed(middlewares):
        handler = _bind(middleware, handler)
    return handler


def _bind(middleware: Middleware, call_next: CallNext) -> CallNext:
    async def run(call: MethodCall) -> Any:
        return await middleware(call, call_next)
    return run
