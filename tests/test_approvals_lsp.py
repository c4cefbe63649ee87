"""Approvals on the LSP face, the model as the attacker: the fake API asks for writes and
commands; the editor (pytest-lsp's client, declaring ``initializationOptions.requestPermission``)
answers ``victor/requestPermission`` from a script.

Covered: allow once runs the call (with the diff shown), reject and a timeout refuse it and the
turn goes on, "always allow" for a bash command keeps its prefix only (across a restart), a
denied command is never asked about, and an editor that did not declare support is never asked:
the call is refused with the config key that would allow it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from fake_anthropic import FakeAnthropic, text, tool_use
from lsp_harness import VictorClient, lsp_server
from server_env import server_env

from victor_server.api_models import plain

CONFIG = """\
tools:
  bash: {enabled: true, allow: [ls, echo, touch, rm]}
  approvals:
    bash: {deny: [rm]}
  approval_timeout: 1
"""
SUPPORTED = {"requestPermission": True}


class Editor:
    """Answers victor/requestPermission from a script; "hang" never answers."""

    def __init__(self, victor: VictorClient) -> None:
        self.answers: list[str] = []
        self.requests: list[dict[str, Any]] = []

        async def answer(params: Any) -> dict[str, Any]:
            self.requests.append(plain(params))
            choice = self.answers.pop(0)
            if choice == "hang":
                await asyncio.sleep(30)
            return {"optionId": choice}

        victor.client.feature("victor/requestPermission")(answer)


def results(fake: FakeAnthropic) -> list[dict[str, Any]]:
    """Every tool_result the model was sent back, in order."""
    seen: dict[str, dict[str, Any]] = {}
    for request in fake.message_requests:
        for message in request.body["messages"]:
            if isinstance(message["content"], list):
                for block in message["content"]:
                    if block.get("type") == "tool_result":
                        seen[block["tool_use_id"]] = block
    return list(seen.values())


def configured(workspace: Path) -> Path:
    (workspace / ".victor" / "config.yml").write_text(CONFIG)
    (workspace / "notes.txt").write_text("old line\n")
    return workspace


async def test_ask_allow_once_reject_and_timeout(workspace: Path, fake: FakeAnthropic) -> None:
    configured(workspace)
    async with lsp_server(workspace, fake.env(), init_options=SUPPORTED) as victor:
        editor = Editor(victor)
        editor.answers = ["allow_once"]
        fake.queue(tool_use("edit", {"path": "notes.txt", "old": "old line", "new": "new line"}),
                   text("edited"))
        first = await victor.request("victor/chat", {"message": "edit notes"})
        assert first["content"] == "edited"
        assert (workspace / "notes.txt").read_text() == "new line\n"
        asked = editor.requests[0]
        assert asked["tool"] == "edit" and asked["title"] == "edit notes.txt"
        assert "-old line\n+new line\n" in asked["diff"]
        assert [o["optionId"] for o in asked["options"]] == ["allow_once", "allow_always",
                                                            "reject"]
        assert asked["rule"] == "tools.approvals.edit is not set; ask is the default for edit"
        assert asked["timeoutMs"] == 1000
        statuses = [t["status"] for t in victor.tool_calls]
        assert statuses == ["pending", "running", "completed"]

        editor.answers = ["reject", "hang"]
        fake.queue(tool_use("write", {"path": "notes.txt", "content": "pwned\n"}),
                   tool_use("bash", {"command": "touch owned.txt"}),
                   text("the user said no twice"))
        second = await victor.request("victor/chat", {"message": "overwrite",
                                                      "sessionId": first["sessionId"]})
        assert second["content"] == "the user said no twice"  # the turn went on
        assert (workspace / "notes.txt").read_text() == "new line\n"
        assert not (workspace / "owned.txt").exists()
        refused = results(fake)[-2:]
        assert refused[0]["is_error"] and refused[0]["content"] == "permission denied by the user"
        assert refused[1]["is_error"] and "no answer came within 1 s" in refused[1]["content"]
        assert editor.requests[-1]["command"] == "touch owned.txt"
        assert [c["isError"] for c in second["toolCalls"]] == [True, True]


async def test_always_allow_keeps_the_prefix_only(workspace: Path, fake: FakeAnthropic) -> None:
    configured(workspace)
    (workspace / "src").mkdir()
    async with lsp_server(workspace, fake.env(), init_options=SUPPORTED) as victor:
        editor = Editor(victor)
        editor.answers = ["allow_always"]
        fake.queue(tool_use("bash", {"command": "ls -a"}), text("listed"))
        await victor.request("victor/chat", {"message": "list", "sessionId": "s1"})
        assert editor.requests[0]["remember"] == \
            "bash commands starting with `ls` in this workspace"
    async with lsp_server(workspace, fake.env(), init_options=SUPPORTED) as victor:
        editor = Editor(victor)  # a fresh process: the answer came from the store
        editor.answers = ["reject"]
        fake.queue(tool_use("bash", {"command": "ls src"}),
                   tool_use("bash", {"command": "touch said.txt"}),
                   tool_use("bash", {"command": "rm -rf src"}), text("done"))
        await victor.request("victor/chat", {"message": "more", "sessionId": "s1"})
        assert [r["command"] for r in editor.requests] == ["touch said.txt"]
        listed, echoed, removed = results(fake)[-3:]
        assert not listed["is_error"]
        assert echoed["is_error"] and not (workspace / "said.txt").exists()
        assert removed["is_error"] and (workspace / "src").is_dir()
        assert 'denied by config (tools.approvals.bash.deny: "rm")' in removed["content"]

    # the user revokes it from the command line; the next ls is asked about again
    listed_rows = json.loads(cli(workspace, "permissions", "list", "--json").stdout)
    assert [(r["tool"], r["prefix"], r["tenant"], r["face"]) for r in listed_rows] == [
        ("bash", "ls", "", "lsp")]
    revoked = cli(workspace, "permissions", "revoke", str(listed_rows[0]["id"]))
    assert revoked.returncode == 0 and revoked.stdout == "revoked 1\n"
    async with lsp_server(workspace, fake.env(), init_options=SUPPORTED) as victor:
        editor = Editor(victor)
        editor.answers = ["reject"]
        fake.queue(tool_use("bash", {"command": "ls src"}), text("asked again"))
        await victor.request("victor/chat", {"message": "again", "sessionId": "s1"})
        assert [r["command"] for r in editor.requests] == ["ls src"]


def cli(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "victor_server", "--workspace", str(workspace),
                           *args], capture_output=True, text=True, env=server_env(),
                          timeout=120, check=False)


async def test_editor_without_support_is_never_asked(workspace: Path,
                                                     fake: FakeAnthropic) -> None:
    configured(workspace)
    async with lsp_server(workspace, fake.env()) as victor:
        editor = Editor(victor)
        fake.queue(tool_use("write", {"path": "notes.txt", "content": "pwned\n"}),
                   tool_use("read", {"path": "notes.txt"}), text("could only read"))
        answer = await victor.request("victor/chat", {"message": "overwrite"})
        assert answer["content"] == "could only read" and editor.requests == []
        written, read = results(fake)[-2:]
        assert written["is_error"] and "initializationOptions.requestPermission" in \
            written["content"]
        assert "tools.approvals.write: allow" in written["content"]
        assert not read["is_error"] and "old line" in json.dumps(read["content"])
        assert (workspace / "notes.txt").read_text() == "old line\n"
