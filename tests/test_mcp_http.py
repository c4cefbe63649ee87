"""``victor-server mcp --http``: streamable HTTP on loopback with DNS-rebinding protection."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp_face_harness import http_server, structured

INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {},
    "clientInfo": {"name": "probe", "version": "0"}}}
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_http_serves_both_eras_and_refuses_foreign_hosts(workspace: Path, tmp_path: Path,
                                                                mode: str) -> None:
    with http_server(workspace, tmp_path / "v.db", {"VICTOR_PROVIDER": "scripted"}) as url:
        async with Client(url, mode=mode) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            assert "select_tools" in tools
            said = structured(await client.call_tool("chat", {"message": "over http",
                                                              "session_id": "h1"}))
            assert said["session_id"] == "h1"
            selected = structured(await client.call_tool("select_tools", {"query": "edit"}))
            assert selected["tools"]

        async with httpx.AsyncClient() as http:
            ok = await http.post(url, json=INIT, headers=HEADERS)
            assert ok.status_code == 200
            rebound = await http.post(url, json=INIT, headers={**HEADERS, "Host": "evil.example"})
            assert rebound.status_code in (403, 421)
            foreign = await http.post(url, json=INIT,
                                      headers={**HEADERS, "Origin": "http://evil.example"})
            assert foreign.status_code == 403
