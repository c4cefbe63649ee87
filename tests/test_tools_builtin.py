"""Built-in tools through ToolCoordinator: happy paths, errors, confinement, permission, bash."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from victor_server.tools.base import ToolContext, ToolError, ToolResult, ToolSpec
from victor_server.tools.coordinator import PERMISSION_DENIED, ToolCoordinator


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.txt").write_text("top secret\n")
    return secret


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 'hello'\n")
    (root / "notes.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    return root


def make(ws: Path, options: dict[str, Any] | None = None) -> ToolCoordinator:
    return ToolCoordinator(ws, options, load_plugins=False)


def snapshot(root: Path) -> dict[Path, bytes]:
    """Every regular file under root with its bytes (symlinks, FIFOs left out)."""
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


async def allow_once(request: Any) -> str:
    """A user who approves every call once: what these tests are not about."""
    return "allow_once"


def ctx_for(ws: Path, **kw: Any) -> ToolContext:
    kw.setdefault("ask_permission", allow_once)
    return ToolContext(workspace=ws, session_id="s1", **kw)


async def run(ws: Path, name: str, tool_input: Any, options: dict[str, Any] | None = None,
              **ctx_kw: Any) -> ToolResult:
    return await make(ws, options).execute(name, tool_input, ctx_for(ws, **ctx_kw))


# --- specs -----------------------------------------------------------------------------------

async def test_builtin_specs_carry_schema_tier_and_domain(ws: Path) -> None:
    specs = {s.name: s for s in await make(ws).specs()}
    assert set(specs) == {"read", "write", "edit", "ls", "search", "plan"}  # bash is off by default
    assert specs["read"].input_schema["required"] == ["path"]
    assert specs["edit"].input_schema["required"] == ["path", "old", "new"]
    assert {s.cost_tier for s in specs.values()} <= {"free", "low", "medium", "high"}
    assert all(s.domain == "coding" and s.description for s in specs.values())
    assert [n for n, s in specs.items() if s.writes] == ["write", "edit"]


async def test_disabled_tools_are_neither_offered_nor_run(ws: Path) -> None:
    coordinator = make(ws, {"disabled": ["write"]})
    assert "write" not in {s.name for s in await coordinator.specs()}
    result = await coordinator.execute("write", {"path": "x", "content": "y"}, ctx_for(ws))
    assert result.is_error and "disabled" in result.content
    assert not (ws / "x").exists()


async def test_unknown_tool_is_an_error_result(ws: Path) -> None:
    result = await run(ws, "teleport", {})
    assert result.is_error and result.content == "unknown tool: teleport"


# --- read ------------------------------------------------------------------------------------

async def test_read_whole_file(ws: Path) -> None:
    result = await run(ws, "read", {"path": "src/app.py"})
    assert not result.is_error
    assert result.content == "def main():\n    return 'hello'\n"
    assert result.data["total_lines"] == 2


async def test_read_offset_and_limit_with_continuation_hint(ws: Path) -> None:
    result = await run(ws, "read", {"path": "notes.txt", "offset": 3, "limit": 2})
    assert result.content.startswith("line 3\nline 4\n")
    assert "offset=5" in result.content
    assert (result.data["first_line"], result.data["last_line"]) == (3, 4)


async def test_read_offset_past_end(ws: Path) -> None:
    result = await run(ws, "read", {"path": "notes.txt", "offset": 99})
    assert result.is_error and "past the end" in result.content


async def test_read_absolute_path_inside_workspace(ws: Path) -> None:
    result = await run(ws, "read", {"path": str(ws / "src" / "app.py")})
    assert not result.is_error and "hello" in result.content


@pytest.mark.parametrize("path, message", [
    ("missing.txt", "no such file"),
    ("src", "is a directory"),
])
async def test_read_errors(ws: Path, path: str, message: str) -> None:
    result = await run(ws, "read", {"path": path})
    assert result.is_error and message in result.content


async def test_read_binary_file_refused(ws: Path) -> None:
    (ws / "blob.bin").write_bytes(b"\x00\x01\x02binary")
    result = await run(ws, "read", {"path": "blob.bin"})
    assert result.is_error and "binary" in result.content


# --- write and edit --------------------------------------------------------------------------

async def test_write_creates_parents_and_reports_diff(ws: Path) -> None:
    result = await run(ws, "write", {"path": "new/dir/file.txt", "content": "hi\n"})
    assert not result.is_error and result.content.startswith("created new/dir/file.txt")
    assert (ws / "new" / "dir" / "file.txt").read_text() == "hi\n"
    assert result.data["old_text"] is None and "+hi" in result.data["diff"]


async def test_write_overwrites_with_old_text(ws: Path) -> None:
    result = await run(ws, "write", {"path": "notes.txt", "content": "short\n"})
    assert result.content.startswith("wrote notes.txt")
    assert result.data["old_text"].startswith("line 1")
    assert (ws / "notes.txt").read_text() == "short\n"


async def test_write_onto_a_directory_refused(ws: Path) -> None:
    result = await run(ws, "write", {"path": "src", "content": "x"})
    assert result.is_error and "is a directory" in result.content


async def test_edit_replaces_once_and_returns_unified_diff(ws: Path) -> None:
    result = await run(ws, "edit", {"path": "src/app.py", "old": "'hello'", "new": "'bye'"})
    assert not result.is_error
    assert (ws / "src" / "app.py").read_text() == "def main():\n    return 'bye'\n"
    diff = result.data["diff"]
    assert diff.startswith("--- a/src/app.py\n+++ b/src/app.py\n")
    assert "-    return 'hello'\n+    return 'bye'\n" in diff
    assert diff in result.content


async def test_edit_keeps_crlf_line_endings(ws: Path) -> None:
    (ws / "win.txt").write_bytes(b"one\r\ntwo\r\n")
    result = await run(ws, "edit", {"path": "win.txt", "old": "two", "new": "three"})
    assert not result.is_error
    assert (ws / "win.txt").read_bytes() == b"one\r\nthree\r\n"


@pytest.mark.parametrize("old, message", [
    ("nowhere", "not found"),
    ("line", "occurs 10 times"),
])
async def test_edit_needs_exactly_one_match(ws: Path, old: str, message: str) -> None:
    before = (ws / "notes.txt").read_text()
    result = await run(ws, "edit", {"path": "notes.txt", "old": old, "new": "x"})
    assert result.is_error and message in result.content
    assert (ws / "notes.txt").read_text() == before


async def test_edit_refuses_non_utf8_file(ws: Path) -> None:
    (ws / "latin.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    result = await run(ws, "edit", {"path": "latin.txt", "old": "caf", "new": "tea"})
    assert result.is_error and "UTF-8" in result.content
    assert (ws / "latin.txt").read_bytes() == b"caf\xe9\n"


# --- ls --------------------------------------------------------------------------------------

async def test_ls_root_by_default_marks_directories(ws: Path) -> None:
    result = await run(ws, "ls", {})
    assert result.content.splitlines() == ["notes.txt", "src/"]


async def test_ls_subdirectory_and_empty(ws: Path) -> None:
    (ws / "empty").mkdir()
    assert (await run(ws, "ls", {"path": "src"})).content == "app.py"
    assert (await run(ws, "ls", {"path": "empty"})).content == "(empty directory)"


async def test_ls_on_a_file_is_an_error(ws: Path) -> None:
    result = await run(ws, "ls", {"path": "notes.txt"})
    assert result.is_error and "not a directory" in result.content


# --- confinement -----------------------------------------------------------------------------

def _escape_inputs(ws: Path, outside: Path) -> list[tuple[str, str]]:
    (ws / "link_out").symlink_to(outside)
    (ws / "file_out").symlink_to(outside / "secret.txt")
    (ws / "loop_a").symlink_to(ws / "loop_b")
    (ws / "loop_b").symlink_to(ws / "loop_a")
    (ws / "zero").symlink_to("/dev/zero")
    os.mkfifo(ws / "pipe")
    return [
        ("../outside/secret.txt", "outside the workspace"),
        ("src/../../outside/secret.txt", "outside the workspace"),
        (str(outside / "secret.txt"), "outside the workspace"),
        ("/etc/passwd", "outside the workspace"),
        ("link_out/secret.txt", "outside the workspace"),
        ("file_out", "outside the workspace"),
        ("loop_a", "cannot resolve path"),
        ("zero", "outside the workspace"),
        ("pipe", "not a regular file"),
    ]


@pytest.mark.parametrize("tool", ["read", "write", "edit", "ls", "search"])
async def test_every_path_escape_is_refused(ws: Path, outside: Path, tool: str) -> None:
    for path, message in _escape_inputs(ws, outside):
        tool_input: dict[str, Any] = {"path": path}
        if tool == "write":
            tool_input["content"] = "pwned"
        elif tool == "edit":
            tool_input.update(old="top secret", new="pwned")
        elif tool == "search":
            tool_input["pattern"] = "secret"
        result = await run(ws, tool, tool_input)
        assert result.is_error, (tool, path, result.content)
        assert message in result.content, (tool, path, result.content)
    assert snapshot(outside) == {outside / "secret.txt": b"top secret\n"}


# --- search ----------------------------------------------------------------------------------

def _gitignored_tree(ws: Path) -> None:
    (ws / ".gitignore").write_text("build/\n*.log\n")
    (ws / "build").mkdir()
    (ws / "build" / "out.py").write_text("needle in build\n")
    (ws / "debug.log").write_text("needle in log\n")
    (ws / "src" / ".gitignore").write_text("generated.py\n!keep.log\n")
    (ws / "src" / "generated.py").write_text("needle generated\n")
    (ws / "src" / "keep.log").write_text("needle kept\n")
    (ws / "src" / "real.py").write_text("x = 1\nneedle = 'found'\n")
    (ws / ".git").mkdir()
    (ws / ".git" / "config").write_text("needle in git\n")
    (ws / "image.bin").write_bytes(b"\x00needle")


async def test_search_respects_gitignore_at_every_level(ws: Path) -> None:
    _gitignored_tree(ws)
    result = await run(ws, "search", {"pattern": "needle"})
    assert result.content.splitlines() == ["src/keep.log:1: needle kept",
                                           "src/real.py:2: needle = 'found'"]
    assert result.data["matches"] == 2


async def test_search_regex_and_subpath(ws: Path) -> None:
    result = await run(ws, "search", {"pattern": r"line \d0", "path": "notes.txt"})
    assert result.content == "notes.txt:10: line 10"
    result = await run(ws, "search", {"pattern": r"def \w+", "path": "src"})
    assert result.content == "src/app.py:1: def main():"


async def test_search_invalid_regex_is_literal(ws: Path) -> None:
    (ws / "call.py").write_text("print(foo(\n")
    result = await run(ws, "search", {"pattern": "foo("})
    assert not result.is_error and result.data["literal"] is True
    assert "call.py:1: print(foo(" in result.content


async def test_search_no_match_is_not_an_error(ws: Path) -> None:
    result = await run(ws, "search", {"pattern": "zzz_absent"})
    assert not result.is_error and result.content.startswith("no matches")


async def test_search_does_not_follow_symlinks_out(ws: Path, outside: Path) -> None:
    (ws / "link_out").symlink_to(outside)
    (ws / "file_out").symlink_to(outside / "secret.txt")
    result = await run(ws, "search", {"pattern": "top secret"})
    assert result.content.startswith("no matches")


# --- input validation ------------------------------------------------------------------------

@pytest.mark.parametrize("tool_input, message", [
    ({}, "'path' is a required property"),
    ({"path": 3}, "at 'path': 3 is not of type 'string'"),
    ({"path": "a", "offset": "x"}, "at 'offset'"),
    ({"path": "a", "offset": 0}, "at 'offset'"),
    ({"path": "a", "bogus": 1}, "bogus"),
    (["path"], "expected a JSON object"),
])
async def test_bad_input_rejected_before_running(ws: Path, tool_input: Any, message: str) -> None:
    result = await run(ws, "read", tool_input)
    assert result.is_error and result.content.startswith("invalid input for read")
    assert message in result.content


# --- permission and client fs ----------------------------------------------------------------

class Asker:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any], str]] = []

    async def __call__(self, request: Any) -> bool:
        self.calls.append((request.tool, request.tool_input, request.tool_use_id))
        return self.answer


@pytest.mark.parametrize("name, tool_input", [
    ("write", {"path": "notes.txt", "content": "gone"}),
    ("write", {"path": "brand_new.txt", "content": "x"}),
    ("edit", {"path": "notes.txt", "old": "line 1\n", "new": ""}),
])
async def test_permission_refused_leaves_disk_untouched(ws: Path, name: str,
                                                        tool_input: dict[str, Any]) -> None:
    asker = Asker(False)
    before = snapshot(ws)
    coordinator = make(ws)
    result = await coordinator.execute(name, tool_input, ctx_for(ws, ask_permission=asker),
                                       tool_use_id="tu_1")
    assert result.is_error and result.content == PERMISSION_DENIED
    assert asker.calls == [(name, tool_input, "tu_1")]
    assert snapshot(ws) == before


async def test_permission_granted_runs_and_reads_never_ask(ws: Path) -> None:
    asker = Asker(True)
    coordinator = make(ws)
    ctx = ctx_for(ws, ask_permission=asker)
    await coordinator.execute("read", {"path": "notes.txt"}, ctx)
    result = await coordinator.execute("write", {"path": "ok.txt", "content": "ok"}, ctx)
    assert not result.is_error and (ws / "ok.txt").read_text() == "ok"
    assert [c[0] for c in asker.calls] == ["write"]


async def test_tool_use_id_may_come_in_context_options(ws: Path) -> None:
    asker = Asker(False)
    ctx = ctx_for(ws, ask_permission=asker, options={"tool_use_id": "toolu_9"})
    await make(ws).execute("write", {"path": "a.txt", "content": "x"}, ctx)
    assert asker.calls[0][2] == "toolu_9"


@pytest.mark.parametrize("name, tool_input, options", [
    ("write", {"path": "../escape.txt", "content": "x"}, None),
    ("edit", {"path": "missing.txt", "old": "a", "new": "b"}, None),
    ("bash", {"command": "rm -rf src"}, {"bash": {"enabled": True, "allow": ["echo"]}}),
])
async def test_calls_that_would_be_refused_do_not_ask(ws: Path, name: str,
                                                      tool_input: dict[str, Any],
                                                      options: dict[str, Any] | None) -> None:
    asker = Asker(True)
    result = await run(ws, name, tool_input, options, ask_permission=asker)
    assert result.is_error and result.content != PERMISSION_DENIED
    assert asker.calls == []


class EditorFs:
    """What ACP's fs/* offers: the editor's view of files, by absolute path."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files
        self.log: list[tuple[str, str]] = []

    async def read_text_file(self, path: str) -> str:
        self.log.append(("read", path))
        if path not in self.files:
            raise FileNotFoundError(path)
        return self.files[path]

    async def write_text_file(self, path: str, content: str) -> None:
        self.log.append(("write", path))
        self.files[path] = content


