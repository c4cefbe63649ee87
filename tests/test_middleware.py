"""Middleware in isolation: the chain, ``logging``, ``auth``, ``rate_limit``, loading by name
(built-ins and a third-party entry point), and the two rules ``create_middlewares`` enforces."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from victor_server.errors import RateLimited, SessionNotFound, Unauthorized
from victor_server.middleware import RefuseAll, build_chain, create_middlewares
from victor_server.middleware.auth import AuthMiddleware
from victor_server.middleware.chain import CallNext, MethodCall
from victor_server.middleware.rate_limit import RateLimitMiddleware
from victor_server.middleware.request_log import RequestLoggingMiddleware
from victor_server.scope import RequestScope


class Endpoint:
    """The end of the chain: records the calls that got through."""

    def __init__(self, result: Any = "ok") -> None:
        self.calls: list[MethodCall] = []
        self.result = result

    async def __call__(self, call: MethodCall) -> Any:
        self.calls.append(call)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


def call(method: str = "victor/session/get", token: str | None = None,
         **params: Any) -> MethodCall:
    return MethodCall("lsp", method, params, credentials={"auth_token": token} if token else {})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_chain_runs_in_order_and_can_short_circuit() -> None:
    seen: list[str] = []

    def tagging(tag: str, stop: bool = False) -> Any:
        async def middleware(c: MethodCall, call_next: CallNext) -> Any:
            seen.append(f"{tag}>")
            if stop:
                return f"stopped by {tag}"
            result = await call_next(c)
            seen.append(f"<{tag}")
            return result
        return middleware

    endpoint = Endpoint()
    assert await build_chain([tagging("a"), tagging("b")], endpoint)(call()) == "ok"
    assert seen == ["a>", "b>", "<b", "<a"]
    seen.clear()
    assert await build_chain([tagging("a"), tagging("b", stop=True)], endpoint)(call()) == \
        "stopped by b"
    assert seen == ["a>", "b>", "<a"] and len(endpoint.calls) == 1


async def test_auth_maps_tokens_to_tenants() -> None:
    auth = AuthMiddleware(tokens={"token-for-acme": "acme", "token-for-globex": "globex"})
    endpoint = Endpoint()
    await auth(call(token="token-for-acme"), endpoint)
    assert endpoint.calls[-1].scope == RequestScope("acme", authenticated=True)
    for bad in (None, "", "token-for-acm", "token-for-acme2"):
        with pytest.raises(Unauthorized) as refused:
            await auth(call(token=bad), endpoint)
        assert refused.value.code == -32004
    assert len(endpoint.calls) == 1


async def test_auth_refuses_sessions_of_other_tenants_before_any_handler() -> None:
    auth = AuthMiddleware(tokens={"token-for-acme": "acme"})
    endpoint = Endpoint()
    await auth(call(token="token-for-acme", sessionId="acme:1"), endpoint)
    await auth(call(token="token-for-acme", sessionId="bare"), endpoint)  # gets acme's prefix
    for foreign in ("globex:1", ":odd", "odd:"):
        with pytest.raises(SessionNotFound) as hidden:
            await auth(call(token="token-for-acme", session_id=foreign), endpoint)
        assert hidden.value.code == -32001
    assert len(endpoint.calls) == 2


async def test_auth_trims_config_to_the_callers_tenant() -> None:
    config = {"tenants": {"acme": {"config": {}}, "globex": {"config": {}}},
              "middleware": ["logging", {"auth": {"tokens": {"***0": "acme"}}}]}
    auth = AuthMiddleware(tokens={"token-for-acme": "acme"})
    result = await auth(call("victor/getConfig", "token-for-acme"),
                        Endpoint({"config": config, "sources": {}}))
    assert result["config"]["tenants"] == {"acme": {"config": {}}}
    assert result["config"]["middleware"] == ["logging", "auth"]


def test_auth_tokens_are_masked_in_logs() -> None:
    from victor_server.logging_redaction import redact_text

    AuthMiddleware(tokens={"s3cret-token-xyz": "acme"})
    assert redact_text("got s3cret-token-xyz") == "got ***"


def test_auth_rejects_bad_tenant_names() -> None:
    with pytest.raises(ValueError):
        AuthMiddleware(tokens={"t0ken-abc": "a:b"})


async def test_rate_limit_bucket_per_tenant_with_retry_hint() -> None:
    clock = Clock()
    limit = RateLimitMiddleware(requests_per_minute=60, burst=2, clock=clock)
    endpoint = Endpoint()
    acme = RequestScope("acme", authenticated=True)

    def as_acme() -> MethodCall:
        c = call()
        c.scope = acme
        return c

    await limit(as_acme(), endpoint)
    await limit(as_acme(), endpoint)
    with pytest.raises(RateLimited) as limited:
        await limit(as_acme(), endpoint)
    assert limited.value.code == -32003
    assert limited.value.data == {"retryAfterMs": 1000}  # one request a second
    other = call()
    other.scope = RequestScope("globex", authenticated=True)
    await limit(other, endpoint)  # acme's empty bucket does not slow globex
    clock.now += 0.5
    with pytest.raises(RateLimited) as again:
        await limit(as_acme(), endpoint)
    assert again.value.data == {"retryAfterMs": 500}
    clock.now += 0.5
    await limit(as_acme(), endpoint)
    assert len(endpoint.calls) == 4


async def test_rate_limit_without_auth_keys_on_the_session_prefix() -> None:
    clock = Clock()
    limit = RateLimitMiddleware(requests_per_minute=1, burst=1, clock=clock,
                                tenants={"big": {"burst": 3}})
    endpoint = Endpoint()
    await limit(call(sessionId="acme:1"), endpoint)
    with pytest.raises(RateLimited) as limited:
        await limit(call(sessionId="acme:2"), endpoint)
    assert limited.value.data == {"retryAfterMs": 60000}
    await limit(call(sessionId="globex:1"), endpoint)
    for n in range(3):  # a tenant with its own limits
        await limit(call(sessionId=f"big:{n}"), endpoint)
    assert len(endpoint.calls) == 5


async def test_logging_records_outcome_without_message_text(
        caplog: pytest.LogCaptureFixture) -> None:
    log = RequestLoggingMiddleware()
    caplog.set_level(logging.DEBUG, "victor_server.requests")
    await log(MethodCall("mcp", "victor/chat", {"message": "private words",
                                                  "sessionId": "acme:7"}), Endpoint())
    with pytest.raises(SessionNotFound):
        await log(call(sessionId="x"), Endpoint(SessionNotFound("x")))
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("mcp victor/chat session=acme:7 tenant=-")
    assert lines[0].endswith("ok")
    assert lines[1].endswith("error -32001")
    assert "private words" not in "\n".join(lines)
    caplog.clear()
    await RequestLoggingMiddleware(debug=True)(
        MethodCall("mcp", "victor/chat", {"message": "private words"}), Endpoint())
    assert "private words" in caplog.text  # only when asked for


async def test_logging_placed_before_auth_sees_the_tenant(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "victor_server.requests")
    chain = build_chain([RequestLoggingMiddleware(), AuthMiddleware(tokens={"tok-acme": "acme"})],
                        Endpoint())
    await chain(call(token="tok-acme"))
    with pytest.raises(Unauthorized):
        await chain(call(token="nope-nope"))
    lines = [r.getMessage() for r in caplog.records]
    assert "tenant=acme" in lines[0] and lines[1].endswith("error -32004")
    assert "tok-acme" not in caplog.text


class Orchestrator:
    """What create_middlewares hands to a middleware's ``bind``."""


