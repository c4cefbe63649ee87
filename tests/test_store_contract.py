"""The ``Store`` protocol's contract, one suite run against both backends: ``SqliteStore`` and
a real PostgreSQL (tests/support/pg_cluster.py starts a throwaway cluster; the PostgreSQL runs are
marked ``postgres`` and ``slow`` and skip, saying why, when PostgreSQL is not installed).

Each test speaks only the protocol's methods, grouped as the protocol groups them: lifecycle,
sessions, messages, events, dead letters, tenants and A/B, approvals, the embedding cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pg_cluster import PgCluster

from victor_server.analytics.events import AnalyticsEvent
from victor_server.api_models import TokenTotals
from victor_server.errors import StoreUnavailable
from victor_server.messages import Message, Usage
from victor_server.store import SqliteStore, Store
from victor_server.store.postgres import PostgresStore

BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.slow])]


async def open_backend(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if kind == "sqlite":
        return await SqliteStore(tmp_path / "victor.db").open()
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return await PostgresStore(cluster.new_database()).open()


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_backend(request.param, request, tmp_path)
    try:
        yield opened
    finally:
        await opened.close()


def second_handle(store: Store) -> Store:
    """Another connection to the same database, as a second server process would open."""
    if isinstance(store, SqliteStore):
        return SqliteStore(store.path)
    assert isinstance(store, PostgresStore)
    return PostgresStore(store.url)


async def test_lifecycle_open_close_and_integrity(store: Store) -> None:
    assert store.is_open and await store.integrity_check() == "ok"
    other = second_handle(store)
    assert not other.is_open
    with pytest.raises(StoreUnavailable, match="not open"):
        await other.get_session("x")
    assert await other.open() is other and other.is_open
    await other.close()
    await other.close()  # closing twice is harmless
    assert not other.is_open


async def test_session_titles_and_missing_rows(store: Store) -> None:
    row = await store.create_session("s", "acme")
    assert (row.session_id, row.tenant_id, row.title, row.message_count) == ("s", "acme", None, 0)
    await store.title_if_untitled("s", "first title")
    await store.title_if_untitled("s", "second title")  # a title already set is kept
    assert (await store.get_session("s")).title == "first title"  # type: ignore[union-attr]
    titled = await store.create_session("t", None, title="given")
    await store.title_if_untitled("t", "suggested")
    assert (await store.get_session("t")).title == titled.title == "given"  # type: ignore[union-attr]
    assert await store.get_session("nobody") is None
    assert not await store.was_deleted("nobody")
    with pytest.raises(StoreUnavailable):  # one id, one session
        await store.create_session("s", "acme")
    assert (await store.get_session("s")).title == "first title"  # type: ignore[union-attr]


async def test_sessions_create_list_page_delete(store: Store) -> None:
    for n in range(5):
        await store.create_session(f"s{n}", "acme", title=f"t{n}")
        await store.add_message(f"s{n}", Message("user", f"hello {n}"))
    await store.create_session("other", "globex")
    first, cursor = await store.list_sessions("acme", limit=3)
    assert [r.session_id for r in first] == ["s4", "s3", "s2"]
    assert cursor is not None and first[0].message_count == 1
    rest, end = await store.list_sessions("acme", limit=3, cursor=cursor)
    assert [r.session_id for r in rest] == ["s1", "s0"] and end is None
    everyone, _ = await store.list_sessions(all_tenants=True, limit=10)
    assert len(everyone) == 6
    assert [r.session_id for r in (await store.list_sessions(None))[0]] == []
    assert await store.delete_session("s1") is True
    assert await store.delete_session("s1") is False
    assert await store.get_session("s1") is None
    assert await store.was_deleted("s1") and not await store.was_deleted("s2")
    assert await store.get_messages("s1") == []


async def test_messages_round_trip_in_order_with_usage(store: Store) -> None:
    row = await store.create_session("chat", None)
    assert row.message_count == 0
    blocks = [{"type": "text", "text": "nul \x00 and ünïcode"},
              {"type": "tool_use", "id": "t1", "name": "read", "input": {"path": "a.py"}}]
    assert await store.add_message("chat", Message("user", "first")) == 1
    assert await store.add_message("chat", Message("assistant", blocks, pinned=True,
                                                   complete=False)) == 2
    await store.add_usage("chat", Usage(input_tokens=10, output_tokens=5))
    await store.add_usage("chat", Usage(input_tokens=1, output_tokens=1))
    messages = await store.get_messages("chat")
    assert [(m.seq, m.role) for m in messages] == [(1, "user"), (2, "assistant")]
    assert messages[1].content == blocks
    assert messages[1].pinned and not messages[1].complete and messages[0].complete
    session = await store.get_session("chat")
    assert (session.input_tokens, session.output_tokens, session.total_tokens) == (11, 6, 17)
    assert session.message_count == 2


async def test_message_to_missing_session_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreUnavailable):
        await store.add_message("nobody", Message("user", "x"))


async def test_two_writers_number_one_session_without_clashes(store: Store) -> None:
    await store.create_session("shared", None)
    other = await second_handle(store).open()
    try:
        writes = [s.add_message("shared", Message("user", f"m{i}"))
                  for i in range(10) for s in (store, other)]
        seqs = await asyncio.gather(*writes)
    finally:
        await other.close()
    assert sorted(seqs) == list(range(1, 21))
    assert [m.seq for m in await store.get_messages("shared")] == list(range(1, 21))


async def test_search_is_a_phrase_scoped_to_tenant(store: Store) -> None:
    await store.create_session("a", "acme")
    await store.create_session("b", "globex")
    await store.add_message("a", Message("user", "the walrus sat on a rock by the sea"))
    await store.add_message("b", Message("user", "a walrus in another tenant"))
    await store.add_message("a", Message("assistant", "nothing to see"))
    hits = await store.search_messages("walrus", "acme")
    assert [(h.session_id, h.seq) for h in hits] == [("a", 1)]
    assert "[walrus]" in hits[0].snippet
    assert len(await store.search_messages("walrus", all_tenants=True)) == 2
    assert await store.search_messages('walrus" OR "sea', "acme") == []  # text, not syntax
    await store.delete_session("a")
    assert await store.search_messages("walrus", "acme") == []


def events(n: int, start: float, **data: object) -> list[AnalyticsEvent]:
    return [AnalyticsEvent("token_usage", f"s{i % 2}", "acme",
                           {"model": "claude-sonnet-4-5", "input_tokens": 10,
                            "output_tokens": 2, **data}, timestamp=start + i)
            for i in range(n)]


async def test_events_dedupe_summarise_tail_export_prune(store: Store) -> None:
    jan = datetime(2025, 1, 31, 23, 59, tzinfo=UTC).timestamp()
    february = AnalyticsEvent("tool_call", "s0", "acme", {"name": "read"}, timestamp=jan + 120)
    batch = [*events(4, jan), february]
    await store.insert_events(batch)
    await store.insert_events(batch)  # a redelivery: no duplicates
    summary = await store.event_summary(tenant_id="acme")
    assert summary.events == {"token_usage": 4, "tool_call": 1}
    assert summary.tokens == TokenTotals(input=40, output=8, total=48, cache_read=0,
                                         cache_write=0)
    assert summary.tool_calls == {"read": 1} and summary.sessions == 2
    assert (await store.event_summary(tenant_id="globex")).events == {}
    assert (await store.event_summary(session_id="s1", tenant_id="acme")).events == {
        "token_usage": 2}
    exported = await store.export_events(tenant_id="acme", since=jan + 1, until=jan + 3)
    assert [e.id for e in exported] == [e.id for e in batch[1:4]]
    assert exported[0].data == batch[1].data
    recent = await store.recent_events(limit=2)
    assert [e.id for _, e in recent] == [batch[3].id, batch[4].id]
    tail = await store.events_after(recent[0][0])
    assert [e.id for _, e in tail] == [batch[4].id]
    assert await store.prune_events(before=jan + 2) == 2
    assert len(await store.export_events(all_tenants=True)) == 3


async def test_dead_letters_park_retry_and_clear(store: Store) -> None:
    batch = events(3, 1_700_000_000.0)
    assert await store.add_dead_letters("webhook", batch, "HTTP 503", 100.0) == 3
    await store.add_dead_letters("webhook", batch[:1], "HTTP 503 again", 150.0)
    assert await store.dead_letter_counts() == {"webhook": 3}
    due = await store.due_dead_letters("webhook", now=120.0)  # same time: any order
    assert sorted((e.id, tries) for e, tries in due) == sorted(
        [(batch[1].id, 1), (batch[2].id, 1)])
    # parked in the published shape, which adds data.total_tokens: the same event as published
    assert {e.id: e for e, _ in due}[batch[1].id].to_json() == batch[1].to_json()
    await store.reschedule_dead_letters("webhook", [batch[1].id], "still down", 500.0)
    due = await store.due_dead_letters("webhook", now=200.0)
    assert [(e.id, tries) for e, tries in due] == [(batch[2].id, 1), (batch[0].id, 2)]
    await store.delete_dead_letters("webhook", [batch[0].id, batch[2].id])
    assert await store.dead_letter_counts() == {"webhook": 1}


async def test_tenants_ab_permissions_embeddings(store: Store) -> None:
    assert await store.get_tenant_config("acme") == {}
    await store.set_tenant_config("acme", {"model": "claude-haiku", "tools": {"shell": False}})
    await store.set_tenant_config("acme", {"model": "claude-opus"})
    assert await store.get_tenant_config("acme") == {"model": "claude-opus"}
    assert await store.get_tenant_prompt_template("acme") is None
    await store.set_tenant_prompt_template("acme", "Answer as Acme's assistant.")
    assert await store.get_tenant_prompt_template("acme") == "Answer as Acme's assistant."
    other = await second_handle(store).open()
    try:  # two servers racing for one session's variant agree on the first
        assert await store.set_ab_assignment("s1", "exp", "control") is True
        assert await other.set_ab_assignment("s1", "exp", "treatment") is False
        assert await other.get_ab_assignment("s1") == ("exp", "control")
    finally:
        await other.close()
    assert await store.get_ab_assignment("nope") is None
    # "always allow" answers: per tenant, workspace, tool and prefix; adding one twice keeps one
    await store.add_approval("", "/w", "bash", "git status", "acp")
    await store.add_approval("", "/w", "bash", "git status", "lsp")
    await store.add_approval("t1", "/w", "write", "", "mcp")
    assert await store.approval_granted("", "/w", "bash", ["git", "git status", "git status -s"])
    assert not await store.approval_granted("", "/w", "bash", ["git", "git stash"])
    assert not await store.approval_granted("t2", "/w", "bash", ["git", "git status"])
    assert not await store.approval_granted("", "/elsewhere", "bash", ["git", "git status"])
    assert not await store.approval_granted("", "/w", "bash", [])
    rows = await store.list_approvals()
    assert [(r.tenant, r.tool, r.prefix, r.face) for r in rows] == [
        ("", "bash", "git status", "acp"), ("t1", "write", "", "mcp")]
    assert await store.revoke_approvals(rows[0].id) == 1
    assert await store.revoke_approvals(rows[0].id) == 0
    assert await store.revoke_approvals() == 1 and await store.list_approvals() == []
    await store.put_embeddings("m", {"k1": b"\x00\x01", "k2": b"\x02"})
    await store.put_embeddings("m", {"k1": b"\x09"})
    assert await store.get_embeddings("m", ["k1", "k2", "k3"]) == {"k1": b"\x09", "k2": b"\x02"}
    assert await store.integrity_check() == "ok"


async def test_reopen_keeps_data_and_schema(store: Store) -> None:
    await store.create_session("kept", "acme")
    await store.close()
    reopened = await second_handle(store).open()
    try:
        assert (await reopened.get_session("kept")).tenant_id == "acme"  # type: ignore[union-attr]
        assert await reopened.integrity_check() == "ok"
    finally:
        await reopened.close()


async def test_concurrent_writes_of_every_kind_leave_the_store_whole(store: Store) -> None:
    """Messages (a multi-statement write: the row, its search entry, the session's time)
    interleaved with analytics, dead-letter, approval and tenant writes: every write lands
    whole, and nothing is numbered twice."""
    await store.create_session("busy", "acme")
    batch = events(40, 1_700_000_000.0)
    jobs = []
    for i in range(20):
        jobs += [store.add_message("busy", Message("user", f"note{i} of the busy session")),
                 store.insert_events(batch[2 * i:2 * i + 2]),
                 store.add_dead_letters("webhook", batch[i:i + 1], "down", 10.0),
                 store.prune_events(before=0.0),
                 store.add_approval("", "/w", "bash", f"cmd{i}", "lsp"),
                 store.set_tenant_config(f"tenant{i}", {"n": i})]
    await asyncio.gather(*jobs)
    messages = await store.get_messages("busy")
    assert [m.seq for m in messages] == list(range(1, 21))
    assert sorted(m.text() for m in messages) == sorted(
        f"note{i} of the busy session" for i in range(20))
    assert (await store.get_session("busy")).message_count == 20  # type: ignore[union-attr]
    for i in (0, 7, 19):
        hits = await store.search_messages(f"note{i}", "acme")
        assert [h.session_id for h in hits] == ["busy"]
    assert len(await store.export_events(all_tenants=True)) == 40
    assert await store.dead_letter_counts() == {"webhook": 20}
    assert len(await store.list_approvals()) == 20
    assert await store.get_tenant_config("tenant7") == {"n": 7}
    assert await store.integrity_check() == "ok"