async def test_client_fs_carries_read_write_edit(ws: Path) -> None:
    app = str((ws / "src" / "app.py").resolve())
    editor = EditorFs({app: "unsaved buffer text\n"})
    coordinator = make(ws)
    ctx = ctx_for(ws, client_fs=editor)
    read = await coordinator.execute("read", {"path": "src/app.py"}, ctx)
    assert read.content == "unsaved buffer text\n"
    edit = await coordinator.execute("edit", {"path": "src/app.py", "old": "unsaved",
                                              "new": "saved"}, ctx)
    assert not edit.is_error and editor.files[app] == "saved buffer text\n"
    write = await coordinator.execute("write", {"path": "fresh.txt", "content": "x"}, ctx)
    assert not write.is_error and write.data["old_text"] is None
    assert editor.files[str((ws / "fresh.txt").resolve())] == "x"
    assert (ws / "src" / "app.py").read_text() == "def main():\n    return 'hello'\n"
    assert not (ws / "fresh.txt").exists()
    missing = await coordinator.execute("read", {"path": "nope.txt"}, ctx)
    assert missing.is_error and "editor could not read" in missing.content


async def test_client_fs_writes_keep_the_protected_path_and_hard_link_rules(
        ws: Path, outside: Path) -> None:
    os.link(outside / "secret.txt", ws / "linked.txt")
    editor = EditorFs({})
    ctx = ctx_for(ws, client_fs=editor)
    coordinator = make(ws)
    linked = await coordinator.execute("write", {"path": "linked.txt", "content": "x"}, ctx)
    assert linked.is_error and "2 hard links" in linked.content
    hook = await coordinator.execute("write", {"path": ".git/hooks/pre-commit",
                                               "content": "x"}, ctx)
    assert hook.is_error and "protected by `.git/`" in hook.content
    assert [op for op, _ in editor.log if op == "write"] == []
    assert (outside / "secret.txt").read_text() == "top secret\n"


