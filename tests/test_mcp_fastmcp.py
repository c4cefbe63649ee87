"""fastmcp's Client, a client nobody on this team wrote, against ``victor-server mcp``: both
protocol eras, over stdio and streamable HTTP, through the calls its users make."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport
from mcp_face_harness import http_server, server_args
from server_env import server_env

SCRIPTED = {"VICTOR_PROVIDER": "scripted"}


async def exercise(client: Client[Any]) -> None:
    tools = {t.name: t for t in await client.list_tools()}
    assert tools["get_session"].annotations is not None
    assert tools["get_session"].annotations.read_only_hint is True
    said = await client.call_tool("chat", {"message": "hello fastmcp", "session_id": "fm"})
    assert said.structured_content is not None
    assert "hello fastmcp" in said.structured_content["content"]
    session = await client.read_resource("victor://sessions/fm")
    assert '"session_id": "fm"' in session[0].text  # type: ignore[union-attr]
    prompt = await client.get_prompt("victor_system", {"task": "review", "language": "go"})
    assert "Respond in go" in prompt.messages[0].content.text  # type: ignore[union-attr]
    failed = await client.call_tool("get_session", {"session_id": "ghost"},
                                    raise_on_error=False)
    assert failed.is_error and "-32001" in failed.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_fastmcp_over_stdio(workspace: Path, tmp_path: Path, mode: str) -> None:
    transport = StdioTransport(command=sys.executable,
                               args=server_args(workspace, tmp_path / "v.db"),
                               env=server_env(SCRIPTED), cwd=str(workspace))
    async with Client(transport, mode=mode, timeout=120) as client:
        await exercise(client)


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_fastmcp_over_http(workspace: Path, tmp_path: Path, mode: str) -> None:
    with http_server(workspace, tmp_path / "v.db", SCRIPTED) as url:
        async with Client(StreamableHttpTransport(url), mode=mode, timeout=120) as client:
            await exercise(client)
