"""SIGINT, SIGTERM, SIGHUP and stdin EOF on every face: the process closes and exits 0.

Each stdio face (and ``mcp --http``) first runs one chat turn, whose ``token_usage`` event waits
in the analytics buffer (the export interval is an hour); after the signal the process must
exit 0 with that event in the store, the store whole (``integrity_check``) and closed (SQLite
removes the ``-wal`` file when its last connection closes cleanly). The dashboard, which only
reads, must exit 0 and leave the store closed too. The time from signal to exit is printed
(``-s``), not asserted; docs/reliability.md has the figures (``bench/bench_reliability.py``).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, slow_text
from rpc_wire import WireServer
from server_env import server_env

ENV = {"VICTOR_PROVIDER": "scripted", "VICTOR_ANALYTICS_EXPORT_INTERVAL": "3600"}
STOPS = ["SIGINT", "SIGTERM", "SIGHUP", "EOF"]


def run_turn(server: WireServer) -> None:
    server.initialize()
    if server.face == "lsp":
        result = server.call("victor/chat", {"message": "hello"})
        assert result["stopReason"] == "end_turn", result
    elif server.face == "mcp":
        result = server.call("tools/call", {"name": "chat", "arguments": {"message": "hello"}})
        assert not result.get("isError"), result
    else:
        session = server.call("session/new", {"cwd": str(server.workspace), "mcpServers": []})
        result = server.call("session/prompt", {"sessionId": session["sessionId"], "prompt": [
            {"type": "text", "text": "hello"}]})
        assert result["stopReason"] == "end_turn", result


def stop(proc: subprocess.Popen[bytes], how: str) -> tuple[int, float]:
    """Send the signal (or close stdin); the exit status and the seconds it took."""
    started = time.monotonic()
    if how == "EOF":
        assert proc.stdin is not None
        proc.stdin.close()
    else:
        proc.send_signal(getattr(signal, how))
    status = proc.wait(30)
    return status, time.monotonic() - started


def assert_closed(db: Path, flushed: bool) -> None:
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0, \
        "the store was not closed (its WAL is still there)"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        types = {r[0] for r in conn.execute("SELECT type FROM analytics_events")}
    if flushed:
        assert {"chat_request", "token_usage"} <= types, types


@pytest.mark.parametrize("how", STOPS)
@pytest.mark.parametrize("face", ["lsp", "mcp", "acp"])
def test_stdio_face_stops_cleanly(workspace: Path, tmp_path: Path, face: str, how: str) -> None:
    server = WireServer(face, workspace, {**ENV, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    try:
        run_turn(server)
        status, seconds = stop(server.proc, how)
        print(f"\n{face} {how}: exit {status} after {seconds * 1000:.0f} ms")
        assert status == 0, server.tail()
        assert_closed(workspace / ".victor" / "victor.db", flushed=True)
    finally:
        if server.alive:
            server.kill()


@pytest.mark.parametrize("how", STOPS[:3])
def test_mcp_http_stops_cleanly(workspace: Path, tmp_path: Path, how: str) -> None:
    from mcp_face_harness import free_port

    db = workspace / ".victor" / "victor.db"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "victor_server", "mcp", "--http", "--port", str(port),
         "--workspace", str(workspace)], env=server_env(ENV), cwd=str(workspace),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_listening(proc, port)
        asyncio.run(chat_over_http(f"http://127.0.0.1:{port}/mcp"))
        status, seconds = stop(proc, how)
        print(f"\nmcp --http {how}: exit {status} after {seconds * 1000:.0f} ms")
        assert status == 0, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        assert_closed(db, flushed=True)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


async def chat_over_http(url: str) -> None:
    from mcp import Client

    async with Client(url) as client:
        said = await client.call_tool("chat", {"message": "hello"})
        assert not said.is_error, said


def wait_listening(proc: subprocess.Popen[Any], port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on {port}")


@pytest.mark.parametrize("how", STOPS[:3])
def test_dashboard_stops_cleanly(workspace: Path, how: str) -> None:
    db = workspace / ".victor" / "victor.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "victor_server", "dashboard", "--port", "0", "--workspace",
         str(workspace)], env=server_env(ENV), stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()
        assert re.search(r"http://127\.0\.0\.1:\d+/", line), line
        status, seconds = stop(proc, how)
        print(f"\ndashboard {how}: exit {status} after {seconds * 1000:.0f} ms")
        assert status == 0, proc.stderr.read().decode()[-2000:]
        assert_closed(db, flushed=False)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_second_signal_while_closing_changes_nothing(workspace: Path, tmp_path: Path) -> None:
    """An impatient supervisor sends SIGINT, then SIGTERM: still one clean close."""
    server = WireServer("lsp", workspace, {**ENV, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    try:
        run_turn(server)
        server.proc.send_signal(signal.SIGINT)
        os.kill(server.proc.pid, signal.SIGTERM)
        assert server.proc.wait(30) == 0, server.tail()
        assert_closed(workspace / ".victor" / "victor.db", flushed=True)
    finally:
        if server.alive:
            server.kill()


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def start_slow_turn(server: WireServer) -> str:
    """Start a turn that streams for ten seconds; its session id."""
    if server.face == "lsp":
        server.start_request("victor/chat", {"message": "go", "sessionId": "mid"})
        return "mid"
    if server.face == "mcp":
        server.start_request("tools/call", {"name": "chat", "arguments": {
            "message": "go", "session_id": "mid"}, "_meta": {"progressToken": "p"}})
        return "mid"
    session: str = server.call("session/new", {"cwd": str(server.workspace),
                                               "mcpServers": []})["sessionId"]
    server.start_request("session/prompt", {"sessionId": session, "prompt": [
        {"type": "text", "text": "go"}]})
    return session


def is_delta(face: str, message: dict[str, Any]) -> bool:
    """A streamed piece of the answer (ACP sends other session updates too)."""
    if face == "acp":
        update = (message.get("params") or {}).get("update") or {}
        return message.get("method") == "session/update" and \
            update.get("sessionUpdate") == "agent_message_chunk"
    return message.get("method") == {"lsp": "victor/chatDelta",
                                     "mcp": "notifications/progress"}[face]


@pytest.mark.parametrize("face", ["lsp", "mcp", "acp"])
def test_signal_mid_turn_keeps_what_was_said(workspace: Path, tmp_path: Path,
                                             fake: FakeAnthropic, face: str) -> None:
    """SIGINT while the model streams: the turn is cancelled, the user's message and the
    part of the answer already streamed are stored (the answer marked incomplete)."""
    fake.reset()
    fake.queue(slow_text([f"w{i} " for i in range(100)], delay=0.1))
    server = WireServer(face, workspace, {**fake.env(), **ENV, "VICTOR_PROVIDER": "anthropic",
                                          "XDG_CACHE_HOME": str(tmp_path / "cache")})
    try:
        server.initialize()
        session = start_slow_turn(server)
        assert server.wait_for(lambda m: is_delta(face, m), 60), server.tail()
        status, _ = stop(server.proc, "SIGINT")
        assert status == 0, server.tail()
        db = workspace / ".victor" / "victor.db"
        assert_closed(db, flushed=False)
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT role, content, complete FROM messages WHERE "
                                "session_id LIKE ? ORDER BY seq", (f"%{session}",)).fetchall()
        assert rows and rows[0][0] == "user" and "go" in rows[0][1], rows
        partial = [r for r in rows if r[0] == "assistant"]
        assert partial and "w0" in partial[0][1] and not partial[0][2], rows
    finally:
        if server.alive:
            server.kill()