@pytest.mark.parametrize("path, rule", [
    (".git/hooks/pre-commit", ".git/"), (".GIT/hooks/pre-commit", ".git/"),
    ("sub/.Victor/config.yml", ".victor/"), ("certs/site.PEM", "*.pem"),
])
async def test_protected_paths_ignore_case(ws: Path, path: str, rule: str) -> None:
    result = await run(ws, "write", {"path": path, "content": "x"},
                       {"protected_paths": ["*.pem"]})
    assert result.is_error and f"is protected by `{rule}`" in result.content, result.content
    assert not (ws / path.split("/")[0]).exists()


async def test_a_store_inside_the_workspace_is_never_read_written_or_listed(ws: Path) -> None:
    data = ws / "data"
    data.mkdir()
    for name in ("app.db", "app.db-wal", "app.db-shm", "notes.txt"):
        (data / name).write_text("STORE-ROW marker\n")
    options = {"store_path": str(data / "app.db")}
    for name in ("app.db", "app.db-wal", "app.db-shm", "app.db-journal"):
        read = await run(ws, "read", {"path": f"data/{name}"}, options)
        assert read.is_error and "is the server's store" in read.content, read.content
        write = await run(ws, "write", {"path": f"data/{name}", "content": "x"}, options)
        assert write.is_error and "is the server's store" in write.content
    listing = await run(ws, "ls", {"path": "data"}, options)
    assert listing.content == "notes.txt"
    found = await run(ws, "search", {"pattern": "STORE-ROW"}, options)
    assert found.content == "data/notes.txt:1: STORE-ROW marker"
    assert (data / "app.db").read_text() == "STORE-ROW marker\n"


