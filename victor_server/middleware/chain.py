"""The middleware chain around every protocol method of every face.

A middleware is ``async (call: MethodCall, call_next) -> result``: it may inspect or change the
call (the auth middleware sets ``call.scope``), time it, short-circuit by raising or returning,
and observe errors. Lifecycle methods never reach the chain (the faces handle them first).

The ``MethodCall`` is one mutable object handed down the chain, so a middleware placed before
``auth`` (``logging``) still sees the tenant auth chose when its own code runs after
``call_next`` returns.

``FunctionMiddleware`` adapts victor-ai's shape, ``async def mw(orchestrator, func, *args,
**kwargs)``: ``func`` runs the rest of the chain (at most once, whatever the function does with
it), ``args`` is ``(params,)`` and ``kwargs`` carry ``method``, ``session_id`` and ``face``.
Returning something other than ``None`` answers the call early; returning ``None`` without
calling ``func`` continues the chain. An exception from the rest of the chain passes through
unchanged; one from the function itself is the plugin failing (``on_error``): an ordinary
middleware is then skipped for that call, an authentication one refuses the call (-32004 with
the reason), because a guard that cannot run must not let the call through.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from victor_server.errors import Unauthorized, VictorError
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


class AuthenticationError(Unauthorized):
    """What an authentication middleware raises to refuse a call (-32004)."""

    def __init__(self, reason: str = "unauthorized") -> None:
        super().__init__(f"unauthorized: {reason}")


class _Passed(Exception):
    """Carries an error of the rest of the chain through the user's function untouched."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class FunctionMiddleware:
    """A victor-ai-shaped middleware function in the chain."""

    def __init__(self, name: str, function: Callable[..., Awaitable[Any]], orchestrator: Any,
                 fails_closed: bool = False,
                 on_error: Callable[[str, BaseException | None], None] | None = None) -> None:
        self.name = name
        self.function = function
        self.orchestrator = orchestrator
        self.fails_closed = fails_closed
        self.on_error = on_error

    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any:
        outcome: dict[str, Any] = {}

        async def func(*args: Any, **kwargs: Any) -> Any:
            if "result" not in outcome:
                try:
                    outcome["result"] = await call_next(call)
                except BaseException as exc:
                    outcome["error"] = exc
                    raise _Passed(exc) from exc
            return outcome["result"]

        func.__name__ = call.method
        try:
            answer = await self.function(self.orchestrator, func, call.params,
                                         method=call.method, session_id=call.session_id,
                                         face=call.face)
        except _Passed as passed:
            raise passed.error from None
        except VictorError:
            if "error" in outcome:
                raise outcome["error"] from None
            raise  # the function refused the call on purpose (AuthenticationError, ...)
        except Exception as exc:
            if "error" in outcome:  # it caught the chain's error and raised another: keep ours
                raise outcome["error"] from exc
            if self.on_error is not None:
                self.on_error(self.name, exc)
            if self.fails_closed:
                raise Unauthorized(f"unauthorized: authentication middleware {self.name} "
                                   f"failed: {type(exc).__name__}: {exc}") from exc
            answer = None
        if answer is not None:
            return answer
        if "error" in outcome:
            raise outcome["error"]
        if "result" in outcome:
            return outcome["result"]
        return await call_next(call)


class GuardedMiddleware:
    """An installed ``(call, call_next)`` middleware whose own failures are contained the way
    ``FunctionMiddleware``'s are: skipped for the call, or refused when it fails closed."""

    def __init__(self, name: str, middleware: Middleware, fails_closed: bool = False,
                 on_error: Callable[[str, BaseException | None], None] | None = None) -> None:
        self.name = name
        self.middleware = middleware
        self.fails_closed = fails_closed
        self.on_error = on_error

    async def __call__(self, call: MethodCall, call_next: CallNext) -> Any:
        outcome: dict[str, Any] = {}

        async def chain(passed: MethodCall) -> Any:
            try:
                outcome["result"] = await call_next(passed)
            except BaseException as exc:
                outcome["error"] = exc
                raise
            return outcome["result"]

        try:
            return await self.middleware(call, chain)
        except VictorError:
            raise
        except Exception as exc:
            if "error" in outcome:
                raise
            if self.on_error is not None:
                self.on_error(self.name, exc)
            if self.fails_closed:
                raise Unauthorized(f"unauthorized: authentication middleware {self.name} "
                                   f"failed: {type(exc).__name__}: {exc}") from exc
            if "result" in outcome:
                return outcome["result"]
            return await call_next(call)
