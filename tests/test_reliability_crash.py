"""Crash safety: ``kill -9`` at random points of streaming turns, then restart on the same store.

Each run starts ``victor-server lsp`` on one shared store, first proves the previous run's
killed session still works (its next turn goes through the fake, which answers 400 to a
history the API would reject: roles, tool_use without its tool_result), then starts a turn and
kills the process at a random point, each kind in turn: after a random number of
``victor/chatDelta``s of a slow stream, while a ``bash`` tool (``sleep 30``) is running, or
right after the request was sent. After every kill the raw database passes
``PRAGMA integrity_check``, every acknowledged user message (its request was sent and a
delta came back) is stored, and no assistant message of
the killed turn claims to be complete. ``VICTOR_SLOW_TESTS=1`` runs 40 kills instead of 8;
``VICTOR_CRASH_SEED`` picks the random seed.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, slow_text, text, tool_use
from rpc_wire import WireServer

RUNS = 40 if os.environ.get("VICTOR_SLOW_TESTS") else 8
SEED = int(os.environ.get("VICTOR_CRASH_SEED", "20261121"))
CONFIG = ("tools: {bash: {enabled: true, allow: [sleep]}, "
          "approvals: {bash: {allow: [sleep]}}}\n")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


def store_rows(db: Path, session: str) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages'").fetchone():
            return []  # killed before the first migration committed: nothing was stored yet
        return [(r[0], r[1], r[2]) for r in conn.execute(
            "SELECT role, content, complete FROM messages WHERE session_id = ? ORDER BY seq",
            (session,))]


def kill_during_stream(server: WireServer, fake: FakeAnthropic, session: str, message: str,
                       deltas: int) -> bool:
    fake.queue(slow_text([f"word{i} " for i in range(40)], delay=0.05))
    start = len(server.messages)
    server.start_request("victor/chat", {"message": message, "sessionId": session})
    seen = server.wait_for(lambda m: m.get("method") == "victor/chatDelta"
                           and _count_deltas(server, start) >= deltas, 60, start)
    server.kill()
    return seen is not None


def _count_deltas(server: WireServer, start: int) -> int:
    return sum(1 for m in server.messages[start:] if m.get("method") == "victor/chatDelta")


def kill_during_tool(server: WireServer, fake: FakeAnthropic, session: str,
                     message: str) -> bool:
    fake.queue(tool_use("bash", {"command": "sleep 30"}, text_before="Let me wait."),
               text("done waiting"))
    start = len(server.messages)
    server.start_request("victor/chat", {"message": message, "sessionId": session})
    running = server.wait_for(lambda m: m.get("method") == "victor/toolCall"
                              and m["params"]["status"] == "running", 60, start)
    server.kill()
    return running is not None


def kill_at_once(server: WireServer, fake: FakeAnthropic, session: str, message: str) -> bool:
    fake.queue(slow_text(["never ", "finished"], delay=0.2))
    server.start_request("victor/chat", {"message": message, "sessionId": session})
    server.kill()
    return False  # not acknowledged: it may or may not have been stored


def test_kill_9_at_random_points(fake: FakeAnthropic, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    workspace = tmp_path / "project"
    (workspace / ".victor").mkdir(parents=True)
    (workspace / ".victor" / "config.yml").write_text(CONFIG)
    db = workspace / ".victor" / "victor.db"
    acknowledged: dict[str, list[str]] = {}
    previous: str | None = None
    for run in range(RUNS + 1):
        with WireServer("lsp", workspace, fake.env()) as server:
            server.initialize()
            if previous is not None:  # the session killed last run takes its next turn
                fake.reset()
                answer = server.request("victor/chat", {"message": f"resume {run}",
                                                        "sessionId": previous}, 60)
                assert "result" in answer, (run, answer, server.tail())
                assert answer["result"]["content"].endswith(f"resume {run}")
                stored = server.call("victor/session/get", {"sessionId": previous})
                texts = json.dumps([m["content"] for m in stored["messages"]])
                for message in acknowledged.get(previous, []):
                    assert message in texts
            if run == RUNS:
                break
            session = f"crash-{run}"
            message = f"message {run} {rng.random():.6f}"
            kind = ["stream", "tool", "stream", "at_once"][run % 4]  # every kind, every time
            fake.reset()
            if kind == "stream":
                acked = kill_during_stream(server, fake, session, message, rng.randint(1, 12))
            elif kind == "tool":
                acked = kill_during_tool(server, fake, session, message)
            else:
                acked = kill_at_once(server, fake, session, message)
            assert not server.alive
        rows = store_rows(db, session)
        if acked:
            acknowledged[session] = [message]
            assert rows and rows[0][0] == "user" and message in rows[0][1], (kind, rows)
        assistant = [r for r in rows if r[0] == "assistant"]
        if kind == "stream":
            # the stream never finished: nothing it wrote may look like a complete answer
            assert all(not complete for _, _, complete in assistant), (kind, rows)
        if rows:
            previous = session
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        complete_partials = conn.execute(
            "SELECT COUNT(*) FROM messages WHERE role = 'assistant' AND complete = 1 "
            "AND content LIKE '%word0%' AND content NOT LIKE '%word39%'").fetchone()[0]
        assert complete_partials == 0
