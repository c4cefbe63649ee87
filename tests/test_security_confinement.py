"""Workspace confinement of the file tools, through the whole agent loop: the model (the fake)
asks for paths that escape the workspace by ``..``, absolute paths, symlinks (to a file, to a
directory, to a device), a FIFO and device files; every call comes back to the model as an
error result, nothing outside is read or written, and the secret next door never reaches the
API. ``bash`` is off by default (refused, even for a harmless command) and, when enabled,
bounded by its allow-list and gated by ACP's permission prompt (a rejection runs nothing)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, text, tool_uses
from rpc_wire import WireServer

SECRET = "TOPSECRET-4f1c9a"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    workspace = tmp_path / "project"
    (workspace / ".victor").mkdir(parents=True)
    (workspace / "ok.txt").write_text("inside and fine\n")
    (workspace / "link_dir").symlink_to(outside)
    (workspace / "link_file").symlink_to(outside / "secret.txt")
    (workspace / "link_dev").symlink_to("/dev/zero")
    os.mkfifo(workspace / "pipe")
    return workspace


ESCAPES = [
    ("read", {"path": "../outside/secret.txt"}),
    ("read", {"path": "src/../../outside/secret.txt"}),
    ("read", {"path": "{outside}/secret.txt"}),
    ("read", {"path": "link_file"}),
    ("read", {"path": "link_dir/secret.txt"}),
    ("read", {"path": "link_dev"}),
    ("read", {"path": "/dev/zero"}),
    ("read", {"path": "pipe"}),
    ("read", {"path": "/etc/passwd"}),
    ("ls", {"path": ".."}),
    ("ls", {"path": "link_dir"}),
    ("search", {"pattern": "TOPSECRET", "path": ".."}),
    ("write", {"path": "../outside/planted.txt", "content": "x"}),
    ("write", {"path": "link_dir/planted.txt", "content": "x"}),
    ("write", {"path": "link_file", "content": "overwritten"}),
    ("edit", {"path": "link_file", "old": "TOPSECRET", "new": "gone"}),
    ("bash", {"command": f"cat ../outside/secret.txt # {SECRET[:3]}"}),
]


def test_every_escape_is_an_error_result(layout: Path, fake: FakeAnthropic) -> None:
    outside = layout.parent / "outside"
    calls = [(name, {k: v.replace("{outside}", str(outside)) if isinstance(v, str) else v
                     for k, v in args.items()}) for name, args in ESCAPES]
    fake.reset()
    fake.queue(tool_uses(*calls), tool_uses(("search", {"pattern": "TOPSECRET"}),
                                            ("read", {"path": "ok.txt"})), text("done"))
    with WireServer("lsp", layout, fake.env()) as server:
        server.initialize()
        result = server.call("victor/chat", {"message": "try to escape", "sessionId": "esc"},
                             timeout=120)
    assert result["content"] == "done"
    outcomes = result["toolCalls"]
    assert [c["name"] for c in outcomes[:len(calls)]] == [n for n, _ in calls]
    refused = [c for c in outcomes[:len(calls)] if not c["isError"]]
    assert refused == [], refused
    first_results = fake.message_requests[1].body["messages"][-1]["content"]
    reasons = [str(b["content"]) for b in first_results if b.get("type") == "tool_result"]
    assert len(reasons) == len(calls)
    assert sum("outside the workspace" in r for r in reasons) >= 10, reasons
    assert any("not a regular file" in r for r in reasons), reasons
    assert any("disabled" in r for r in reasons), reasons
    # the in-workspace search skips the symlink to the secret; the plain read works
    _search, read = outcomes[len(calls):]
    assert not read["isError"]
    sent = json.dumps([r.body for r in fake.message_requests])
    assert SECRET not in sent.replace(f"# {SECRET[:3]}", "")
    assert "inside and fine" in sent
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == f"{SECRET}\n"


def test_bash_allow_list_and_acp_permission(tmp_path: Path, fake: FakeAnthropic) -> None:
    workspace = tmp_path / "project"
    (workspace / ".victor").mkdir(parents=True)
    (workspace / ".victor" / "config.yml").write_text(
        "tools: {bash: {enabled: true, allow: [touch]}}\n")
    fake.reset()
    fake.queue(tool_uses(("bash", {"command": "rm -rf ok"}),
                         ("bash", {"command": "touch $(echo sub)"}),
                         ("bash", {"command": "touch rejected.txt"})), text("ok"))
    with WireServer("acp", workspace, fake.env()) as server:
        server.initialize()
        sid = server.call("session/new", {"cwd": str(workspace), "mcpServers": []})["sessionId"]
        rid = server.start_request("session/prompt", {"sessionId": sid, "prompt": [
            {"type": "text", "text": "run things"}]})
        ask = server.wait_for(lambda m: m.get("method") == "session/request_permission", 60)
        assert ask is not None, server.tail()
        assert "touch rejected.txt" in json.dumps(ask["params"])
        server.send({"jsonrpc": "2.0", "id": ask["id"], "result": {
            "outcome": {"outcome": "selected", "optionId": "reject_once"}}})
        answer = server.response(rid, 60)
        assert answer["result"]["stopReason"] == "end_turn"
        asks = server.notifications("session/request_permission")  # requests carry an id
        assert not asks
        assert len([m for m in server.messages
                    if m.get("method") == "session/request_permission"]) == 1
    results = fake.message_requests[1].body["messages"][-1]["content"]
    texts = [str(b["content"]) for b in results if b.get("type") == "tool_result"]
    assert all(b["is_error"] for b in results if b.get("type") == "tool_result"), results
    assert "'rm' is not in the allow-list" in texts[0], texts
    assert "`$` is shell syntax" in texts[1], texts
    assert "permission denied" in texts[2], texts
    assert not (workspace / "rejected.txt").exists()
    assert not (workspace / "sub").exists()
