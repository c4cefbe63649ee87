"""The dashboard's routes and live feed, in process and as ``victor-server dashboard``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from websockets.asyncio.client import connect

from victor_server.analytics import AnalyticsCoordinator
from victor_server.analytics.dashboard import Dashboard
from victor_server.store import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore(tmp_path / "victor.db").open()
    yield opened
    await opened.close()


async def test_routes_serve_page_summary_and_metrics(store: SqliteStore) -> None:
    analytics = AnalyticsCoordinator(store)
    analytics.record("token_usage", "s1", model="claude-haiku-4-5", provider="anthropic",
                     input_tokens=100, output_tokens=20)
    analytics.record("tool_call", "s2", name="read")
    await analytics.flush()
    dashboard = await Dashboard(store, port=0).start()
    try:
        async with httpx2.AsyncClient(base_url=dashboard.url) as http:
            page = await http.get("/")
            assert page.headers["content-type"].startswith("text/html")
            assert "<svg" in page.text and "new WebSocket" in page.text
            assert not re.search(r"<script[^>]+src=|<link[^>]+href=\"?https?:", page.text)
            summary = (await http.get("/api/summary")).json()
            assert summary == (await store.event_summary(all_tenants=True)).render("camel")
            s1 = (await http.get("/api/summary", params={"session": "s1"})).json()
            assert s1["tokens"]["total"] == 120 and s1["toolCalls"] == {}
            metrics = (await http.get("/metrics")).text
            assert 'victor_tokens_total{direction="output",model="claude-haiku-4-5"} 20.0' \
                in metrics
            assert 'victor_tool_calls_total{tool="read"} 1.0' in metrics
            assert (await http.get("/nope")).status_code == 404
            assert (await http.get("/api/summary", params={"since": "x"})).status_code == 400
    finally:
        await dashboard.close()


async def test_websocket_sends_history_then_new_events(store: SqliteStore) -> None:
    analytics = AnalyticsCoordinator(store)
    first = analytics.record("session_start", "s1")
    await analytics.flush()
    dashboard = await Dashboard(store, port=0, poll_interval=0.05).start()
    try:
        async with connect(f"ws://127.0.0.1:{dashboard.port}/ws") as ws:
            snapshot = json.loads(await ws.recv())
            assert snapshot["kind"] == "snapshot"
            assert [e["id"] for e in snapshot["events"]] == [first.id]  # type: ignore[union-attr]
            # another writer of the same file: a separate connection, like another process
            other = await SqliteStore(store.path).open()
            writer = AnalyticsCoordinator(other)
            usage = writer.record("token_usage", "s1", model="claude-haiku-4-5",
                                  provider="anthropic", input_tokens=1_000_000,
                                  output_tokens=0)
            await writer.close()
            await other.close()
            update = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert update["kind"] == "events"
            assert [e["id"] for e in update["events"]] == [usage.id]  # type: ignore[union-attr]
            assert update["events"][0]["costUsd"] == 1.0
            assert update["summary"]["tokens"]["input"] == 1_000_000
    finally:
        await dashboard.close()


@asynccontextmanager
async def dashboard_process(workspace: Path, db: Path) -> AsyncIterator[str]:
    """``victor-server dashboard --port 0``; yields its URL (printed on stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "victor_server", "dashboard", "--port", "0", "--workspace",
        str(workspace), "--db", str(db), stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    try:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert found, line
        yield found.group(0)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 15) == 0


async def run_chat(workspace: Path, db: Path, message: str) -> None:
    env = {**os.environ, "VICTOR_PROVIDER": "scripted",
           "VICTOR_TOOL_SELECTION__STRATEGY": "keyword"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "victor_server", "chat", "--workspace", str(workspace), "--db",
        str(db), message, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL)
    assert await asyncio.wait_for(proc.wait(), 60) == 0


async def test_command_serves_beside_another_process(workspace: Path) -> None:
    db = workspace / ".victor" / "shared.db"
    async with dashboard_process(workspace, db) as url, \
            connect(url.replace("http", "ws") + "ws") as ws:
        assert json.loads(await ws.recv())["kind"] == "snapshot"
        await run_chat(workspace, db, "hello from elsewhere")
        update = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert update["summary"]["events"]["token_usage"] == 1
        async with httpx2.AsyncClient() as http:
            assert (await http.get(url + "api/summary")).json()["tokens"]["input"] > 0
            # ?since= takes what the CLI's --since takes: an age, an ISO date, epoch seconds
            day = (await http.get(url + "api/summary", params={"since": "24h"})).json()
            assert day["tokens"]["input"] > 0
            future = await http.get(url + "api/summary", params={"since": "2100-01-01"})
            assert future.json()["tokens"]["input"] == 0
