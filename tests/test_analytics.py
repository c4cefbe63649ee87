"""Analytics in process: the coordinator over a real SQLite store, the exporters against
loopback receivers, dead letters, retention, the summary's cost, export and the CLI."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from analytics_sink import HttpSink

from victor_server.analytics import AnalyticsCoordinator, AnalyticsEvent, create_exporters
from victor_server.analytics.export import parse_time, write_csv, write_json
from victor_server.analytics.exporters import (
    ExportFailed,
    JSONLExporter,
    SQLiteExporter,
    WebhookExporter,
    WebSocketExporter,
)
from victor_server.analytics.prometheus import PrometheusExporter
from victor_server.store import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore(tmp_path / "victor.db").open()
    yield opened
    await opened.close()


class Switchable:
    """An exporter that can be down (raises), up (delivers), or hung (never returns)."""

    def __init__(self, name: str = "flaky") -> None:
        self.name = name
        self.down = True
        self.hang = False
        self.calls = 0
        self.delivered: list[str] = []

    async def export(self, events: list[AnalyticsEvent]) -> int:
        self.calls += 1
        if self.hang:
            await asyncio.Event().wait()
        if self.down:
            raise ExportFailed("sink unreachable")
        self.delivered += [e.id for e in events]
        return len(events)


def usage(coordinator: AnalyticsCoordinator, sid: str, model: str, tokens_in: int,
          tokens_out: int, tenant: str | None = None) -> AnalyticsEvent:
    event = coordinator.record("token_usage", sid, tenant, model=model, provider="anthropic",
                               input_tokens=tokens_in, output_tokens=tokens_out)
    assert event is not None
    return event


async def test_summary_counts_tokens_tools_and_cost(store: SqliteStore) -> None:
    analytics = AnalyticsCoordinator(store)
    analytics.record("session_start", "s1")
    usage(analytics, "s1", "claude-sonnet-4-5-20250929", 1_000_000, 100_000)
    usage(analytics, "s2", "claude-haiku-4-5", 2_000_000, 0)
    usage(analytics, "s2", "some-local-model", 50, 5)
    for name in ("read", "read", "write"):
        analytics.record("tool_call", "s1", name=name, is_error=False)
    # sees events not yet flushed; rendered as the LSP and ACP faces publish it
    summary = (await analytics.summary(all_tenants=True)).render("camel")
    assert summary["tokens"] == {"input": 3_000_050, "output": 100_005, "total": 3_100_055,
                                 "cacheRead": 0, "cacheWrite": 0}
    assert summary["toolCalls"] == {"read": 2, "write": 1}
    assert summary["events"] == {"session_start": 1, "token_usage": 3, "tool_call": 3}
    assert summary["sessions"] == 2
    # list prices (genai-prices), sonnet: 1M in x $3 + 0.1M out x $15 = $4.50;
    # haiku: 2M in x $1 = $2.00
    assert summary["cost"] == {"usd": 6.5, "byModel": {"claude-haiku-4-5": 2.0,
                                                       "claude-sonnet-4-5-20250929": 4.5},
                               "unpriced": ["some-local-model"]}
    only_s2 = await analytics.summary("s2", all_tenants=True)
    assert only_s2.tokens.input == 2_000_050


async def test_summary_filters_tenant_and_time_and_config_prices(store: SqliteStore) -> None:
    analytics = AnalyticsCoordinator(store)
    old = usage(analytics, "a", "claude-haiku-4-5", 10, 1, tenant="acme")
    old.timestamp -= 3600
    usage(analytics, "a", "claude-haiku-4-5", 20, 2, tenant="acme")
    usage(analytics, "b", "claude-haiku-4-5", 40, 4, tenant="other")
    acme = await analytics.summary(tenant_id="acme")
    assert acme.tokens.input == 30
    recent = await analytics.summary(tenant_id="acme", since=time.time() - 60)
    assert recent.tokens.input == 20
    analytics.prices = {"claude-haiku": {"input": 1_000_000.0, "output": 0.0}}
    priced = await analytics.summary(all_tenants=True)
    # the configured prefix wins over the default table
    assert priced.cost is not None and priced.cost.usd == 70.0


async def test_dead_exporter_loses_nothing_and_retry_delivers(store: SqliteStore) -> None:
    flaky = Switchable()
    analytics = AnalyticsCoordinator(store, [SQLiteExporter(store), flaky])
    ids = [usage(analytics, "s", "claude-haiku-4-5", 5, 1).id for _ in range(3)]
    await analytics.flush()
    assert await analytics.drain(10)
    assert await store.dead_letter_counts() == {"flaky": 3}
    assert (await analytics.summary(all_tenants=True)).tokens.input == 15  # stored anyway
    # not due yet: nothing is retried before its time
    assert await analytics.retry_dead_letters() == 0
    assert await analytics.retry_dead_letters(now=time.time() + 3600) == 0  # still down
    due = await store.due_dead_letters("flaky", time.time() + 10**6)
    assert {attempts for _, attempts in due} == {2}
    flaky.down = False
    assert await analytics.retry_dead_letters(now=time.time() + 10**6) == 3
    assert sorted(flaky.delivered) == sorted(ids)
    assert await store.dead_letter_counts() == {}
    await analytics.close()


async def test_hung_exporter_blocks_neither_turn_nor_summary(
        store: SqliteStore, workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from victor_server.orchestrator import AgentOrchestrator
    from victor_server.providers.scripted import ScriptedProvider

    monkeypatch.setenv("VICTOR_TOOL_SELECTION__STRATEGY", "keyword")
    hung = Switchable("hung")
    hung.hang = True
    analytics = AnalyticsCoordinator(store, [SQLiteExporter(store), hung], batch_size=1)
    analytics.close_timeout = 0.2
    orchestrator = AgentOrchestrator(workspace=workspace, provider=ScriptedProvider(),
                                     store=store, analytics=analytics)
    await orchestrator.start()
    result = await orchestrator.chat("hello there")
    summary = await analytics.summary(all_tenants=True)
    assert summary.tokens.input == result.usage.input_tokens > 0
    assert hung.calls >= 1 and hung.delivered == []  # the hung sink was called and is stuck
    await analytics.close()  # gives up waiting after close_timeout and parks the batches
    parked = await store.due_dead_letters("hung", time.time() + 10**6, limit=10_000)
    assert {e.id for e, _ in parked} >= {e_id for e_id in await _stored_ids(store)}
    await orchestrator.close()


async def _stored_ids(store: SqliteStore) -> set[str]:
    return {e.id for _, e in await store.events_after(0)}


async def test_primary_failure_keeps_events_for_next_flush(store: SqliteStore) -> None:
    class BrokenOnce(SQLiteExporter):
        failed = False

        async def export(self, events: list[AnalyticsEvent]) -> int:
            if not self.failed:
                self.failed = True
                raise OSError("database is locked")
            return await super().export(events)

    analytics = AnalyticsCoordinator(store, [BrokenOnce(store)])
    usage(analytics, "s", "claude-haiku-4-5", 7, 1)
    await analytics.flush()
    assert await _stored_ids(store) == set()
    usage(analytics, "s", "claude-haiku-4-5", 3, 1)
    await analytics.flush()
    assert (await store.event_summary(all_tenants=True)).tokens.input == 10


async def test_webhook_posts_json_array_with_headers_and_retries() -> None:
    with HttpSink() as sink:
        webhook = WebhookExporter(sink.url + "/hook", headers={"Authorization": "Bearer t"},
                                  retries=2, backoff=0.01)
        events = [AnalyticsEvent("tool_call", "s", None, {"name": "read"}) for _ in range(2)]
        sink.status = 503
        with pytest.raises(ExportFailed, match="HTTP 503"):
            await webhook.export(events)
        assert sink.attempts == 3  # the first try and two retries
        sink.status = 200
        assert await webhook.export(events) == 2
        [received] = sink.received
        assert received.path == "/hook" and received.headers["Authorization"] == "Bearer t"
        assert [e["id"] for e in received.json()] == [e.id for e in events]
        assert received.json()[0] == events[0].to_json()
        await webhook.close()


async def test_webhook_and_pushgateway_through_coordinator(store: SqliteStore) -> None:
    with HttpSink() as hook, HttpSink() as gateway:
        exporters = create_exporters(
            ["sqlite", {"webhook": {"url": hook.url, "retries": 0}},
             {"prometheus": {"pushgateway": gateway.url, "job": "ci"}}], store)
        analytics = AnalyticsCoordinator(store, exporters)
        event = usage(analytics, "s", "claude-haiku-4-5", 120, 30)
        analytics.record("tool_call", "s", name="grep")
        await analytics.close()
        assert hook.event_ids()[0] == event.id and len(hook.event_ids()) == 2
        [push] = gateway.received
        assert (push.method, push.path) == ("PUT", "/metrics/job/ci")
        text = push.body.decode()
        assert 'victor_tokens_total{direction="input",model="claude-haiku-4-5"} 120.0' in text
        assert 'victor_tool_calls_total{tool="grep"} 1.0' in text


async def test_pushgateway_replay_counts_each_event_once() -> None:
    with HttpSink() as gateway:
        prometheus = PrometheusExporter(gateway.url)
        event = AnalyticsEvent("token_usage", "s", None,
                               {"model": "claude-haiku-4-5", "input_tokens": 9,
                                "output_tokens": 1})
        gateway.status = 500
        with pytest.raises(ExportFailed):
            await prometheus.export([event])
        gateway.status = 200
        await prometheus.export([event])  # the dead-letter replay of the same event
        assert 'victor_events_total{type="token_usage"} 1.0' in gateway.received[-1].body.decode()
        await prometheus.close()


async def test_jsonl_and_websocket_exporters(tmp_path: Path) -> None:
    from websockets.asyncio.client import connect

    events = [AnalyticsEvent("error", "s", None, {"code": -32002})]
    jsonl = JSONLExporter(tmp_path / "out" / "events.jsonl")
    await jsonl.export(events)
    await jsonl.export(events)
    lines = (tmp_path / "out" / "events.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [events[0].id] * 2

    live = WebSocketExporter(port=0)
    await live.start()
    async with connect(f"ws://127.0.0.1:{live.port}") as client:
        for _ in range(500):  # the server registers the client just after the handshake
            if live.clients:
                break
            await asyncio.sleep(0.01)
        await live.export(events)
        assert json.loads(await client.recv()) == [events[0].to_json()]
    await live.close()


async def test_create_exporters_names_and_skips_bad_ones(
        store: SqliteStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        exporters = create_exporters(
            ["sqlite", {"jsonl": {"path": "a.jsonl"}}, {"jsonl": {"path": "b.jsonl"}},
             "no-such-exporter", {"webhook": {}}], store, workspace=tmp_path)
    names = [getattr(e, "name", "") for e in exporters]
    assert names == ["sqlite", "jsonl", "jsonl-2"]
    assert isinstance(exporters[1], JSONLExporter) and exporters[1].path == tmp_path / "a.jsonl"
    assert "no-such-exporter" in caplog.text and "webhook" in caplog.text


async def test_configure_always_keeps_the_store(store: SqliteStore, tmp_path: Path) -> None:
    from victor_server.settings import AnalyticsSettings

    analytics = AnalyticsCoordinator(store)
    analytics.configure(AnalyticsSettings(exporters=[{"jsonl": {"path": "e.jsonl"}}],
                                          retention_days=3), tmp_path)
    assert [getattr(e, "name", "") for e in analytics.exporters] == ["sqlite", "jsonl"]
    assert analytics.retention_days == 3


async def test_retention_prunes_old_events_at_start(store: SqliteStore) -> None:
    analytics = AnalyticsCoordinator(store)
    old = usage(analytics, "s", "claude-haiku-4-5", 1, 1)
    old.timestamp -= 10 * 86_400
    kept = usage(analytics, "s", "claude-haiku-4-5", 2, 1)
    await analytics.flush()
    analytics.retention_days = 7
    await analytics.start()
    assert await _stored_ids(store) == {kept.id}
    await analytics.close()


async def test_disabled_records_nothing(store: SqliteStore) -> None:
    analytics = AnalyticsCoordinator(store, enabled=False)
    assert analytics.record("chat_request", "s") is None
    assert (await analytics.summary(all_tenants=True)).events == {}


def test_export_formats_and_time_parsing() -> None:
    events = [AnalyticsEvent("tool_call", "s", "acme", {"name": "read, then write"},
                             timestamp=1_700_000_000.5)]
    out = io.StringIO()
    write_csv(events, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["tenant_id"] == "acme" and json.loads(rows[0]["data"]) == events[0].data
    assert rows[0]["time"].startswith("2023-11-14T22:13:20.500")
    out = io.StringIO()
    write_json(events, out)
    assert json.loads(out.getvalue()) == [events[0].to_json()]
    assert parse_time("24h", now=100_000.0) == 100_000.0 - 86_400
    assert parse_time("2024-01-01") == 1_704_067_200.0
    assert parse_time("1700000000") == 1_700_000_000.0
    with pytest.raises(ValueError, match="not epoch seconds"):
        parse_time("yesterday-ish")


def test_cli_summary_and_export(workspace: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    from victor_server.cli import main

    monkeypatch.setenv("VICTOR_PROVIDER", "scripted")
    monkeypatch.setenv("VICTOR_TOOL_SELECTION__STRATEGY", "keyword")
    db = str(workspace / "cli.db")
    common = ["--workspace", str(workspace), "--db", db]
    assert main(["chat", *common, "hello"]) == 0
    capsys.readouterr()
    assert main(["analytics", "summary", "--json", "--since", "1h", *common]) == 0
    summary: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert summary["events"]["token_usage"] == 1 and summary["tokens"]["input"] > 0
    assert summary["cost"]["byModel"] == {"scripted": 0.0}
    assert main(["analytics", "export", "--format", "csv", *common]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert "token_usage" in [r["type"] for r in rows]
    assert main(["analytics", "summary", "--since", "soon", *common]) == 2
