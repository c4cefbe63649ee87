"""The command line: one streamed turn, sessions, analytics, bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fake_anthropic import FakeAnthropic, text
from lsp_harness import server_env


def run(workspace: Path, *args: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "victor_server", "--workspace", str(workspace),
                           *args], capture_output=True, text=True, env=server_env(env),
                          timeout=120, check=False)


def test_chat_sessions_and_analytics(workspace: Path, fake: FakeAnthropic) -> None:
    fake.queue(text("Streaming to the terminal works.", output_tokens=9))
    chat = run(workspace, "chat", "hello", "cli", env=fake.env())
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.strip() == "Streaming to the terminal works."
    assert "session" in chat.stderr
    listed = json.loads(run(workspace, "sessions", "list", "--json").stdout)
    sid = listed["sessions"][0]["sessionId"]
    shown = run(workspace, "sessions", "show", sid)
    assert "hello cli" in shown.stdout and "Streaming to the terminal works." in shown.stdout
    exported = json.loads(run(workspace, "sessions", "export", sid).stdout)
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant"]
    summary = json.loads(run(workspace, "analytics", "summary", "--json").stdout)
    assert summary["tokens"]["output"] == 9
    assert summary["tokens"]["input"] == fake.total_usage()[0]
    assert run(workspace, "sessions", "delete", sid).returncode == 0
    missing = run(workspace, "sessions", "show", sid)
    assert missing.returncode == 1 and "-32001" in missing.stderr


def test_bad_arguments_exit_2_with_one_line(workspace: Path) -> None:
    bad = run(workspace, "frobnicate")
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    assert run(workspace, "sessions", "show").returncode == 2
    version = subprocess.run([sys.executable, "-m", "victor_server", "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.startswith("victor-server ")


def test_no_key_names_the_variable(workspace: Path) -> None:
    result = run(workspace, "chat", "hi")
    assert result.returncode == 1
    assert "-32002" in result.stderr and "ANTHROPIC_API_KEY" in result.stderr
    assert result.stdout == ""
