"""Provider faults through the real server and the real anthropic SDK: 429/529 with
retry-after, 500, a reply that hangs past the configured timeout, connection refused, and a
stream cut mid-way. Retries are bounded (``anthropic: {max_retries: 2}``), then the chat
answers -32002 with a reason; a cut stream, or one that ends cleanly before its ``message_stop``,
keeps the partial answer, marked incomplete, and the session's next turn is valid for the API
(the fake rejects a broken history with 400)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_anthropic import (
    Block,
    FakeAnthropic,
    MessageReply,
    cut_stream,
    ended_early,
    error,
    slow_text,
    text,
)
from rpc_wire import WireServer

CONFIG = "anthropic: {timeout: 1.5, max_retries: 2}\n"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture(scope="module")
def lsp(fake: FakeAnthropic, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WireServer]:
    workspace = tmp_path_factory.mktemp("faults") / "project"
    (workspace / ".victor").mkdir(parents=True)
    (workspace / ".victor" / "config.yml").write_text(CONFIG)
    with WireServer("lsp", workspace, fake.env()) as server:
        server.initialize()
        yield server


def chat(server: WireServer, session: str, message: str) -> dict:
    return server.request("victor/chat", {"message": message, "sessionId": session}, 90)


@pytest.mark.parametrize("status", [429, 529, 500])
def test_retries_are_bounded_then_32002(lsp: WireServer, fake: FakeAnthropic,
                                        status: int) -> None:
    before = len(fake.message_requests)
    fake.queue(*[error(status, message="try later", retry_after=0.1)] * 3)
    answer = chat(lsp, f"status-{status}", "hello")
    assert answer["error"]["code"] == -32002, answer
    assert answer["error"]["data"]["provider"] == "anthropic"
    assert str(status) in answer["error"]["data"]["reason"]
    assert len(fake.message_requests) - before == 3  # the first try and max_retries=2
    assert fake.pending == 0
    follow = chat(lsp, f"status-{status}", "again")
    # the unanswered "hello" stays in the history, merged into this user turn
    assert follow["result"]["content"] == "echo: hello\nagain"


def test_retry_after_then_success(lsp: WireServer, fake: FakeAnthropic) -> None:
    before = len(fake.message_requests)
    fake.queue(error(429, retry_after=0.5), error(529, retry_after=0.2), text("made it"))
    answer = chat(lsp, "retry-then-ok", "hello")
    assert answer["result"]["content"] == "made it"
    assert len(fake.message_requests) - before == 3


def test_a_reply_that_hangs_times_out(lsp: WireServer, fake: FakeAnthropic) -> None:
    fake.queue(slow_text(["late"], delay=6))  # longer than the configured 1.5 s timeout
    answer = chat(lsp, "hang", "are you there?")
    assert answer["error"]["code"] == -32002, answer
    assert "timeout" in answer["error"]["data"]["reason"].lower()
    follow = chat(lsp, "hang", "again")
    assert follow["result"]["content"] == "echo: are you there?\nagain"


def test_cut_stream_keeps_partial_marked_incomplete(lsp: WireServer, fake: FakeAnthropic) -> None:
    fake.queue(cut_stream("the first half of an answer"))
    answer = chat(lsp, "cut", "tell me everything")
    assert answer["error"]["code"] == -32002, answer
    assert "broke off" in answer["error"]["data"]["reason"]
    stored = lsp.call("victor/session/get", {"sessionId": "cut"})["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[0]["content"] == "tell me everything"
    partial = stored[1]
    assert partial["complete"] is False
    assert "the first half" in str(partial["content"])
    follow = chat(lsp, "cut", "go on")
    assert follow["result"]["content"] == "echo: go on"  # the fake validated the history
    summary = lsp.call("victor/analytics/summary", {"sessionId": "cut"})
    assert summary["events"]["error"] == 1


def test_stream_ended_before_its_end_event_is_32002_not_end_turn(
        lsp: WireServer, fake: FakeAnthropic) -> None:
    fake.queue(ended_early("half an answer, then silence"))
    answer = chat(lsp, "early", "tell me everything")
    assert answer["error"]["code"] == -32002, answer
    assert answer["error"]["data"]["reason"] == "stream ended before its end event"
    stored = lsp.call("victor/session/get", {"sessionId": "early"})["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["complete"] is False
    assert "half an answer" in str(stored[1]["content"])
    follow = chat(lsp, "early", "go on")
    assert follow["result"]["content"] == "echo: go on"


def test_a_tool_call_in_an_unfinished_stream_never_runs(lsp: WireServer,
                                                       fake: FakeAnthropic) -> None:
    planted = lsp.workspace / "planted.txt"
    fake.queue(MessageReply((Block("tool_use", name="write",
                                   input={"path": "planted.txt", "content": "x"}),),
                            stop_reason="tool_use", end_early=True))
    answer = chat(lsp, "early-tool", "write it")
    assert answer["error"]["code"] == -32002, answer
    assert not planted.exists()
    follow = chat(lsp, "early-tool", "again")
    assert "result" in follow, follow


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


def test_connection_refused(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    (workspace / ".victor").mkdir(parents=True)
    (workspace / ".victor" / "config.yml").write_text(
        "anthropic: {timeout: 1.5, max_retries: 1}\n")
    env = {"ANTHROPIC_BASE_URL": f"http://127.0.0.1:{closed_port()}",
           "ANTHROPIC_API_KEY": "test-key"}
    with WireServer("lsp", workspace, env) as server:
        server.initialize()
        answer = chat(server, "refused", "hello")
        assert answer["error"]["code"] == -32002, answer
        assert "connect" in answer["error"]["data"]["reason"].lower()
        stored = server.call("victor/session/get", {"sessionId": "refused"})["messages"]
        assert [m["content"] for m in stored] == ["hello"]  # acknowledged, so kept
        assert server.alive
