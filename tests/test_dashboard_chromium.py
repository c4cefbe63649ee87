"""The dashboard page in headless Chromium: it loads, goes live, and a chat run by another
process makes the charts update. Driven over the DevTools protocol (a WebSocket, no extra
packages). Skips when Chromium is not installed (Debian: ``apt-get install -y chromium``).

``VICTOR_UPDATE_SCREENSHOT=1`` also writes ``docs/screenshots/dashboard.png``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from test_dashboard import dashboard_process, run_chat
from websockets.asyncio.client import ClientConnection, connect

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium not installed (apt-get install -y chromium)")
SCREENSHOT = Path(__file__).parent.parent / "docs" / "screenshots" / "dashboard.png"


class Page:
    """Just enough of the DevTools protocol: evaluate JavaScript, take a screenshot."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.ws.recv())
            if message.get("id") == call_id:
                result: dict[str, Any] = message["result"]
                return result

    async def js(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for(self, expression: str, seconds: float = 30) -> Any:
        for _ in range(int(seconds / 0.1)):
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {expression}")


@asynccontextmanager
async def chromium(url: str, profile: Path) -> AsyncIterator[Page]:
    assert CHROMIUM is not None
    proc = subprocess.Popen(  # noqa: ASYNC220 - a browser launch, not awaited work
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
         "--remote-debugging-port=0", "--window-size=1280,860", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.1)
        port = port_file.read_text().split()[0]
        async with httpx2.AsyncClient() as http:
            for _ in range(100):
                targets = (await http.get(f"http://127.0.0.1:{port}/json")).json()
                pages = [t for t in targets if t["type"] == "page" and t["url"].startswith(url)]
                if pages:
                    break
                await asyncio.sleep(0.1)
        async with connect(pages[0]["webSocketDebuggerUrl"], max_size=2**25) as ws:
            yield Page(ws)
    finally:
        proc.terminate()
        proc.wait(timeout=15)


async def seed_history(db: Path) -> None:
    """Ten minutes of earlier traffic on priced models, so the charts start with a history."""
    import time

    from victor_server.analytics import AnalyticsCoordinator
    from victor_server.store import SqliteStore

    store = await SqliteStore(db).open()
    analytics = AnalyticsCoordinator(store)
    start = time.time() - 600
    tools = ["read", "search", "read", "edit", "ls", "read", "search", "write"]
    for i in range(24):
        model = "claude-haiku-4-5" if i % 3 else "claude-sonnet-4-5"
        sid = f"earlier-{i // 6}"
        for event in (analytics.record("token_usage", sid, model=model, provider="anthropic",
                                       input_tokens=2_000 + 350 * i, output_tokens=180 + 40 * i),
                      analytics.record("tool_call", sid, name=tools[i % len(tools)])):
            assert event is not None
            event.timestamp = start + 24 * i
    await analytics.close()
    await store.close()


async def test_page_loads_and_updates_when_another_process_chats(workspace: Path,
                                                                 tmp_path: Path) -> None:
    db = workspace / ".victor" / "victor.db"
    await seed_history(db)
    async with dashboard_process(workspace, db) as url, \
            chromium(url, tmp_path / "profile") as page:
        await page.wait_for("document.getElementById('status').textContent === 'live'")
        assert await page.js("document.title") == "victor-server analytics"
        before = await page.wait_for("document.getElementById('tokens-total').textContent")
        updates = await page.js("window.victorUpdates || 0")
        await run_chat(workspace, db, "hello from another process")
        await run_chat(workspace, db, "/tool ls {}")
        async with httpx2.AsyncClient() as http:
            summary = (await http.get(url + "api/summary")).json()
        assert summary["events"]["chat_request"] == 2
        total = f"{summary['tokens']['total']:,}"
        await page.wait_for(f"document.getElementById('tokens-total').textContent === '{total}'")
        assert total != before
        assert await page.js("window.victorUpdates || 0") > updates
        assert await page.js("document.querySelectorAll('#chart-tokens path').length") == 2
        assert await page.wait_for("document.querySelector('#chart-tools rect[data-tool=\"ls\"]')"
                                   " !== null")
        shot = await page.send("Page.captureScreenshot", format="png")
        png = __import__("base64").b64decode(shot["data"])
        assert png.startswith(b"\x89PNG")
        (tmp_path / "dashboard.png").write_bytes(png)
        if os.environ.get("VICTOR_UPDATE_SCREENSHOT"):
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            SCREENSHOT.write_bytes(png)
