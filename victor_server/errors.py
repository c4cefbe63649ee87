"""The exception tree, each class carrying its JSON-RPC code.

    VictorError                      base; ``code``, ``message``, ``data``
    ├── InvalidParams       -32602   ``data.field`` names the offending field path
    ├── MethodNotFound      -32601
    ├── SessionNotFound     -32001   ``data.sessionId``
    ├── ProviderUnavailable -32002   ``data.provider``, ``data.reason``
    ├── RateLimited         -32003   ``data.retryAfterMs``
    ├── Unauthorized        -32004
    ├── StoreUnavailable    -32005   ``data.reason``
    └── RequestCancelled    -32800

A feature raises once; the faces decide what a client is told in one place
(``victor_server.adapters.common.wire_error``: code, message and data), so each protocol
reports the same code (ACP keeps ours in ``data.victorCode`` where its own codes differ).
``to_error_payload`` is that answer as a JSON-RPC error object.
"""

from __future__ import annotations

from typing import Any


class VictorError(Exception):
    code: int = -32603

    def __init__(self, message: str, data: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def to_error_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            payload["data"] = self.data
        return payload


class InvalidParams(VictorError):
    code = -32602

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"invalid params: {field}: {message}", {"field": field})
        self.field = field


class MethodNotFound(VictorError):
    code = -32601


class SessionNotFound(VictorError):
    code = -32001

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session not found: {session_id}", {"sessionId": session_id})
        self.session_id = session_id


class ProviderUnavailable(VictorError):
    code = -32002

    def __init__(self, provider: str, reason: str) -> None:
        super().__init__(f"provider {provider} unavailable: {reason}",
                         {"provider": provider, "reason": reason})
        self.provider = provider
        self.reason = reason


class RateLimited(VictorError):
    code = -32003

    def __init__(self, retry_after_ms: int) -> None:
        super().__init__(f"rate limited: retry after {retry_after_ms} ms",
                         {"retryAfterMs": retry_after_ms})
        self.retry_after_ms = retry_after_ms


class Unauthorized(VictorError):
    code = -32004

    def __init__(self, message: str = "unauthorized: missing or unknown auth token") -> None:
        super().__init__(message)


class StoreUnavailable(VictorError):
    code = -32005

    def __init__(self, reason: str) -> None:
        super().__init__(f"store unavailable: {reason}", {"reason": reason})
        self.reason = reason


class RequestCancelled(VictorError):
    code = -32800

    def __init__(self, message: str = "request cancelled") -> None:
        super().__init__(message)


__all__ = [
    "InvalidParams", "MethodNotFound", "ProviderUnavailable", "RateLimited", "RequestCancelled",
    "SessionNotFound", "StoreUnavailable", "Unauthorized", "VictorError",
]
