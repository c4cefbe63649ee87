"""``victor-server mcp --http``: streamable HTTP on loopback with DNS-rebinding protection."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
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

        async with httpx2.AsyncClient() as http:
            ok = await http.post(url, json=INIT, headers=HEADERS)
            assert ok.status_code == 200
            rebound = await http.post(url, json=INIT, headers={**HEADERS, "Host": "evil.example"})
            assert rebound.status_code in (403, 421)
            foreign = await http.post(url, json=INIT,
                                      headers={**HEADERS, "Origin": "http://evil.example"})
            assert foreign.status_code == 403


def sse_events(body: str) -> list[dict[str, str]]:
    """The complete events in what has arrived so far (a trailing partial one is left out)."""
    events = []
    for chunk in body.replace("\r\n", "\n").split("\n\n")[:-1]:
        fields: dict[str, str] = {}
        for line in chunk.splitlines():
            name, _, value = line.partition(":")
            fields[name] = fields.get(name, "") + value.strip()
        if fields:
            events.append(fields)
    return events


async def test_a_dropped_stream_resumes_with_last_event_id(workspace: Path, tmp_path: Path) -> None:
    with http_server(workspace, tmp_path / "v.db", {"VICTOR_PROVIDER": "scripted"}) as url:
        async with httpx2.AsyncClient(timeout=60) as http:
            # the priming event (an id, no data, a retry hint) is for 2025-11-25 clients on
            init = await http.post(url, headers=HEADERS, json={
                **INIT, "params": {**INIT["params"], "protocolVersion": "2025-11-25"}})
            session = {**HEADERS, "mcp-session-id": init.headers["mcp-session-id"],
                       "mcp-protocol-version": "2025-11-25"}
            await http.post(url, headers=session, json={
                "jsonrpc": "2.0", "method": "notifications/initialized"})
            call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
                "name": "chat", "arguments": {"message": "resume me", "session_id": "r"}}}
            # read only the stream's first event (the priming one), then drop the connection
            async with http.stream("POST", url, json=call, headers=session) as stream:
                first = ""
                async for text in stream.aiter_text():
                    first += text
                    if "\n\n" in first.replace("\r\n", "\n"):
                        break
            priming = sse_events(first)[0]
            assert priming["id"] and priming["retry"] == "1000"

            # the resumed stream stays open for more: read it until the answer to our call
            replayed, result = "", None
            async with http.stream("GET", url, timeout=30,
                                   headers={**session, "Last-Event-ID": priming["id"]}) as again:
                assert again.status_code == 200
                async for text in again.aiter_text():
                    replayed += text
                    answers = [json.loads(e["data"]) for e in sse_events(replayed)
                               if e.get("data")]
                    result = next((a for a in answers if a.get("id") == 7), None)
                    if result is not None:
                        break
            assert result is not None
            assert result["result"]["structuredContent"]["session_id"] == "r"
