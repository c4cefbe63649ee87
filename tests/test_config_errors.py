"""Config mistakes named where the user looks: unknown keys with the closest valid key, syntax
errors with file, line and column, command-line paths checked before anything starts, and
advice that follows where a value came from. Each through the real server or CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, text
from lsp_harness import lsp_server, server_env
from pygls.exceptions import JsonRpcException


def run(workspace: Path, *args: str,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "victor_server", "--workspace", str(workspace),
                           *args], capture_output=True, text=True, env=server_env(env),
                          timeout=120, check=False)


def log_lines(stderr: str, needle: str) -> list[str]:
    return [line for line in stderr.splitlines() if needle in line]


async def test_unknown_keys_are_reported_with_the_closest_key(workspace: Path) -> None:
    config = workspace / ".victor" / "config.yml"
    config.write_text("provder: scripted\nmax_tool: 3\nmodel: kept\n"
                      "tool_selection: {stratgy: keyword}\nscripted: {}\n")
    env = {"VICTOR_MAX_TOKNS": "10", "VICTOR_SERVER_CMD": "not a config key"}
    async with lsp_server(workspace, env) as victor:
        result = await victor.request("victor/getConfig", {})
        errors = result["errors"]
        assert result["config"]["model"] == "kept"
        assert f"unknown config key `provder` in file ({config}): did you mean `provider`?" \
            in errors
        assert any("`max_tool`" in e and "`tool_selection.max_tools`" in e for e in errors)
        assert any("`tool_selection.stratgy`" in e and "`tool_selection.strategy`" in e
                   for e in errors)
        assert any("VICTOR_MAX_TOKNS" in e and "`max_tokens`" in e for e in errors)
        # a provider's own section and a variable that is no config key's typo are not errors
        assert not any("scripted" in e or "SERVER_CMD" in e for e in errors), errors
        assert len(errors) == 4, errors
        again = await victor.request("victor/getConfig", {})
        assert again["errors"] == errors


def test_unknown_keys_are_logged_once(workspace: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text("provder: scripted\n")
    result = run(workspace, "chat", "hi", env={"VICTOR_PROVIDER": "scripted"})
    assert result.returncode == 0, result.stderr
    assert len(log_lines(result.stderr, "`provder`")) == 1, result.stderr


async def test_yaml_syntax_error_names_line_and_column_and_the_rest_applies(
        workspace: Path) -> None:
    config = workspace / ".victor" / "config.yml"
    config.write_text("model: fine\nprovider: [scripted\n")
    async with lsp_server(workspace, {"VICTOR_MAX_TOKENS": "1234"}) as victor:
        result = await victor.request("victor/getConfig", {})
        assert result["config"]["max_tokens"] == 1234  # the environment still applies
        assert result["sources"]["max_tokens"] == "env"
        assert result["config"]["provider"] == "anthropic"  # and the defaults
        [error] = result["errors"]
        assert error.startswith(f"{config}:3:1: YAML syntax error: ")
        assert "line 2, column 11" in error and "\n" not in error


async def test_json_syntax_error_names_line_and_column(workspace: Path) -> None:
    config = workspace / ".victor" / "config.json"
    config.write_text('{\n  "model": "x",\n}\n')
    async with lsp_server(workspace) as victor:
        [error] = (await victor.request("victor/getConfig", {}))["errors"]
        assert error.startswith(f"{config}:3:1: JSON syntax error: ")


def test_config_command_shows_sources_and_errors(workspace: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text("model: from-file\nprovder: x\n")
    shown = run(workspace, "config", "--json")
    assert shown.returncode == 1  # there are errors
    result = json.loads(shown.stdout)
    assert (result["config"]["model"], result["sources"]["model"]) == ("from-file", "file")
    assert any("did you mean `provider`?" in e for e in result["errors"])
    (workspace / ".victor" / "config.yml").write_text("model: from-file\n")
    plain = run(workspace, "config")
    assert plain.returncode == 0, plain.stderr
    assert 'model: "from-file"  (file)' in plain.stdout.splitlines()


def test_missing_config_file_is_a_one_line_error(workspace: Path, tmp_path: Path) -> None:
    for command in (["sessions", "list"], ["lsp"], ["chat", "hi"]):
        result = run(workspace, "--config", str(tmp_path / "nope.yml"), *command)
        assert result.returncode == 2
        assert result.stderr == f"victor-server: --config {tmp_path / 'nope.yml'}: no such file\n"


def test_db_in_a_missing_directory_is_an_error(workspace: Path, tmp_path: Path) -> None:
    db = tmp_path / "no-such-dir" / "victor.db"
    result = run(workspace, "--db", str(db), "sessions", "list")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no-such-dir" in result.stderr
    assert not db.parent.exists()
    # the store's own .victor directory is still created, as the default store's is
    own = tmp_path / "elsewhere" / ".victor" / "victor.db"
    own.parent.parent.mkdir()
    assert run(workspace, "--db", str(own), "sessions", "list").returncode == 0
    assert own.is_file()


def test_chat_with_an_unknown_session_is_an_error(workspace: Path) -> None:
    env = {"VICTOR_PROVIDER": "scripted"}
    result = run(workspace, "chat", "--session", "typo", "hello", env=env)
    assert result.returncode == 1
    assert result.stderr.startswith("victor-server: error -32001: session not found: typo")
    assert result.stderr.count("\n") == 1
    assert json.loads(run(workspace, "sessions", "list", "--json").stdout)["sessions"] == []
    first = run(workspace, "chat", "hello", env=env)
    sid = json.loads(run(workspace, "sessions", "list", "--json").stdout)["sessions"][0]
    resumed = run(workspace, "chat", "--session", sid["sessionId"], "again", env=env)
    assert first.returncode == 0 and resumed.returncode == 0, resumed.stderr


def test_no_key_advice_follows_the_provider_source(workspace: Path) -> None:
    config = workspace / ".victor" / "config.yml"
    config.write_text("provider: anthropic\n")
    from_file = run(workspace, "chat", "hi")
    assert from_file.returncode == 1
    assert "VICTOR_PROVIDER" not in from_file.stderr  # the file outranks the environment
    assert f"change `provider: anthropic` in {config}" in from_file.stderr
    config.unlink()
    by_default = run(workspace, "chat", "hi")
    assert "VICTOR_PROVIDER=scripted" in by_default.stderr
    assert by_default.stderr.count("\n") == 1
    # a file that does not parse: its error comes first, and the no-key line points back to it
    config.write_text("provider: [scripted\n")
    broken = run(workspace, "chat", "hi").stderr.splitlines()
    assert len(broken) == 2 and "YAML syntax error" in broken[0]
    assert "the config has 1 error(s)" in broken[1]


async def test_a_refused_chat_leaves_no_session_and_a_titled_one_follows(
        workspace: Path, fake: FakeAnthropic) -> None:
    async with lsp_server(workspace) as victor:  # no API key: refused before anything is stored
        for params in ({"message": "hi"}, {"message": "hi", "sessionId": "named"}):
            with pytest.raises(JsonRpcException) as refused:
                await victor.request("victor/chat", params)
            assert refused.value.code == -32002
        assert (await victor.request("victor/session/list", {}))["sessions"] == []
    fake.queue(text("Hello."))
    async with lsp_server(workspace, fake.env()) as victor:
        result = await victor.request("victor/chat", {"message": "\n  Fix the login bug\nplease"})
        [session] = (await victor.request("victor/session/list", {}))["sessions"]
        assert session["sessionId"] == result["sessionId"]
        assert session["title"] == "Fix the login bug"
        # a session made without a title (as ACP session/new makes them) gets one from its
        # first chat; a title already there is kept
        await victor.request("victor/session/create", {"sessionId": "bare"})
        fake.queue(text("Sure."), text("Again."))
        await victor.request("victor/chat", {"message": "Rename the module", "sessionId": "bare"})
        await victor.request("victor/chat", {"message": "Something else", "sessionId": "bare"})
        bare = await victor.request("victor/session/get", {"sessionId": "bare"})
        assert bare["title"] == "Rename the module"


def test_store_creation_writes_a_gitignore_for_its_files(workspace: Path, tmp_path: Path) -> None:
    assert run(workspace, "sessions", "list").returncode == 0
    ignore = workspace / ".victor" / ".gitignore"
    names = [ln for ln in ignore.read_text().splitlines() if not ln.startswith("#")]
    assert names == ["victor.db", "victor.db-wal", "victor.db-shm"]
    # git agrees: the store is ignored, the project's config is not
    (workspace / ".victor" / "config.yml").write_text("model: x\n")
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    status = subprocess.run(["git", "-C", str(workspace), "status", "--porcelain", "-uall"],
                            capture_output=True, text=True, check=True).stdout
    assert sorted(status.split()) == [".victor/.gitignore", ".victor/config.yml", "??", "??"]
    # a user's own .gitignore is never overwritten
    other = tmp_path / "other"
    (other / ".victor").mkdir(parents=True)
    (other / ".victor" / ".gitignore").write_text("mine\n")
    assert run(other, "sessions", "list").returncode == 0
    assert (other / ".victor" / ".gitignore").read_text() == "mine\n"
    with sqlite3.connect(other / ".victor" / "victor.db") as db:  # the store was still made
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)