async def test_search_worker_stops_at_the_cancel_flag(ws: Path) -> None:
    from victor_server.tools.search_tool import SearchCancelled, _SearchRun, compile_pattern
    from victor_server.tools.workspace_paths import WorkspacePaths

    regex, _ = compile_pattern("line")
    paths = WorkspacePaths(ws)
    search = _SearchRun(paths, regex)
    search.cancelled.set()
    with pytest.raises(SearchCancelled):
        await asyncio.to_thread(search.walk, paths.root)
    assert search.files_searched == 0 and search.matches == []


async def test_search_refuses_what_re2_cannot_run_and_reads_text_literally(ws: Path) -> None:
    backref = await run(ws, "search", {"pattern": r"(l)\1"})
    assert backref.is_error and "backreferences or lookaround" in backref.content
    lookahead = await run(ws, "search", {"pattern": r"line(?= 1)"})
    assert lookahead.is_error and "RE2" in lookahead.content
    literal = await run(ws, "search", {"pattern": "main("})
    assert not literal.is_error and literal.data["literal"] is True
    assert "src/app.py:1: def main():" in literal.content


# --- bash ------------------------------------------------------------------------------------

def bash_options(**overrides: Any) -> dict[str, Any]:
    return {"bash": {"enabled": True, "allow": ["echo", "cat", "git status", "sleep"],
                     "timeout": 30, **overrides}}


