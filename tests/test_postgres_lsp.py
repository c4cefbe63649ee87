"""Real ``victor-server lsp`` processes on one PostgreSQL (``VICTOR_STORE__URL``): a team's
servers see each other's sessions, and a database that goes away mid-turn gives -32005 while
the server keeps serving and recovers when the database is back."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, slow_text
from lsp_harness import lsp_server
from pg_cluster import PgCluster
from pygls.exceptions import JsonRpcException


def team_workspace(root: Path, name: str) -> Path:
    path = root / name
    (path / ".victor").mkdir(parents=True)
    return path


async def test_two_servers_share_sessions(tmp_path: Path, fake: FakeAnthropic,
                                          pg_cluster: PgCluster) -> None:
    env = {**fake.env(), "VICTOR_STORE__URL": pg_cluster.new_database("team")}
    alice_ws, bob_ws = team_workspace(tmp_path, "alice"), team_workspace(tmp_path, "bob")
    async with AsyncExitStack() as stack:  # both servers start at once
        alice, bob = await asyncio.gather(stack.enter_async_context(lsp_server(alice_ws, env)),
                                          stack.enter_async_context(lsp_server(bob_ws, env)))
        first = await alice.request("victor/chat", {"message": "remember the word walrus"})
        sid = first["sessionId"]
        listed = await bob.request("victor/session/list", {})
        assert sid in [s["sessionId"] for s in listed["sessions"]]
        await bob.request("victor/chat", {"message": "and the word otter", "sessionId": sid})
        session = await alice.request("victor/session/get", {"sessionId": sid})
        assert [m["role"] for m in session["messages"]] == ["user", "assistant"] * 2
        hits = await alice.request("victor/session/search", {"query": "otter"})
        assert [h["sessionId"] for h in hits["results"]][:1] == [sid]
        config = await bob.request("victor/getConfig", {})
        assert pg_cluster.password not in str(config)
    # neither server made a SQLite database: the sessions live in PostgreSQL only
    assert not (alice_ws / ".victor" / "victor.db").exists()
    assert not (bob_ws / ".victor" / "victor.db").exists()


async def test_database_gone_mid_turn_is_32005_and_the_server_recovers(
        workspace: Path, fake: FakeAnthropic, pg_cluster: PgCluster) -> None:
    env = {**fake.env(), "VICTOR_STORE__URL": pg_cluster.new_database("outage")}
    fake.queue(slow_text(["still ", "talking "] * 10, delay=0.1))
    async with lsp_server(workspace, env) as victor:
        future = victor.send("victor/chat", {"message": "take your time"})
        while not victor.deltas:  # noqa: ASYNC110 - filled by the client's notification handler
            await asyncio.sleep(0.02)
        pg_cluster.stop("immediate")
        try:
            with pytest.raises(JsonRpcException) as caught:
                await asyncio.wait_for(asyncio.wrap_future(future), 20)
            assert caught.value.code == -32005 and caught.value.data["reason"]
            with pytest.raises(JsonRpcException) as listing:
                await victor.request("victor/session/list", {})
            assert listing.value.code == -32005
            assert pg_cluster.password not in str(listing.value.data)
        finally:
            pg_cluster.start()
        result = await victor.request("victor/chat", {"message": "back again"})
        assert result["content"] == "echo: back again"
        listed = await victor.request("victor/session/list", {})
        assert result["sessionId"] in [s["sessionId"] for s in listed["sessions"]]
