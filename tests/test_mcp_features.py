"""MCP's optional features over real stdio with the SDK's own client, in both protocol eras:
logging/setLevel, completions, resource subscriptions, and one set of capabilities."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp_face_harness import mcp_client, server_args, structured
from rpc_wire import WireServer
from server_env import server_env

SCRIPTED = {"VICTOR_PROVIDER": "scripted"}


MODERN = {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
          "io.modelcontextprotocol/clientCapabilities": {},
          "io.modelcontextprotocol/clientInfo": {"name": "wire", "version": "0"}}


def test_both_eras_declare_the_same_capabilities(workspace: Path) -> None:
    # raw frames: the SDK client does not surface what server/discover declared
    declared = []
    for handshake in ("server/discover", "initialize"):
        server = WireServer("mcp", workspace, SCRIPTED)
        try:
            answer = (server.call(handshake, {"_meta": MODERN})
                      if handshake == "server/discover" else server.initialize())
            declared.append(answer["capabilities"])
        finally:
            server.close()
    modern, legacy = declared
    assert legacy == modern
    assert legacy["resources"] == {"subscribe": True, "listChanged": True}
    assert "completions" in legacy and "logging" in legacy


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_completions(workspace: Path, tmp_path: Path, mode: str) -> None:
    async with mcp_client(workspace, tmp_path / "v.db", SCRIPTED, mode=mode) as client:
        for sid in ("alpha-1", "alpha-2", "beta-1"):
            structured(await client.call_tool("chat", {"message": "hi", "session_id": sid}))
        prompt = types.PromptReference(type="ref/prompt", name="victor_system")
        languages = await client.complete(prompt, {"name": "language", "value": "py"})
        assert languages.completion.values == ["python"]
        template = types.ResourceTemplateReference(type="ref/resource",
                                                   uri="victor://sessions/{session_id}")
        ids = await client.complete(template, {"name": "session_id", "value": "alpha"})
        assert sorted(ids.completion.values) == ["alpha-1", "alpha-2"]
        assert ids.completion.total == 2 and ids.completion.has_more is False
        with pytest.raises(MCPError) as unknown:
            await client.complete(types.PromptReference(type="ref/prompt", name="nope"),
                                  {"name": "x", "value": ""})
        assert unknown.value.error.code == -32602


async def test_legacy_subscription_and_log_level(workspace: Path, tmp_path: Path) -> None:
    notes: list[Any] = []
    logs: list[types.LoggingMessageNotificationParams] = []

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            notes.append(str(message.params.uri))

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        logs.append(params)

    params = StdioServerParameters(
        command=sys.executable, args=server_args(workspace, tmp_path / "v.db"),
        env=server_env(SCRIPTED), cwd=str(workspace))
    async with Client(params, mode="legacy", read_timeout_seconds=60, message_handler=on_message,
                      logging_callback=on_log) as client:
        await client.subscribe_resource("victor://sessions/watched")
        structured(await client.call_tool("chat", {"message": "hi", "session_id": "other"}))
        structured(await client.call_tool("chat", {"message": "hi", "session_id": "watched"}))
        await client.unsubscribe_resource("victor://sessions/watched")
        structured(await client.call_tool("chat", {"message": "again",
                                                   "session_id": "watched"}))
        await client.send_ping()
        assert notes == ["victor://sessions/watched"]

        assert logs == []  # nothing is sent until the client asks for a level
        await client.set_logging_level("debug")
        structured(await client.call_tool("chat", {"message": "hello", "session_id": "logged"}))
        with anyio.fail_after(30):
            while not logs:
                await client.send_ping()
        assert all(log.logger and log.logger.startswith("victor_server") for log in logs)
        await client.set_logging_level("emergency")
        seen = len(logs)
        structured(await client.call_tool("chat", {"message": "quiet", "session_id": "logged"}))
        await client.send_ping()
        assert len(logs) == seen


async def test_listen_stream_sees_session_updates(workspace: Path, tmp_path: Path) -> None:
    async with mcp_client(workspace, tmp_path / "v.db", SCRIPTED, mode="2026-07-28") as client:
        async with client.listen(resource_subscriptions=["victor://sessions/s1"]) as stream:
            structured(await client.call_tool("chat", {"message": "hi", "session_id": "s1"}))
            with anyio.fail_after(30):
                event = await stream.__anext__()
        assert getattr(event, "uri", None) == "victor://sessions/s1"
