"""SIGTERM on the MCP and ACP faces: the buffered analytics reach the store before the process
exits 0 (the LSP face's test is in test_analytics_lsp.py)."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from server_env import server_env

ENV = {"VICTOR_PROVIDER": "scripted", "VICTOR_ANALYTICS_EXPORT_INTERVAL": "3600"}


async def send(proc: asyncio.subprocess.Process, message: dict[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(message).encode() + b"\n")
    await proc.stdin.drain()


async def answer(proc: asyncio.subprocess.Process, request_id: int) -> dict[str, Any]:
    assert proc.stdout is not None
    while True:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert line, "the server closed stdout"
        message: dict[str, Any] = json.loads(line)
        if message.get("id") == request_id and "method" not in message:
            return message


def stored_types(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT type FROM analytics_events")}


async def mcp_turn(proc: asyncio.subprocess.Process, workspace: Path) -> None:
    await send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}})
    await answer(proc, 1)
    await send(proc, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    await send(proc, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                      "params": {"name": "chat", "arguments": {"message": "hello"}}})
    reply = await answer(proc, 2)
    assert not reply["result"].get("isError"), reply


async def acp_turn(proc: asyncio.subprocess.Process, workspace: Path) -> None:
    await send(proc, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                      "params": {"protocolVersion": 1, "clientCapabilities": {}}})
    await answer(proc, 1)
    await send(proc, {"jsonrpc": "2.0", "id": 2, "method": "session/new",
                      "params": {"cwd": str(workspace), "mcpServers": []}})
    session = (await answer(proc, 2))["result"]["sessionId"]
    await send(proc, {"jsonrpc": "2.0", "id": 3, "method": "session/prompt", "params": {
        "sessionId": session, "prompt": [{"type": "text", "text": "hello"}]}})
    reply = await answer(proc, 3)
    assert reply["result"]["stopReason"] == "end_turn", reply


@pytest.mark.parametrize("face,turn", [("mcp", mcp_turn), ("acp", acp_turn)])
async def test_sigterm_flushes_analytics(workspace: Path, tmp_path: Path, face: str,
                                         turn: Any) -> None:
    db = workspace / ".victor" / "victor.db"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "victor_server", face, "--workspace", str(workspace),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        env=server_env({**ENV, "XDG_CACHE_HOME": str(tmp_path / "cache")}))
    try:
        await turn(proc, workspace)
        assert "token_usage" not in stored_types(db)  # still in the buffer
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert {"session_start", "chat_request", "token_usage"} <= stored_types(db)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
