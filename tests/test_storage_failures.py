"""A store that cannot be opened or written is one line, never a traceback or a hang.

The command line prints ``victor-server: error -32005: store unavailable: <reason>`` and exits
1; a protocol face answers -32005 with the reason in ``data``, logs one line and goes on
serving, and works again once the disk does. Each failure is real: a read-only tmpfs, a full
one, modes root is made to obey, a file of random bytes, a write lock held by another
connection, a PostgreSQL port nobody listens on.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pg_cluster import PgCluster
from rpc_wire import WireServer
from storage_faults import Tmpfs, as_unprivileged, assert_one_line_store_error, run_cli, tmpfs

__all__ = ["tmpfs"]  # the fixture, imported for pytest

COMMANDS = [("sessions", "list"), ("analytics", "summary"), ("chat", "hello")]


def make_store(db: Path) -> None:
    db.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "victor_server", "--db", str(db), "sessions",
                           "list"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert db.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_cli_read_only_file_system(workspace: Path, tmpfs: Tmpfs,
                                   command: tuple[str, str]) -> None:
    db = tmpfs.path / "victor.db"
    make_store(db)
    tmpfs.remount("ro")
    line = assert_one_line_store_error(run_cli(workspace, "--db", str(db), *command))
    assert str(db) in line and "read-only file system" in line


def test_cli_new_store_in_a_read_only_directory(workspace: Path, tmpfs: Tmpfs) -> None:
    tmpfs.remount("ro")
    db = tmpfs.path / "victor.db"
    line = assert_one_line_store_error(run_cli(workspace, "--db", str(db), "sessions", "list"))
    assert "read-only file system" in line
    assert not db.exists()


def test_cli_permission_denied(workspace: Path, tmp_path: Path) -> None:
    folder = tmp_path / "locked-away"
    db = folder / "victor.db"
    make_store(db)
    folder.chmod(0)
    try:
        result = run_cli(workspace, "--db", str(db), "sessions", "list", unprivileged=True)
    finally:
        folder.chmod(0o700)
    assert "permission denied" in assert_one_line_store_error(result)


def test_cli_read_only_file_refuses_the_write(workspace: Path, tmp_path: Path) -> None:
    """A 0400 database can still be listed; a chat that must write it is -32005."""
    db = tmp_path / "victor.db"
    make_store(db)
    db.chmod(0o400)
    listed = run_cli(workspace, "--db", str(db), "sessions", "list", unprivileged=True)
    assert listed.returncode == 0, listed.stderr
    line = assert_one_line_store_error(
        run_cli(workspace, "--db", str(db), "chat", "hello", unprivileged=True))
    assert "readonly database" in line and "not writable" in line


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_cli_corrupt_file(workspace: Path, tmp_path: Path, command: tuple[str, str]) -> None:
    db = tmp_path / "victor.db"
    db.write_bytes(bytes(range(256)) * 64)
    line = assert_one_line_store_error(run_cli(workspace, "--db", str(db), *command))
    assert "file is not a database" in line
    assert db.read_bytes() == bytes(range(256)) * 64  # left as found, for the operator


def test_cli_locked_store(workspace: Path, tmp_path: Path) -> None:
    """Another connection holds the write lock past the busy timeout: reads still work (WAL),
    the chat that must write is one line."""
    db = tmp_path / "victor.db"
    make_store(db)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert run_cli(workspace, "--db", str(db), "sessions", "list").returncode == 0
        line = assert_one_line_store_error(run_cli(workspace, "--db", str(db), "chat", "hi"))
        assert "database is locked" in line
    finally:
        holder.close()


def test_cli_verbose_twice_adds_the_traceback(workspace: Path, tmp_path: Path) -> None:
    db = tmp_path / "victor.db"
    db.write_bytes(b"not a database" * 512)
    result = run_cli(workspace, "-vv", "--db", str(db), "sessions", "list")
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert any(line.startswith("victor-server: error -32005: store unavailable")
               for line in result.stderr.splitlines())


def test_cli_postgres_unreachable(workspace: Path) -> None:
    """Nothing listens on port 1: no PostgreSQL server is needed to see the failure."""
    url = "postgresql://victor:s3cret-pw@127.0.0.1:1/victor"
    for env, args in (({"VICTOR_STORE__URL": url}, []), ({}, ["--db", url])):
        result = run_cli(workspace, *args, "sessions", "list", env=env)
        line = assert_one_line_store_error(result)
        assert "127.0.0.1:1" in line and "s3cret-pw" not in result.stderr


# ---- the protocol faces ----------------------------------------------------------------------


def store_error(server: WireServer) -> dict[str, object]:
    """The -32005 a store-touching request gets on this face."""
    if server.face == "lsp":
        response = server.request("victor/session/list", {})
    elif server.face == "mcp":
        response = server.request("resources/read", {"uri": "victor://sessions"})
    else:
        response = server.request("session/new", {"cwd": str(server.workspace),
                                                  "mcpServers": []})
    assert "error" in response, response
    error = dict(response["error"])
    assert error["code"] == -32005, error
    return error


def assert_logged_once(server: WireServer, needle: str) -> None:
    log = server.tail(20000)
    assert "Traceback" not in log, log
    lines = [line for line in log.splitlines() if needle in line]
    assert len(lines) == 1, log


@pytest.mark.parametrize("face", ["lsp", "mcp", "acp"])
def test_face_new_store_on_read_only_file_system(workspace: Path, tmpfs: Tmpfs,
                                                 face: str) -> None:
    tmpfs.remount("ro")
    db = tmpfs.path / "victor.db"
    with WireServer(face, workspace, args=["--db", str(db)]) as server:
        server.initialize()
        error = store_error(server)
        data = error["data"]
        assert isinstance(data, dict)
        reason = str(data["reason"])
        assert "\n" not in reason and "read-only file system" in reason
        assert server.alive
        assert_logged_once(server, "read-only file system")
        tmpfs.remount("rw")  # the disk is back: the next request opens the store and works
        if face == "lsp":
            server.call("victor/session/list", {})
        elif face == "mcp":
            server.call("resources/read", {"uri": "victor://sessions"})
        else:
            server.call("session/new", {"cwd": str(server.workspace), "mcpServers": []})
        assert db.exists()
        assert server.close() == 0


def test_lsp_directory_gone_then_disk_full_then_recovered(workspace: Path,
                                                          tmpfs: Tmpfs) -> None:
    """The directory vanishes before the store opens; later the disk fills mid-session.
    Each is -32005 with the server still serving, and once space is back it works again
    with every acknowledged session intact."""
    folder = tmpfs.path / "data"
    folder.mkdir()
    db = folder / "victor.db"
    with WireServer("lsp", workspace, args=["--db", str(db)]) as server:
        server.initialize()
        folder.rmdir()
        tmpfs.remount("ro")
        reason = str(dict(store_error(server)["data"])["reason"])  # type: ignore[arg-type]
        assert "read-only file system" in reason
        tmpfs.remount("rw")
        folder.mkdir()
        kept = server.call("victor/session/create", {"sessionId": "kept"})["sessionId"]
        filler = tmpfs.fill()
        full = server.request("victor/session/create", {"sessionId": "x" * 200_000})
        assert full["error"]["code"] == -32005, full
        assert "full" in full["error"]["data"]["reason"]
        filler.unlink()
        server.call("victor/session/create", {"sessionId": "after"})
        listed = {s["sessionId"] for s in server.call("victor/session/list", {})["sessions"]}
        assert listed == {kept, "after"}
        assert server.alive and server.close() == 0
    check = sqlite3.connect(db)
    try:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        check.close()


def test_lsp_locked_store_is_32005_then_recovers(workspace: Path, tmp_path: Path) -> None:
    db = tmp_path / "victor.db"
    make_store(db)
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        with WireServer("lsp", workspace, args=["--db", str(db)]) as server:
            server.initialize()
            server.call("victor/session/list", {})  # open before the lock is taken
            holder.execute("BEGIN IMMEDIATE")
            locked = server.request("victor/session/create", {"sessionId": "s1"})
            assert locked["error"]["code"] == -32005, locked
            assert locked["error"]["data"]["reason"] == "database is locked"
            holder.execute("ROLLBACK")
            created = server.call("victor/session/create", {"sessionId": "s1"})
            assert created["sessionId"] == "s1"
            assert_logged_once(server, "database is locked")
            assert server.close() == 0
    finally:
        holder.close()


def test_lsp_postgres_unreachable(workspace: Path) -> None:
    env = {"VICTOR_STORE__URL": "postgresql://victor:pw-unseen@127.0.0.1:1/victor"}
    with WireServer("lsp", workspace, env=env) as server:
        server.initialize()
        error = store_error(server)
        assert "127.0.0.1:1" in json.dumps(error) and "pw-unseen" not in json.dumps(error)
        assert_logged_once(server, "127.0.0.1:1")
        assert "pw-unseen" not in server.tail(20000)
        assert server.close() == 0


def test_unprivileged_helper_enforces_modes(tmp_path: Path) -> None:
    """The permission tests mean something only if the helper really drops root's override."""
    secret = tmp_path / "secret"
    secret.write_text("x")
    secret.chmod(0)
    done = subprocess.run(as_unprivileged(["cat", str(secret)]), capture_output=True,
                          check=False)
    assert done.returncode != 0 and b"Permission denied" in done.stderr


