"""Secrets never land in an artifact, and the store is private.

The server runs at ``-vv`` with ``--log-file`` holding an API key (``ANTHROPIC_API_KEY``, which
the fake demands, so every request carries it in its ``Authorization`` header) and an auth
token from ``middleware: [{auth: {tokens: ...}}]`` presented by the client. After chats, a
failing request, ``getConfig`` and an analytics summary, every artifact is grepped for both
strings: the log file, stderr, everything the server wrote to stdout, the raw database and its
``-wal``/``-shm`` files, and the analytics events. The database files are 0600 and the
``.victor`` directory the server created is 0700.
"""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

from fake_anthropic import FakeAnthropic, error, text
from rpc_wire import WireServer

API_KEY = "sk-ant-api03-SECRETKEY-q8Z2x7Vw9-abcdef123456"
AUTH_TOKEN = "tok-SECRET-acme-5d2e7b9c"


def test_secrets_are_in_no_artifact(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    workspace.mkdir()
    config = config_dir / "victor.yml"
    config.write_text("middleware:\n  - logging\n"
                      f"  - {{auth: {{tokens: {{\"{AUTH_TOKEN}\": acme}}}}}}\n")
    log_file = tmp_path / "server.log"
    with FakeAnthropic(api_key=API_KEY) as fake:
        fake.queue(text("first answer"), error(500, retry_after=0), error(500, retry_after=0),
                   error(500, retry_after=0))
        env = {"ANTHROPIC_BASE_URL": fake.base_url, "ANTHROPIC_API_KEY": API_KEY}
        server = WireServer("lsp", workspace, env,
                            ["-vv", "--log-file", str(log_file), "--config", str(config)])
        with server:
            server.initialize(authToken=AUTH_TOKEN)
            first = server.call("victor/chat", {"message": "hello", "sessionId": "s1"})
            assert first["sessionId"] == "acme:s1" and first["content"] == "first answer"
            failed = server.request("victor/chat", {"message": "again", "sessionId": "s1"})
            assert failed["error"]["code"] == -32002
            server.call("victor/chat", {"message": "third", "sessionId": "s1"})
            shown = server.call("victor/getConfig", {})
            server.call("victor/analytics/summary", {})
            assert server.close(30) == 0
        sent_keys = {r.api_key for r in fake.message_requests}
        assert sent_keys == {API_KEY}  # the key was really used, so it could have leaked
    assert AUTH_TOKEN not in json.dumps(shown) and API_KEY not in json.dumps(shown)

    db = workspace / ".victor" / "victor.db"
    artifacts = {"log file": log_file.read_bytes(), "stderr": server.stderr_path.read_bytes(),
                 "stdout": json.dumps(server.messages).encode()}
    for path in sorted(db.parent.iterdir()):
        if path.name.startswith("victor.db"):
            artifacts[path.name] = path.read_bytes()
    with sqlite3.connect(db) as conn:
        events = conn.execute("SELECT type, data FROM analytics_events").fetchall()
    artifacts["analytics events"] = json.dumps(events).encode()
    assert len(artifacts["log file"]) > 1000  # -vv really logged the traffic
    assert {t for t, _ in events} >= {"chat_request", "token_usage", "error"}
    for secret in (API_KEY, AUTH_TOKEN, API_KEY[-12:], AUTH_TOKEN[-8:]):
        leaked = [name for name, data in artifacts.items() if secret.encode() in data]
        assert leaked == [], (secret, leaked)


def test_store_and_victor_dir_are_private(tmp_path: Path) -> None:
    workspace = tmp_path / "project"
    workspace.mkdir()
    with WireServer("lsp", workspace, {"VICTOR_PROVIDER": "scripted"}) as server:
        server.initialize()
        server.call("victor/session/create", {"sessionId": "p1"})
        victor_dir = workspace / ".victor"
        files = [p for p in victor_dir.iterdir() if p.name.startswith("victor.db")]
        assert {p.name for p in files} >= {"victor.db", "victor.db-wal"}
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(victor_dir.stat().st_mode) == 0o700
