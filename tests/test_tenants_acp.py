"""Tenants through the ACP face: one ``victor-server acp`` process whose client sends its token
as ``_meta.authToken`` per request; session/new, load, list and prompt all stay within the
caller's tenant."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import acp
import pytest
from acp import schema
from fake_anthropic import FakeAnthropic, system_text
from tenancy_setup import ACME, GLOBEX, write_config


class QuietClient:
    def __init__(self) -> None:
        self.updates: list[Any] = []

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append(update)

    async def request_permission(self, *args: Any, **kwargs: Any) -> Any:
        raise acp.RequestError.method_not_found("session/request_permission")


async def code_of(request: Any) -> int:
    with pytest.raises(acp.RequestError) as refused:
        await request
    return int(refused.value.code)


async def test_tenants_over_acp(workspace: Path, fake: FakeAnthropic) -> None:
    write_config(workspace)
    env = {**os.environ, **fake.env(), "VICTOR_TOOL_SELECTION__STRATEGY": "keyword"}
    env.pop("VICTOR_AUTH_TOKEN", None)
    client = QuietClient()
    cwd = str(workspace)
    async with acp.spawn_agent_process(client, sys.executable, "-m", "victor_server", "acp",
                                       "--workspace", cwd, env=env) as (conn, _process):
        await conn.initialize(protocol_version=1)
        assert await code_of(conn.new_session(cwd=cwd, mcp_servers=[])) == -32000
        assert await code_of(conn.new_session(cwd=cwd, mcp_servers=[],
                                              authToken="token-for-nobody")) == -32000

        acme = (await conn.new_session(cwd=cwd, mcp_servers=[], authToken=ACME)).session_id
        globex = (await conn.new_session(cwd=cwd, mcp_servers=[], authToken=GLOBEX)).session_id
        assert acme.startswith("acme:") and globex.startswith("globex:")
        done = await conn.prompt(session_id=acme, prompt=[acp.text_block("acme only")],
                                 authToken=ACME)
        assert done.stop_reason == "end_turn"
        assert "You serve ACME's engineers." in system_text(fake.message_requests[-1].body)

        assert await code_of(conn.prompt(session_id=acme, prompt=[acp.text_block("x")],
                                         authToken=GLOBEX)) == -32002
        assert await code_of(conn.load_session(cwd=cwd, session_id=acme, mcp_servers=[],
                                               authToken=GLOBEX)) == -32002
        listed = await conn.list_sessions(cwd=cwd, authToken=GLOBEX)
        assert [s.session_id for s in listed.sessions] == [globex]
        listed = await conn.list_sessions(cwd=cwd, authToken=ACME)
        assert [s.session_id for s in listed.sessions] == [acme]

        client.updates.clear()
        await conn.load_session(cwd=cwd, session_id=acme, mcp_servers=[], authToken=ACME)
        replayed = [u for u in client.updates if isinstance(u, schema.UserMessageChunk)]
        assert replayed and replayed[0].content.text == "acme only"
