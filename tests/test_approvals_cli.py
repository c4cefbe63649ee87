"""``victor-server permissions list|revoke <id>|revoke --all`` over a real store: what is shown,
what is undone, and one-line errors (the grants themselves are made by the faces' tests)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from server_env import server_env

from victor_server.store import SqliteStore


def run(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "victor_server", "--workspace", str(workspace),
                           *args], capture_output=True, text=True, env=server_env(),
                          timeout=120, check=False)


async def grant(db: Path, workspace: Path) -> None:
    store = await SqliteStore(db).open()
    try:
        await store.add_approval("acme", str(workspace), "bash", "git status", "acp")
        await store.add_approval("", str(workspace), "write", "", "lsp")
        await store.add_approval("", str(workspace), "bash", "pytest", "mcp")
    finally:
        await store.close()


def test_permissions_list_and_revoke(workspace: Path) -> None:
    asyncio.run(grant(workspace / ".victor" / "victor.db", workspace))
    listed = run(workspace, "permissions", "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].split("\t")[:4] == ["1", "bash git status", "tenant=acme", str(workspace)]
    assert lines[1].split("\t")[1:3] == ["write", "tenant=-"]

    assert run(workspace, "permissions", "revoke", "2").stdout == "revoked 1\n"
    rows = json.loads(run(workspace, "permissions", "list", "--json").stdout)
    assert [r["id"] for r in rows] == [1, 3]

    missing = run(workspace, "permissions", "revoke", "2")
    assert missing.returncode == 1
    assert missing.stderr == "victor-server: no remembered approval with id 2\n"
    for bad in (("revoke",), ("revoke", "1", "--all"), ("revoke", "x")):
        refused = run(workspace, "permissions", *bad)
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1

    assert run(workspace, "permissions", "revoke", "--all").stdout == "revoked 2\n"
    empty = run(workspace, "permissions", "list")
    assert empty.stdout == "" and empty.stderr == "no remembered approvals\n"
