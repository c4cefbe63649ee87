"""Two tenants on one store through the LSP face: each client (its token in
``initializationOptions.authToken``) sees and touches only its own sessions and analytics, by
every method; tenant config and prompt templates reach the model request. Session operations:
explicit ids, cursor paging, search, delete without reuse. (Missing and wrong tokens are
covered through the MCP and ACP faces, which carry a token per request.)"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, system_text
from lsp_harness import VictorClient, lsp_server
from pygls.exceptions import JsonRpcException
from tenancy_setup import ACME, GLOBEX, write_config


async def code_of(request: Awaitable[Any]) -> int:
    with pytest.raises(JsonRpcException) as refused:
        await request
    return int(refused.value.code)


async def test_two_tenants_cannot_see_each_other(workspace: Path, fake: FakeAnthropic) -> None:
    write_config(workspace)
    env = fake.env()
    async with AsyncExitStack() as stack:
        acme, globex = await asyncio.gather(
            stack.enter_async_context(lsp_server(workspace, env, init_options={"authToken": ACME})),
            stack.enter_async_context(lsp_server(workspace, env, init_options={
                "authToken": GLOBEX})))
        await check_isolation(acme, globex, fake)
        await check_session_operations(acme)


async def check_isolation(acme: VictorClient, globex: VictorClient,
                          fake: FakeAnthropic) -> None:
    mine = await acme.request("victor/chat", {"message": "the secret walrus plan",
                                              "sessionId": "plan"})
    assert mine["sessionId"] == "acme:plan"  # a bare id gets the tenant's prefix
    sent = fake.message_requests[-1].body
    assert sent["max_tokens"] == 2048  # acme's config row
    assert "You serve ACME's engineers." in system_text(sent) and "Globex" not in system_text(sent)
    theirs = await globex.request("victor/chat", {"message": "hello", "sessionId": "g1"})
    assert theirs["sessionId"] == "globex:g1"
    assert fake.message_requests[-1].body["model"] == "claude-globex-1"
    assert "You serve Globex." in system_text(fake.message_requests[-1].body)

    # every method that names acme's session answers "not found" to globex
    for method, params in [
            ("victor/session/get", {"sessionId": "acme:plan"}),
            ("victor/chat", {"message": "let me in", "sessionId": "acme:plan"}),
            ("victor/chat", {"message": "squat", "sessionId": "acme:new"}),
            ("victor/getContext", {"sessionId": "acme:plan"}),
            ("victor/compactContext", {"sessionId": "acme:plan"}),
            ("victor/getConfig", {"sessionId": "acme:plan"}),
            ("victor/buildPrompt", {"sessionId": "acme:plan"}),
            ("victor/selectTools", {"query": "read", "sessionId": "acme:plan"}),
            ("victor/analytics/summary", {"sessionId": "acme:plan"}),
            ("victor/session/delete", {"sessionId": "acme:plan"}),
            ("victor/session/create", {"sessionId": "acme:mine-now"})]:
        assert await code_of(globex.request(method, params)) == -32001, method

    listed = await globex.request("victor/session/list", {})
    assert [s["sessionId"] for s in listed["sessions"]] == ["globex:g1"]
    assert (await globex.request("victor/session/list", {"tenantId": "acme"}))["sessions"] == []
    found = await globex.request("victor/session/search", {"query": "walrus"})
    assert found["results"] == []
    summary = await globex.request("victor/analytics/summary", {})
    assert summary["sessions"] == 1 and summary["events"]["chat_request"] == 1
    config = await globex.request("victor/getConfig", {})
    assert list(config["config"]["tenants"]) == ["globex"]
    assert "token-for" not in str(config)

    # acme still has its session, untouched, and nothing was created under its prefix
    session = await acme.request("victor/session/get", {"sessionId": "plan"})
    assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
    listed = await acme.request("victor/session/list", {})
    assert [s["sessionId"] for s in listed["sessions"]] == ["acme:plan"]
    found = await acme.request("victor/session/search", {"query": "walrus"})
    assert {hit["sessionId"] for hit in found["results"]} == {"acme:plan"}
    summary = await acme.request("victor/analytics/summary", {})
    assert summary["sessions"] == 1


async def check_session_operations(acme: VictorClient) -> None:
    for n in range(3):
        created = await acme.request("victor/session/create",
                                     {"sessionId": f"page-{n}", "title": f"page {n}"})
        assert created["sessionId"] == f"acme:page-{n}" and created["tenantId"] == "acme"
    first = await acme.request("victor/session/list", {"limit": 2})
    second = await acme.request("victor/session/list", {"limit": 2,
                                                        "cursor": first["nextCursor"]})
    paged = [s["sessionId"] for s in first["sessions"] + second["sessions"]]
    assert sorted(paged) == ["acme:page-0", "acme:page-1", "acme:page-2", "acme:plan"]
    assert "nextCursor" not in second
    assert await acme.request("victor/session/delete", {"sessionId": "page-0"}) == {
        "deleted": True}
    assert await code_of(acme.request("victor/session/get", {"sessionId": "page-0"})) == -32001
    # ids are never reused
    assert await code_of(acme.request("victor/session/create",
                                      {"sessionId": "page-0"})) == -32602