def test_create_middlewares_by_name_with_auth_before_rate_limit() -> None:
    orchestrator = Orchestrator()
    created = create_middlewares(
        ["logging", {"rate_limit": {"burst": 3}}, {"auth": {"tokens": {"tok-acme": "acme"}}}],
        orchestrator)
    assert [type(m).__name__ for m in created] == [
        "RequestLoggingMiddleware", "AuthMiddleware", "RateLimitMiddleware"]


def test_broken_auth_fails_closed_and_broken_plugins_are_skipped() -> None:
    created = create_middlewares([{"auth": {"tokens": "not a mapping"}}, "no_such_middleware",
                                  {"rate_limit": {"burst": 0}}], Orchestrator())
    assert [type(m) for m in created] == [RefuseAll]


async def test_user_middleware_by_entry_point(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stamp_mw.py").write_text(
        "class Stamp:\n"
        "    def __init__(self, label='x'):\n"
        "        self.label = label\n"
        "    async def __call__(self, call, call_next):\n"
        "        result = await call_next(call)\n"
        "        return {**result, 'stamp': self.label}\n")
    dist = tmp_path / "stamp_mw-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: stamp-mw\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[victor_server.middleware]\nstamp = stamp_mw:Stamp\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        (stamp,) = create_middlewares([{"stamp": {"label": "seen"}}], Orchestrator())
        assert await build_chain([stamp], Endpoint({"a": 1}))(call()) == {"a": 1,
                                                                          "stamp": "seen"}
    finally:
        sys.modules.pop("stamp_mw", None)