async def test_bash_off_by_default(ws: Path) -> None:
    coordinator = make(ws)
    assert "bash" not in {s.name for s in await coordinator.specs()}
    result = await coordinator.execute("bash", {"command": "echo hi"}, ctx_for(ws))
    assert result.is_error and "disabled" in result.content and "enabled: true" in result.content


async def test_bash_runs_allowed_commands_in_the_workspace(ws: Path) -> None:
    coordinator = make(ws, bash_options())
    spec = next(s for s in await coordinator.specs() if s.name == "bash")
    assert spec.writes and spec.cost_tier == "medium"
    assert "without a shell" in spec.description  # the model is told before it tries
    result = await coordinator.execute("bash", {"command": "cat notes.txt"}, ctx_for(ws))
    assert not result.is_error and result.content.endswith("line 9\nline 10\n")
    assert result.data["exit_code"] == 0


async def test_bash_quoted_shell_characters_are_plain_arguments(ws: Path) -> None:
    result = await run(ws, "bash", {"command": """echo "a;b" 'c|d $HOME' x\\&y"""},
                       bash_options())
    assert not result.is_error and result.content == "a;b c|d $HOME x&y\n"


async def test_bash_full_shell_is_an_explicit_opt_in(ws: Path) -> None:
    result = await run(ws, "bash", {"command": "cat notes.txt | cat && echo done"},
                       bash_options(shell=True))
    assert not result.is_error and result.content.endswith("line 10\ndone\n")


