"""Analytics through the real ``victor-server lsp`` process: the provider's own usage numbers
end up in the summary, exporters configured in the project file receive events, and SIGTERM
flushes what is still buffered."""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from analytics_sink import HttpSink
from fake_anthropic import FakeAnthropic, text, tool_use
from lsp_harness import lsp_server, server_env


async def test_token_totals_equal_what_the_api_reported(workspace: Path,
                                                        fake: FakeAnthropic) -> None:
    (workspace / "notes.txt").write_text("forty-two\n")
    fake.queue(tool_use("read", {"path": "notes.txt"}), text("It says forty-two.", output_tokens=9),
               text("You are welcome.", output_tokens=4))
    async with lsp_server(workspace, fake.env()) as victor:
        first = await victor.request("victor/chat", {"message": "what is in notes.txt?"})
        await victor.request("victor/chat", {"message": "thanks", "sessionId": first["sessionId"]})
        summary = await victor.request("victor/analytics/summary", {})
        reported_in, reported_out = fake.total_usage()
        assert len(fake.message_requests) == 3
        assert summary["tokens"] == {"input": reported_in, "output": reported_out,
                                     "total": reported_in + reported_out,
                                     "cacheRead": 0, "cacheWrite": 0}
        assert summary["events"]["token_usage"] == 3
        assert summary["toolCalls"] == {"read": 1}
        model = fake.message_requests[-1].body["model"]
        assert summary["models"] == {model: {"input": reported_in, "output": reported_out,
                                             "cacheRead": 0, "cacheWrite": 0}}
        assert summary["cost"]["usd"] > 0
        per_session = await victor.request("victor/analytics/summary",
                                           {"sessionId": first["sessionId"]})
        assert per_session["tokens"] == summary["tokens"]


async def test_configured_webhook_and_pushgateway_receive_events(workspace: Path,
                                                                 fake: FakeAnthropic) -> None:
    with HttpSink() as hook, HttpSink() as gateway:
        (workspace / ".victor" / "config.yml").write_text(json.dumps({"analytics": {"exporters": [
            "sqlite", {"webhook": {"url": hook.url + "/events", "headers": {"X-Key": "k"}}},
            {"prometheus": {"pushgateway": gateway.url, "job": "victor"}}]}}))
        async with lsp_server(workspace, fake.env()) as victor:
            await victor.request("victor/chat", {"message": "hello"})
        # shutdown flushed the buffer and waited for the deliveries
        posted = [e for r in hook.received for e in r.json()]
        assert hook.received[0].headers["X-Key"] == "k"
        usage = next(e for e in posted if e["type"] == "token_usage")
        assert (usage["data"]["input_tokens"], usage["data"]["output_tokens"]) == \
            fake.total_usage()
        assert {"session_start", "chat_request", "token_usage"} <= {e["type"] for e in posted}
        pushed = gateway.received[-1]
        assert pushed.path == "/metrics/job/victor"
        assert f'victor_tokens_total{{direction="input",model="claude-sonnet-4-5"}} ' \
               f'{float(fake.total_usage()[0])}' in pushed.body.decode()


async def _frame(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    body = json.dumps(message).encode()
    writer.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()


async def _read(reader: asyncio.StreamReader, want_id: int) -> dict[str, Any]:
    while True:
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        message: dict[str, Any] = json.loads(await reader.readexactly(length))
        if message.get("id") == want_id:
            return message


def _stored_types(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT type FROM analytics_events")]


async def test_sigterm_flushes_the_buffer(workspace: Path) -> None:
    db = workspace / ".victor" / "victor.db"
    env = server_env({"VICTOR_PROVIDER": "scripted",
                      "VICTOR_ANALYTICS_EXPORT_INTERVAL": "3600"})  # no periodic flush
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "victor_server", "lsp", "--workspace", str(workspace),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    await _frame(proc.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                              "params": {"capabilities": {}, "rootUri": workspace.as_uri()}})
    await _read(proc.stdout, 1)
    await _frame(proc.stdin, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
    await _frame(proc.stdin, {"jsonrpc": "2.0", "id": 2, "method": "victor/chat",
                              "params": {"message": "hello"}})
    reply = await asyncio.wait_for(_read(proc.stdout, 2), 60)
    assert reply["result"]["usage"]["inputTokens"] > 0
    assert "token_usage" not in _stored_types(db)  # still in the buffer
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 30) == 0
    assert {"session_start", "chat_request", "token_usage"} <= set(_stored_types(db))
