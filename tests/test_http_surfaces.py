"""The HTTP surfaces (dashboard, ``mcp --http``, the WebSocket exporter) refuse forged Host
headers (421), foreign Origins (403, on HTTP and on the WebSocket handshake) and missing or
wrong tokens (401); a tenant's token sees only that tenant on every dashboard route and on the
live feed; nothing listens beyond loopback without a token, and a dashboard that cannot listen
says so in one line and exits. Servers bind 127.0.0.1 only: the non-loopback cases are
refusals, which happen before anything is bound.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2 as httpx
import pytest
from mcp_face_harness import free_port
from server_env import server_env
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from victor_server.analytics import AnalyticsCoordinator
from victor_server.analytics.dashboard import Dashboard
from victor_server.analytics.events import AnalyticsEvent
from victor_server.analytics.exporters import WebSocketExporter
from victor_server.http_guard import HttpGuard, HttpSetupError
from victor_server.store import SqliteStore

OPERATOR = "operator-token-0123456789abcdef"
ACME, GLOBEX = "acme token, with space", "globex-token-9876"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore(tmp_path / "victor.db").open()
    analytics = AnalyticsCoordinator(opened)
    analytics.record("session_start", "acme:a1", "acme")
    analytics.record("token_usage", "acme:a1", "acme", model="claude-haiku-4-5",
                     input_tokens=10, output_tokens=1)
    analytics.record("session_start", "globex:g1", "globex")
    analytics.record("token_usage", "globex:g1", "globex", model="claude-haiku-4-5",
                     input_tokens=5000, output_tokens=7)
    await analytics.flush()
    yield opened
    await opened.close()


async def test_dashboard_refuses_forged_host_and_foreign_origin(store: SqliteStore) -> None:
    dashboard = await Dashboard(store, port=0).start()
    base = f"http://127.0.0.1:{dashboard.port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for path in ("/", "/api/summary", "/metrics", "/ws"):
                rebound = await http.get(path, headers={"Host": f"evil.example:{dashboard.port}"})
                assert rebound.status_code == 421, path
                foreign = await http.get(path, headers={"Origin": "http://evil.example"})
                assert foreign.status_code == 403, path
            assert (await http.get("/api/summary")).status_code == 200  # no Origin: a tool
            same = await http.get("/api/summary", headers={
                "Origin": base, "Host": f"localhost:{dashboard.port}"})
            assert same.status_code == 200
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{dashboard.port}/ws",
                               origin="http://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        async with connect(f"ws://127.0.0.1:{dashboard.port}/ws",
                           origin=base) as ws:  # type: ignore[arg-type]
            assert json.loads(await ws.recv())["kind"] == "snapshot"
    finally:
        await dashboard.close()


async def test_dashboard_token_and_tenant_view(store: SqliteStore) -> None:
    guard = HttpGuard(0, token=OPERATOR, tenant_tokens={ACME: "acme", GLOBEX: "globex"})
    dashboard = await Dashboard(store, port=0, poll_interval=0.05, guard=guard).start()
    base = f"http://127.0.0.1:{dashboard.port}"
    ws_url = f"ws://127.0.0.1:{dashboard.port}/ws"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for token in (None, "wrong-token", OPERATOR[:-1]):
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                for path in ("/", "/api/summary", "/metrics", "/ws"):
                    assert (await http.get(path, headers=headers)).status_code == 401
            everyone = (await http.get("/api/summary", headers=bearer(OPERATOR))).json()
            assert everyone["tokens"]["input"] == 5010
            acme = (await http.get("/api/summary", headers=bearer(ACME))).json()
            assert acme["tokens"]["input"] == 10 and acme["sessions"] == 1
            hidden = await http.get("/api/summary", params={"session": "globex:g1"},
                                    headers=bearer(ACME))
            assert hidden.status_code == 404
            metrics = (await http.get("/metrics", headers=bearer(ACME))).text
            assert "5000" not in metrics and "victor_tokens_total" in metrics
            # a browser opens /?token= once; the cookie then carries it, the URL does not
            opened = await http.get("/", params={"token": ACME})
            assert opened.status_code == 303 and opened.headers["location"] == "/"
            cookie = opened.headers["set-cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
            page = await http.get("/")  # httpx kept the cookie
            assert page.status_code == 200 and "<svg" in page.text
            cookie_header = "victor_token=" + cookie.split("victor_token=")[1].split(";")[0]

        async with connect(ws_url, additional_headers=bearer(OPERATOR)) as operator, \
                connect(ws_url, additional_headers={"Cookie": cookie_header}) as tenant:
            seen = json.loads(await tenant.recv())
            assert {e["tenant_id"] for e in seen["events"]} == {"acme"}
            assert "globex" not in json.dumps(seen)
            assert len(json.loads(await operator.recv())["events"]) == 4
            await record_elsewhere(store, ("globex:g1", "globex"), ("acme:a1", "acme"))
            update = json.loads(await asyncio.wait_for(tenant.recv(), 10))
            assert [e["tenant_id"] for e in update["events"]] == ["acme"]
            assert "globex" not in json.dumps(update)
            both = json.loads(await asyncio.wait_for(operator.recv(), 10))
            assert {e["tenant_id"] for e in both["events"]} == {"acme", "globex"}
    finally:
        await dashboard.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def record_elsewhere(store: SqliteStore, *sessions: tuple[str, str]) -> None:
    """Events from another writer of the same file, as another process would."""
    other = await SqliteStore(store.path).open()
    writer = AnalyticsCoordinator(other)
    for session, tenant in sessions:
        writer.record("tool_call", session, tenant, name="read")
    await writer.close()
    await other.close()


def test_guard_refuses_a_wide_bind_without_a_token() -> None:
    for host in ("0.0.0.0", "::", "192.0.2.7", "victor.example.com"):
        with pytest.raises(HttpSetupError, match="--token-file"):
            HttpGuard(8765, host)
    wide = HttpGuard(8765, "0.0.0.0", token=OPERATOR, extra_hosts=["victor.example.com"])
    assert wide.host_ok("victor.example.com") and wide.host_ok("victor.example.com:8765")
    assert not wide.host_ok("0.0.0.0:8765") and not wide.host_ok("evil.example")
    assert wide.origin_ok("https://victor.example.com") and not wide.origin_ok("null")
    more = HttpGuard(8765, extra_origins=["https://ops.example.com/"])
    assert more.origin_ok("https://ops.example.com") and more.origin_ok("http://localhost:8765")
    assert not more.origin_ok("https://ops.example.com.evil.example")
    assert isinstance(wide.check({"host": "localhost:8765"}), tuple)  # token still needed


def run_cli(*args: str, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "victor_server", *args], capture_output=True,
                          text=True, env=server_env(env), timeout=60, check=False,
                          cwd=str(cwd) if cwd else None)


@pytest.mark.parametrize("command", [["dashboard"], ["mcp", "--http"]])
def test_wide_bind_without_token_is_one_line_exit_2(workspace: Path,
                                                   command: list[str]) -> None:
    result = run_cli(*command, "--host", "0.0.0.0", "--workspace", str(workspace))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--token-file" in lines[0] and "VICTOR_HTTP_TOKEN" in lines[0]


def test_token_file_readable_by_others_is_refused(workspace: Path, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(OPERATOR)
    token_file.chmod(0o644)
    result = run_cli("dashboard", "--host", "0.0.0.0", "--token-file", str(token_file),
                     "--workspace", str(workspace))
    assert result.returncode == 2 and "chmod 600" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_dashboard_that_cannot_listen_exits_with_one_line(workspace: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli("dashboard", "--port", str(port), "--workspace", str(workspace))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot listen" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["dashboard"], ["mcp", "--http"]])
def test_port_out_of_range_is_one_line_exit_2(workspace: Path, command: list[str]) -> None:
    result = run_cli(*command, "--port", "99999", "--workspace", str(workspace))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "0 to 65535" in lines[0], result.stderr


def test_mcp_http_guard(workspace: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {"VICTOR_HTTP_TOKEN": OPERATOR}
    proc = subprocess.Popen([sys.executable, "-m", "victor_server", "mcp", "--http", "--port",
                             str(port), "--workspace", str(workspace), "--db",
                             str(tmp_path / "v.db")], env=server_env(env),
                            stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}}}
    headers = {"Accept": "application/json, text/event-stream",
               "Content-Type": "application/json"}
    try:
        with httpx.Client(timeout=30) as http:
            for _ in range(600):
                try:
                    http.get(url)
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert (http.post(url, json=init, headers=headers)).status_code == 401
            wrong = {**headers, "Authorization": "Bearer not-it"}
            assert (http.post(url, json=init, headers=wrong)).status_code == 401
            good = {**headers, **bearer(OPERATOR)}
            rebound = http.post(url, json=init, headers={**good, "Host": "evil.example"})
            assert rebound.status_code == 421
            foreign = http.post(url, json=init,
                                      headers={**good, "Origin": "http://evil.example"})
            assert foreign.status_code == 403
            answered = http.post(url, json=init, headers=good)
            assert answered.status_code == 200 and "protocolVersion" in answered.text
    finally:
        proc.terminate()
        proc.wait(15)
        assert proc.stderr is not None
        assert OPERATOR not in proc.stderr.read().decode()


async def test_websocket_exporter_checks_origin_host_and_token() -> None:
    live = WebSocketExporter(port=0)
    await live.start()
    try:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{live.port}",
                               origin="http://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        async with httpx.AsyncClient() as http:
            rebound = await http.get(f"http://127.0.0.1:{live.port}/",
                                     headers={"Host": "evil.example"})
            assert rebound.status_code == 421
    finally:
        await live.close()
    with pytest.raises(HttpSetupError):
        WebSocketExporter(host="0.0.0.0", port=0)


async def test_websocket_exporter_with_a_token(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(OPERATOR + "\n")
    token_file.chmod(0o600)
    live = WebSocketExporter(port=0, token_file=str(token_file))
    await live.start()
    events = [AnalyticsEvent("error", "s", None, {"code": -32002})]
    try:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{live.port}"):
                pass
        assert refused.value.response.status_code == 401
        async with connect(f"ws://127.0.0.1:{live.port}",
                           additional_headers=bearer(OPERATOR)) as client:
            for _ in range(500):
                if live.clients:
                    break
                await asyncio.sleep(0.01)
            await live.export(events)
            assert json.loads(await client.recv()) == [events[0].to_json()]
    finally:
        await live.close()