def test_cli_postgres_stopped_and_refusing(workspace: Path,
                                           pg_cluster: PgCluster) -> None:
    url = pg_cluster.new_database("storefail")
    assert run_cli(workspace, "sessions", "list", env={"VICTOR_STORE__URL": url}).returncode == 0
    wrong = url.replace(pg_cluster.password, "not-the-password")
    refused = run_cli(workspace, "sessions", "list", env={"VICTOR_STORE__URL": wrong})
    assert "password authentication failed" in assert_one_line_store_error(refused)
    assert "not-the-password" not in refused.stderr
    pg_cluster.stop("fast")
    try:
        for args in (("sessions", "list"), ("analytics", "summary"), ("chat", "hello")):
            down = run_cli(workspace, *args, env={"VICTOR_STORE__URL": url})
            assert str(pg_cluster.port) in assert_one_line_store_error(down)
            assert pg_cluster.password not in down.stderr
    finally:
        pg_cluster.start()


def test_dashboard_on_a_broken_store_is_one_line(workspace: Path, tmp_path: Path) -> None:
    db = tmp_path / "victor.db"
    db.write_bytes(b"not a database" * 512)
    for where in (str(db), "postgresql://victor:pw-unseen@127.0.0.1:1/victor"):
        result = run_cli(workspace, "dashboard", "--port", "0", "--db", where)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "error -32005: store unavailable" in lines[0], result.stderr
        assert "pw-unseen" not in result.stderr


async def test_store_open_failure_leaves_no_thread(tmp_path: Path) -> None:
    """A failed open reports the cause and stops aiosqlite's worker thread before returning,
    so nothing keeps the process alive or prints after the loop closes."""
    import threading

    from victor_server.errors import StoreUnavailable
    from victor_server.store import SqliteStore

    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"garbage!" * 1024)
    for path, cause in ((tmp_path, "is a directory"), (corrupt, "file is not a database")):
        with pytest.raises(StoreUnavailable) as failed:
            await SqliteStore(path).open()
        assert cause in failed.value.reason and "\n" not in failed.value.reason
    workers = [t for t in threading.enumerate() if "_connection_worker_thread" in t.name]
    assert workers == []  # aiosqlite names its worker after its function
