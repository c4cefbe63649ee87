"""Tenants through the MCP face: one server process, the default token from env
``VICTOR_AUTH_TOKEN`` (acme) and per-request ``_meta.authToken`` (globex, a wrong one, the
rate-limited tenant), over tools, resources and the prompt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_face_harness import error_text, mcp_client, structured
from tenancy_setup import ACME, GLOBEX, TINY, write_config


def as_(token: str) -> dict[str, Any]:
    return {"authToken": token}


async def read(client: Client, uri: str, token: str | None = None) -> Any:
    result = await client.read_resource(uri, meta=as_(token) if token else None,
                                        cache_mode="bypass")
    return json.loads(result.contents[0].text)


async def read_error(client: Client, uri: str, token: str) -> MCPError:
    with pytest.raises(MCPError) as refused:
        await read(client, uri, token)
    return refused.value


async def test_tenants_over_mcp(workspace: Path, fake: FakeAnthropic) -> None:
    write_config(workspace)
    env = {**fake.env(), "VICTOR_AUTH_TOKEN": ACME}
    async with mcp_client(workspace, workspace / "v.db", env) as client:
        mine = structured(await client.call_tool("chat", {"message": "acme notes",
                                                          "session_id": "notes"}))
        assert mine["session_id"] == "acme:notes"
        assert fake.message_requests[-1].body["max_tokens"] == 2048
        theirs = structured(await client.call_tool("chat", {"message": "globex notes"},
                                                   meta=as_(GLOBEX)))
        assert theirs["session_id"].startswith("globex:")

        wrong = await client.call_tool("list_sessions", {}, meta=as_("token-for-nobody"))
        assert "-32004" in error_text(wrong)
        assert (await read_error(client, "victor://sessions", "nope-nope")).error.code == -32004

        for tool, args in [("get_session", {"session_id": "acme:notes"}),
                           ("get_context", {"session_id": "acme:notes"}),
                           ("compact_context", {"session_id": "acme:notes"}),
                           ("chat", {"message": "in", "session_id": "acme:notes"}),
                           ("analytics_summary", {"session_id": "acme:notes"})]:
            refused = await client.call_tool(tool, args, meta=as_(GLOBEX))
            assert "-32001" in error_text(refused), tool
        listed = structured(await client.call_tool("list_sessions", {}, meta=as_(GLOBEX)))
        assert [s["session_id"] for s in listed["sessions"]] == [theirs["session_id"]]
        summary = await client.call_tool("analytics_summary", {}, meta=as_(GLOBEX))
        assert not summary.is_error and summary.structured_content["sessions"] == 1

        hidden = await read_error(client, "victor://sessions/acme:notes", GLOBEX)
        assert hidden.error.code == -32001
        sessions = await read(client, "victor://sessions", GLOBEX)
        assert [s["session_id"] for s in sessions["sessions"]] == [theirs["session_id"]]
        assert (await read(client, "victor://analytics/summary", GLOBEX))["sessions"] == 1
        assert list((await read(client, "victor://config", GLOBEX))["config"]["tenants"]) == [
            "globex"]
        own = await read(client, "victor://sessions")  # the env token: acme
        assert [s["session_id"] for s in own["sessions"]] == ["acme:notes"]

        # the tiny tenant: burst 2, then -32003 with a retry hint; acme is not slowed
        await read(client, "victor://sessions", TINY)
        await read(client, "victor://sessions", TINY)
        limited = await read_error(client, "victor://sessions", TINY)
        assert limited.error.code == -32003
        assert limited.error.data is not None and limited.error.data["retryAfterMs"] > 0
        over = await client.call_tool("list_sessions", {}, meta=as_(TINY))
        assert "-32003" in error_text(over) and "retry after" in error_text(over)
        assert structured(await client.call_tool("list_sessions", {}))["sessions"]
