"""Load: 50 sessions streaming at once on one process, and 4 processes sharing one store.

Every answer must arrive complete, every delta must go to its own session, and the store must
count exactly what was done: one ``chat_request`` and one ``token_usage`` event per turn, two
stored messages per turn, no ``error`` events, ``PRAGMA integrity_check`` ok. Four processes
writing one SQLite file at once is what WAL and the busy timeout are for: none may see
``database is locked`` (-32005).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from fake_anthropic import FakeAnthropic, Reply, last_user_text, slow_text
from rpc_wire import WireServer


def streamed_echo(body: dict[str, Any]) -> Reply:
    """Echo the last user text back in four slow deltas, so turns overlap."""
    said = last_user_text(body)
    return slow_text(["echo ", "of ", said, " done"], delay=0.02)


def workspace_at(root: Path) -> Path:
    workspace = root / "project"
    (workspace / ".victor").mkdir(parents=True)
    return workspace


def store_counts(db: Path) -> tuple[dict[str, int], int]:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        events = dict(conn.execute("SELECT type, COUNT(*) FROM analytics_events GROUP BY type"))
        messages = conn.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    return events, messages


def run_chats(server: WireServer, prefix: str, count: int) -> list[dict[str, Any]]:
    """Start ``count`` chats at once on ``server`` and collect their answers."""
    ids = [server.start_request("victor/chat", {"message": f"{prefix}-{i}",
                                                "sessionId": f"{prefix}-{i}"})
           for i in range(count)]
    return [server.response(rid, 120) for rid in ids]


def test_fifty_sessions_streaming_at_once(tmp_path: Path) -> None:
    workspace = workspace_at(tmp_path)
    with FakeAnthropic(default_responder=streamed_echo) as fake, \
            WireServer("lsp", workspace, fake.env()) as server:
        server.initialize()
        answers = run_chats(server, "load", 50)
        errors = [a for a in answers if "error" in a]
        assert errors == [], errors[:3]
        deltas: dict[str, str] = {}
        for note in server.notifications("victor/chatDelta"):
            sid = note["params"]["sessionId"]
            deltas[sid] = deltas.get(sid, "") + note["params"]["text"]
        for i, answer in enumerate(answers):
            result = answer["result"]
            assert result["sessionId"] == f"load-{i}"
            assert result["content"] == f"echo of load-{i} done"
            assert deltas[f"load-{i}"] == result["content"]
        summary = server.call("victor/analytics/summary", {})
        assert summary["events"]["chat_request"] == 50
        assert summary["events"]["token_usage"] == 50
        assert "error" not in summary["events"]
        assert len(fake.message_requests) == 50
    events, messages = store_counts(workspace / ".victor" / "victor.db")
    assert events["chat_request"] == 50 and events["token_usage"] == 50
    assert messages == 100


def test_four_processes_share_one_store(tmp_path: Path) -> None:
    workspace = workspace_at(tmp_path)
    rounds, per_round = 2, 6
    with FakeAnthropic(default_responder=streamed_echo) as fake:
        servers = [WireServer("lsp", workspace, fake.env()) for _ in range(4)]
        try:
            for server in servers:
                server.initialize()
            results: dict[int, list[dict[str, Any]]] = {}

            def drive(n: int) -> None:
                results[n] = [answer for r in range(rounds) for answer in
                              run_chats(servers[n], f"p{n}r{r}", per_round)]

            threads = [threading.Thread(target=drive, args=(n,)) for n in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(300)
            answers = [a for n in range(4) for a in results[n]]
            errors = [a for a in answers if "error" in a]
            assert errors == [], errors[:3]
            assert len(answers) == 4 * rounds * per_round
            for server in servers:
                assert server.close(30) == 0, server.tail()
        finally:
            for server in servers:
                server.__exit__()
    turns = 4 * rounds * per_round
    events, messages = store_counts(workspace / ".victor" / "victor.db")
    assert events["chat_request"] == turns and events["token_usage"] == turns, events
    assert events["session_start"] == turns
    assert "error" not in events
    assert messages == 2 * turns
