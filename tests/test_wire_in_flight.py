"""``wire.max_in_flight``: a face reads no further request while that many are unanswered.

With the limit at 2 and two slow turns running (the fake model streams each for seconds), a
quick third request is not read until a turn ends, so its answer comes after the first turn's:
an ordering, not a timing. On MCP a ``notifications/cancelled`` frees its request's slot (the
SDK never answers a cancelled request, so a slot kept for it would shrink the connection for
good): after a cancel and a finished turn, two slots are free again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, slow_text
from rpc_wire import WireServer

QUICK = {"lsp": ("victor/session/list", {}), "mcp": ("ping", None), "acp": ("session/list", {})}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def slow_turns(fake: FakeAnthropic, count: int, seconds: float = 3.0) -> None:
    fake.reset()
    fake.queue(*[slow_text([f"part{i} " for i in range(15)], delay=seconds / 15)
                 for _ in range(count)])


def start_turn(server: WireServer, session: str) -> int:
    if server.face == "lsp":
        return server.start_request("victor/chat", {"message": "go", "sessionId": session})
    if server.face == "mcp":
        return server.start_request("tools/call", {"name": "chat", "arguments": {
            "message": "go", "session_id": session}})
    return server.start_request("session/prompt", {"sessionId": session, "prompt": [
        {"type": "text", "text": "go"}]})


def sessions(server: WireServer, count: int) -> list[str]:
    if server.face != "acp":
        return [f"s{i}" for i in range(count)]
    return [server.call("session/new", {"cwd": str(server.workspace), "mcpServers": []})[
        "sessionId"] for _ in range(count)]


def position(server: WireServer, rid: int) -> int:
    server.response(rid, 60)
    return next(i for i, m in enumerate(server.messages)
                if m.get("id") == rid and "method" not in m)


def serve(face: str, tmp_path: Path, fake: FakeAnthropic) -> WireServer:
    workspace = tmp_path / "project"
    (workspace / ".victor").mkdir(parents=True)
    env: dict[str, Any] = {**fake.env(), "VICTOR_WIRE__MAX_IN_FLIGHT": "2",
                           "XDG_CACHE_HOME": str(tmp_path / "cache")}
    server = WireServer(face, workspace, env)
    server.initialize()
    return server


@pytest.mark.parametrize("face", ["lsp", "mcp", "acp"])
def test_third_request_waits_for_a_free_slot(tmp_path: Path, fake: FakeAnthropic,
                                             face: str) -> None:
    with serve(face, tmp_path, fake) as server:
        first, second = sessions(server, 2)
        slow_turns(fake, 2)
        turns = [start_turn(server, first), start_turn(server, second)]
        fake.wait_until(lambda: len(fake.message_requests) == 2, 60)  # both turns running
        quick = server.start_request(*QUICK[face])
        assert position(server, quick) > min(position(server, t) for t in turns), \
            server.messages[-5:]
        for turn in turns:
            assert "result" in server.response(turn, 60)


def test_mcp_cancel_frees_its_slot(tmp_path: Path, fake: FakeAnthropic) -> None:
    with serve("mcp", tmp_path, fake) as server:
        slow_turns(fake, 4, seconds=4.0)
        cancelled, finished = start_turn(server, "a"), start_turn(server, "b")
        fake.wait_until(lambda: len(fake.message_requests) == 2, 60)
        server.notify("notifications/cancelled", {"requestId": cancelled})
        assert "result" in server.response(finished, 60)
        # both slots free again: a turn and a ping run side by side, the ping answered first
        turn = start_turn(server, "c")
        fake.wait_until(lambda: len(fake.message_requests) == 3, 60)
        ping = server.start_request("ping")
        assert position(server, ping) < position(server, turn)