@pytest.mark.parametrize("command, message", [
    ("rm -rf src", "'rm' is not in the allow-list"),
    ("echo hi; rm -rf src", "`;` is shell syntax"),
    ("echo hi && (rm -rf src)", "`&` is shell syntax"),
    ("git push", "'git' is not in the allow-list"),
    ("git statuses", "'git' is not in the allow-list"),
    ("echo $(rm -rf src)", "`$` is shell syntax"),
    ("echo `rm -rf src`", "is shell syntax"),
    ('echo "$(rm -rf src)"', "`$` is shell syntax"),
    ("echo hi\nrm -rf src", "a newline is shell syntax"),
    ("PATH=/tmp echo hi", "variable assignment"),
    ("echo pwned > ../escape.txt", "`>` is shell syntax"),
    ("echo 'unbalanced", "cannot parse"),
    ("ls a#b; touch touched", "`#` is shell syntax"),
    ("echo a#b", "`#` is shell syntax"),
    ("cat *.txt", "`*` is shell syntax"),
])
async def test_bash_refuses_what_the_allow_list_does_not_cover(ws: Path, command: str,
                                                               message: str) -> None:
    result = await run(ws, "bash", {"command": command},
                       bash_options(allow=["echo", "cat", "git status", "ls"]))
    assert result.is_error and message in result.content, result.content
    assert (ws / "src" / "app.py").exists()
    assert not (ws.parent / "escape.txt").exists()
    assert not (ws / "touched").exists()


async def test_bash_full_shell_redirects_stay_inside_and_off_protected_paths(ws: Path) -> None:
    result = await run(ws, "bash", {"command": "echo kept > out.txt 2>&1"},
                       bash_options(shell=True))
    assert not result.is_error and (ws / "out.txt").read_text() == "kept\n"
    (ws / ".git" / "hooks").mkdir(parents=True)
    for target, message in [("../escape.txt", "outside the workspace"),
                            (".git/hooks/pre-commit", "protected by `.git/`"),
                            (".victor/config.yml", "protected by `.victor/`")]:
        refused = await run(ws, "bash", {"command": f"echo pwned >> {target}"},
                            bash_options(shell=True))
        assert refused.is_error and message in refused.content, refused.content
    assert not (ws.parent / "escape.txt").exists()
    assert not (ws / ".git" / "hooks" / "pre-commit").exists()


async def test_bash_star_allows_any_program(ws: Path) -> None:
    result = await run(ws, "bash", {"command": "printf '%s' star"}, bash_options(allow=["*"]))
    assert result.content == "star"


