"""A search cannot freeze the server: the model asks for ``(a+)+$`` over files of ``aaaa...b``
(Python's backtracking ``re`` takes time doubling with each ``a``; a line here has thousands),
through the real server over LSP. The search runs on RE2 in a worker thread: another request
sent while it runs is answered before the search's tool call completes (an ordering, not a
time bound), ``$/cancelRequest`` ends the turn, and a pattern RE2 cannot run (a backreference)
is a clear error result.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, text, tool_use
from rpc_wire import JSON, WireServer

EVIL = "(a+)+$"
FILES = 3000  # enough that walking them outlasts a round trip to the server


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("redos") / "project"
    (root / ".victor").mkdir(parents=True)
    line = "a" * 3000 + "b\n"
    for d in range(FILES // 100):
        (root / f"d{d:02}").mkdir()
        for f in range(100):
            (root / f"d{d:02}" / f"f{f:03}.txt").write_text(line)
    (root / "d00" / "f000.txt").write_text(line + "needle aaa\n")
    return root


def is_search_status(status: str) -> object:
    return lambda m: (m.get("method") == "victor/toolCall" and m["params"]["name"] == "search"
                      and m["params"]["status"] == status)


def position(server: WireServer, message: JSON) -> int:
    return next(i for i, m in enumerate(server.messages) if m is message)


def test_redos_search_leaves_the_server_answering(workspace: Path, fake: FakeAnthropic) -> None:
    fake.reset()
    fake.queue(tool_use("search", {"pattern": EVIL}), text("searched"),
               tool_use("search", {"pattern": EVIL}))
    with WireServer("lsp", workspace, fake.env()) as server:
        server.initialize()
        start = len(server.messages)
        chat = server.start_request("victor/chat", {"message": "find it", "sessionId": "s"})
        assert server.wait_for(is_search_status("running"), 60, start), server.tail()
        listing = server.start_request("victor/session/list", {})
        listed = server.response(listing, 60)
        assert "result" in listed, listed
        done = server.wait_for(is_search_status("completed"), 120, start)
        assert done is not None, server.tail()
        assert position(server, listed) < position(server, done)  # answered during the search
        answer = server.response(chat, 60)
        assert answer["result"]["content"] == "searched"
        output = fake.message_requests[1].body["messages"][-1]["content"][0]["content"]
        assert output == "d00/f000.txt:2: needle aaa"  # every file searched, one line matched

        start = len(server.messages)
        chat = server.start_request("victor/chat", {"message": "again", "sessionId": "c"})
        assert server.wait_for(is_search_status("running"), 60, start), server.tail()
        server.notify("$/cancelRequest", {"id": chat})
        cancelled = server.response(chat, 60)
        assert cancelled["result"]["stopReason"] == "cancelled", cancelled
        stored = server.call("victor/session/get", {"sessionId": "c"})["messages"]
        assert stored[-1]["content"][0]["is_error"] is True

        fake.queue(tool_use("search", {"pattern": r"(a)\1"}), text("explained"))
        answer = server.call("victor/chat", {"message": "backref", "sessionId": "b"}, 60)
        assert answer["content"] == "explained"
        assert answer["toolCalls"][0]["isError"] is True
        refused = fake.message_requests[-1].body["messages"][-1]["content"][0]
        assert refused["is_error"] and "backreferences or lookaround" in refused["content"]
