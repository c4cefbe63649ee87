"""SQLite: every statement of the store runs under its one per-process lock (``guarded()``).

The connection is shared by every coroutine of the process. A write outside the lock would run
inside whatever transaction another coroutine had open and its ``commit`` would commit that
coroutine's half-done write, which the other coroutine's failure could then no longer undo.
These tests hold a multi-statement write open, let each kind of write race it over the shared
connection, then fail the held write: it must leave nothing behind, and the racing write must
land whole once the lock is free. The order is forced by round trips on the connection (its
worker thread runs statements in the order they were queued), never by waiting on a clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from victor_server.analytics.events import AnalyticsEvent
from victor_server.errors import StoreUnavailable
from victor_server.messages import Message
from victor_server.store import SqliteStore

HALF_WRITE = ("INSERT INTO sessions (id, tenant_id, title, created_at, updated_at) "
              "VALUES (?, NULL, NULL, 0, 0)")
EVENTS = [AnalyticsEvent("tool_call", "s", None, {"name": "read"}, timestamp=1_700_000_000.0 + i)
          for i in range(3)]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore(tmp_path / "victor.db").open()
    await opened.create_session("kept", None)
    await opened.insert_events(EVENTS[:1])
    await opened.add_dead_letters("webhook", EVENTS[:1], "down", 0.0)
    await opened.add_approval("", "/w", "bash", "ls", "lsp")
    try:
        yield opened
    finally:
        await opened.close()


async def landed(store: SqliteStore) -> dict[str, object]:
    """What the racing writes leave, read back through the store."""
    parked = await store.due_dead_letters("webhook", now=1e12)
    return {"events": sorted(e.id for e in await store.export_events(all_tenants=True)),
            "dead": sorted((e.id, tries) for e, tries in parked),
            "approvals": [a.prefix for a in await store.list_approvals()],
            "config": await store.get_tenant_config("acme")}


# each racing write, and what the store holds once it ran (besides the fixture's rows)
RACERS: dict[str, tuple[Callable[[SqliteStore], Awaitable[object]], dict[str, object]]] = {
    "insert_events": (lambda s: s.insert_events(EVENTS[1:]),
                      {"events": sorted(e.id for e in EVENTS)}),
    "prune_events": (lambda s: s.prune_events(before=2e9), {"events": []}),
    "add_dead_letters": (lambda s: s.add_dead_letters("webhook", EVENTS[:2], "down", 0.0),
                         {"dead": sorted([(EVENTS[0].id, 2), (EVENTS[1].id, 1)])}),
    "reschedule_dead_letters": (
        lambda s: s.reschedule_dead_letters("webhook", [EVENTS[0].id], "still down", 0.0),
        {"dead": [(EVENTS[0].id, 2)]}),
    "delete_dead_letters": (lambda s: s.delete_dead_letters("webhook", [EVENTS[0].id]),
                            {"dead": []}),
    "add_approval": (lambda s: s.add_approval("", "/w", "bash", "git", "acp"),
                     {"approvals": ["ls", "git"]}),
    "revoke_approvals": (lambda s: s.revoke_approvals(), {"approvals": []}),
    "set_tenant_config": (lambda s: s.set_tenant_config("acme", {"model": "m"}),
                          {"config": {"model": "m"}}),
    "add_message": (lambda s: s.add_message("kept", Message("user", "hi")), {}),
}


@pytest.mark.parametrize("racer", list(RACERS))
async def test_a_racing_write_never_commits_a_half_done_one(store: SqliteStore,
                                                            racer: str) -> None:
    write, expected = RACERS[racer]
    before = await landed(store)
    racing: asyncio.Task[object] | None = None
    with pytest.raises(StoreUnavailable, match="UNIQUE"):
        async with store.guarded() as db:
            await db.execute(HALF_WRITE, ("half",))  # the first statement of a longer write
            racing = asyncio.create_task(write(store))  # type: ignore[arg-type]
            for _ in range(20):  # the racer's statements and commit would queue in between
                await db.execute("SELECT 1")
            await db.execute(HALF_WRITE, ("kept",))  # a later statement fails: undo it all
    assert racing is not None
    await racing
    assert await store.get_session("half") is None
    assert await landed(store) == {**before, **expected}
    assert await store.integrity_check() == "ok"


async def test_a_cancelled_write_leaves_nothing_for_the_next_commit(store: SqliteStore) -> None:
    """A request cancelled in the middle of a write (the client gave up) rolls back; the next
    write's commit must not publish its first half."""
    started = asyncio.Event()

    async def cancelled_midway() -> None:
        async with store.guarded() as db:
            await db.execute(HALF_WRITE, ("half",))
            started.set()
            await asyncio.Event().wait()  # cancelled here, between two statements

    task = asyncio.create_task(cancelled_midway())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await store.insert_events(EVENTS[1:])  # the next write commits
    assert await store.get_session("half") is None
    assert len(await store.export_events(all_tenants=True)) == len(EVENTS)