async def test_bash_child_environment_is_an_allow_list(ws: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-leak")
    monkeypatch.setenv("VICTOR_STORE__URL", "postgresql://u:pw@db/x")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_leak")
    monkeypatch.setenv("EXTRA_SETTING", "wanted")
    monkeypatch.setenv("LC_ALL", "C")
    result = await run(ws, "bash", {"command": "env"},
                       bash_options(allow=["env"], env=["EXTRA_SETTING", "GITHUB_TOKEN"]))
    assert not result.is_error
    seen = dict(line.split("=", 1) for line in result.content.splitlines() if "=" in line)
    assert seen["EXTRA_SETTING"] == "wanted" and seen["LC_ALL"] == "C" and "PATH" in seen
    assert "leak" not in result.content and "pw@" not in result.content
    assert not {"ANTHROPIC_API_KEY", "VICTOR_STORE__URL", "GITHUB_TOKEN"} & set(seen)


async def test_bash_nonzero_exit_is_an_error_with_output(ws: Path) -> None:
    result = await run(ws, "bash", {"command": "cat missing.txt"}, bash_options())
    assert result.is_error and "No such file" in result.content
    assert result.data["exit_code"] == 1 and "[exit code 1]" in result.content


async def test_bash_missing_program_is_an_error(ws: Path) -> None:
    result = await run(ws, "bash", {"command": "no-such-program-x1"}, bash_options(allow=["*"]))
    assert result.is_error and "cannot run 'no-such-program-x1'" in result.content


async def test_bash_timeout_kills_the_command(ws: Path) -> None:
    result = await run(ws, "bash", {"command": "echo started; sleep 30"},
                       bash_options(timeout=0.5, shell=True))
    assert result.is_error and result.data["timed_out"] is True
    assert result.content.startswith("started\n") and "timed out" in result.content


async def test_bash_timeout_kills_a_command_run_without_a_shell(ws: Path) -> None:
    result = await run(ws, "bash", {"command": "sleep 30"}, bash_options(timeout=0.5))
    assert result.is_error and result.data["timed_out"] is True
    assert result.data["exit_code"] == -9  # SIGKILL to the process group


async def test_bash_output_is_capped(ws: Path) -> None:
    big = ws / "big.txt"
    big.write_text("x" * 50_000)
    result = await run(ws, "bash", {"command": "cat big.txt"}, bash_options(max_output=1000))
    assert result.data["truncated"] is True
    assert result.content.startswith("x" * 1000 + "\n[... output truncated")


async def test_bash_asks_permission(ws: Path) -> None:
    asker = Asker(False)
    result = await run(ws, "bash", {"command": "echo hi > said.txt"}, bash_options(shell=True),
                       ask_permission=asker)
    assert result.content == PERMISSION_DENIED and not (ws / "said.txt").exists()


# --- custom tools and plugins ----------------------------------------------------------------

class Exploding:
    spec = ToolSpec(name="explode", description="fails", cost_tier="low")

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        raise self.exc


@pytest.mark.parametrize("exc, expected", [
    (ToolError("quota exhausted"), "quota exhausted"),
    (KeyError("k"), "explode failed: KeyError: 'k'"),
])
async def test_tool_exceptions_become_error_results(ws: Path, exc: Exception,
                                                    expected: str) -> None:
    coordinator = ToolCoordinator(ws, {}, [Exploding(exc)], load_plugins=False)
    result = await coordinator.execute("explode", {}, ctx_for(ws))
    assert result.is_error and result.content == expected


PLUGIN_MODULE = '''
from victor_server.tools.base import ToolResult, ToolSpec

class Greeter:
    spec = ToolSpec(name="greet", description="Greets.", domain="social",
                    input_schema={"type": "object", "properties": {"who": {"type": "string"}},
                                  "required": ["who"]})

    def __init__(self, options):
        self.greeting = options.get("greeting", "hello")

    async def run(self, tool_input, ctx):
        return ToolResult(f"{self.greeting}, {tool_input['who']}")

def pair(options):
    return [Greeter({"greeting": "hi"}), Greeter({})][:1]

def broken(options):
    raise RuntimeError("plugin exploded")

def not_a_tool(options):
    return 42
'''


def _install_plugin(site: Path, entries: dict[str, str]) -> None:
    (site / "victor_test_tools.py").write_text(textwrap.dedent(PLUGIN_MODULE))
    dist = site / "victor_test_tools-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: victor-test-tools\n"
                                   "Version: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (dist / "entry_points.txt").write_text(f"[victor_server.tools]\n{lines}")


async def test_plugin_tools_load_with_options_and_bad_ones_are_skipped(
        ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site, {"greeter": "victor_test_tools:Greeter",
                           "broken": "victor_test_tools:broken",
                           "bogus": "victor_test_tools:not_a_tool",
                           "missing": "victor_test_tools_absent:Nope"})
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "victor_test_tools", raising=False)
    coordinator = ToolCoordinator(ws, {"greeter": {"greeting": "ahoy"}})
    specs = {s.name: s for s in await coordinator.specs()}
    assert specs["greet"].source == "greeter" and specs["greet"].domain == "social"
    result = await coordinator.execute("greet", {"who": "crew"}, ctx_for(ws))
    assert result.content == "ahoy, crew"
    bad = await coordinator.execute("greet", {}, ctx_for(ws))
    assert bad.is_error and "'who' is a required property" in bad.content
    skipped = [r.getMessage() for r in caplog.records if "is skipped" in r.getMessage()]
    assert len(skipped) == 3
    assert any("plugin exploded" in m for m in skipped)


async def test_disabled_plugin_is_not_loaded(ws: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(site, {"greeter": "victor_test_tools:Greeter"})
    monkeypatch.syspath_prepend(str(site))
    coordinator = ToolCoordinator(ws, {"disabled": ["greeter"]})
    assert "greet" not in {s.name for s in await coordinator.specs()}
