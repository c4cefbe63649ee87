"""The LSP face end to end: the real server over stdio, the real anthropic SDK, a loopback
fake of the Messages API."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, error, slow_text, system_text, text, tool_use
from lsp_harness import lsp_server
from lsprotocol import types
from pygls.exceptions import JsonRpcException


async def test_initialize_lists_custom_methods(workspace: Path) -> None:
    async with lsp_server(workspace) as victor:
        experimental = victor.initialize_result.capabilities.experimental
        assert "victor/chat" in experimental["victor"]["methods"]
        assert "victor/analytics/summary" in experimental["victor"]["methods"]


async def test_chat_streams_stores_and_counts_usage(workspace: Path, fake: FakeAnthropic) -> None:
    (workspace / ".victor" / "standards.md").write_text("Always write type hints.")
    (workspace / "AGENTS.md").write_text("Run make test before you finish.")
    fake.queue(text("Hello from the fake model", output_tokens=7))
    async with lsp_server(workspace, fake.env()) as victor:
        result = await victor.request("victor/chat", {"message": "hi there"})
        assert result["content"] == "Hello from the fake model"
        assert result["stopReason"] == "end_turn"
        assert victor.stream_text == "Hello from the fake model"
        assert {d["sessionId"] for d in victor.deltas} == {result["sessionId"]}
        sent = fake.message_requests[-1].body
        assert "Always write type hints." in system_text(sent)
        assert "Run make test before you finish." in system_text(sent)
        assert "temperature" not in sent
        reported_in = fake.message_requests[-1].usage[0]
        assert result["usage"] == {"inputTokens": reported_in, "outputTokens": 7,
                                   "totalTokens": reported_in + 7, "cacheReadTokens": 0,
                                   "cacheWriteTokens": 0}
        session = await victor.request("victor/session/get", {"sessionId": result["sessionId"]})
        assert [m["role"] for m in session["messages"]] == ["user", "assistant"]
        assert session["usage"]["totalTokens"] == reported_in + 7


async def test_history_across_turns_and_restart(workspace: Path, fake: FakeAnthropic) -> None:
    async with lsp_server(workspace, fake.env()) as victor:
        first = await victor.request("victor/chat", {"message": "remember the word walrus"})
        sid = first["sessionId"]
        await victor.request("victor/chat", {"message": "what was the word?", "sessionId": sid})
        texts = json.dumps(fake.message_requests[-1].body["messages"])
        assert "walrus" in texts
    async with lsp_server(workspace, fake.env()) as victor:  # a new process, same store
        await victor.request("victor/chat", {"message": "and again?", "sessionId": sid})
        messages = fake.message_requests[-1].body["messages"]
        assert len(messages) == 5
        assert "walrus" in json.dumps(messages)
        listed = await victor.request("victor/session/list", {})
        assert sid in [s["sessionId"] for s in listed["sessions"]]


async def test_tool_use_loop(workspace: Path, fake: FakeAnthropic) -> None:
    (workspace / "notes.txt").write_text("the answer is 42\n")
    fake.queue(tool_use("read", {"path": "notes.txt"}), text("It says 42."))
    async with lsp_server(workspace, fake.env()) as victor:
        result = await victor.request("victor/chat", {"message": "what is in notes.txt?"})
        assert result["content"] == "It says 42."
        assert [(c["name"], c["isError"]) for c in result["toolCalls"]] == [("read", False)]
        statuses = [t["status"] for t in victor.tool_calls]
        assert statuses == ["pending", "running", "completed"]
        tool_result = fake.message_requests[-1].body["messages"][-1]["content"][0]
        assert tool_result["type"] == "tool_result"
        assert "the answer is 42" in json.dumps(tool_result["content"])


async def test_tool_error_goes_back_to_model(workspace: Path, fake: FakeAnthropic) -> None:
    fake.queue(tool_use("read", {"path": "../../etc/passwd"}), text("Cannot read that."))
    async with lsp_server(workspace, fake.env()) as victor:
        result = await victor.request("victor/chat", {"message": "read the password file"})
        assert result["toolCalls"][0]["isError"] is True
        block = fake.message_requests[-1].body["messages"][-1]["content"][0]
        assert block["is_error"] is True
        assert result["content"] == "Cannot read that."


async def test_no_api_key_chat_is_32002_and_rest_works(workspace: Path) -> None:
    async with lsp_server(workspace) as victor:
        with pytest.raises(JsonRpcException) as caught:
            await victor.request("victor/chat", {"message": "hello"})
        assert caught.value.code == -32002
        assert "ANTHROPIC_API_KEY" in caught.value.data["reason"]
        prompt = await victor.request("victor/buildPrompt", {"context": {"language": "fr"}})
        assert "French" in prompt["systemPrompt"]
        # refused before anything was stored: no session left behind, empty or not
        assert (await victor.request("victor/session/list", {}))["sessions"] == []


@pytest.mark.parametrize("status,kind", [(429, "rate_limit_error"), (529, "overloaded_error"),
                                         (500, "api_error")])
async def test_provider_errors_are_32002(workspace: Path, fake: FakeAnthropic, status: int,
                                          kind: str) -> None:
    fake.queue(*[error(status, kind, "try later", retry_after=0)] * 3)
    async with lsp_server(workspace, fake.env()) as victor:
        with pytest.raises(JsonRpcException) as caught:
            await victor.request("victor/chat", {"message": "hello"})
        assert caught.value.code == -32002
        assert str(status) in caught.value.data["reason"]
        summary = await victor.request("victor/analytics/summary", {})
        assert summary["events"]["error"] == 1
        # the server is still serving and the next turn works
        result = await victor.request("victor/chat", {"message": "again"})
        assert result["content"] == "echo: again"


async def test_error_codes(workspace: Path, fake: FakeAnthropic) -> None:
    async with lsp_server(workspace, fake.env()) as victor:
        with pytest.raises(JsonRpcException) as caught:
            await victor.request("victor/session/get", {"sessionId": "nope"})
        assert caught.value.code == -32001 and caught.value.data == {"sessionId": "nope"}
        with pytest.raises(JsonRpcException) as caught:
            await victor.request("victor/chat", {"message": 42})
        assert caught.value.code == -32602 and caught.value.data["field"] == "message"
        with pytest.raises(JsonRpcException) as caught:
            await victor.request("victor/compactContext", {"sessionId": "x", "targetRatio": 2})
        assert caught.value.code == -32602 and caught.value.data["field"] == "targetRatio"
        with pytest.raises(JsonRpcException) as caught:
            await victor.request("victor/noSuchMethod", {})
        assert caught.value.code == -32601
        assert (await victor.request("victor/chat", {"message": "still alive"}))["content"]


async def test_config_precedence_and_sources(workspace: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text(
        "model: from-file\nmax_tokens: 1000\ntool_selection: {max_tools: 3}\n")
    env = {"VICTOR_MODEL": "from-env", "VICTOR_CONTEXT_WINDOW": "50000",
           "VICTOR_TOOL_SELECTION__STRATEGY": "keyword"}
    async with lsp_server(workspace, env) as victor:
        result = await victor.request("victor/getConfig", {})
        config, sources = result["config"], result["sources"]
        assert (config["model"], sources["model"]) == ("from-file", "file")
        assert (config["context_window"], sources["context_window"]) == (50000, "env")
        assert sources["tool_selection.strategy"] == "env"
        assert sources["tool_selection.max_tools"] == "file"
        assert sources["provider"] == "default"
        # hot reload: the file changes, the next request sees it
        (workspace / ".victor" / "config.yml").write_text("model: edited\n")
        result = await victor.request("victor/getConfig", {})
        assert result["config"]["model"] == "edited"


async def test_invalid_config_names_file_and_key(workspace: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text("max_tokens: -5\nmodel: ok-model\n")
    async with lsp_server(workspace) as victor:
        result = await victor.request("victor/getConfig", {})
        assert result["config"]["max_tokens"] == 4096
        assert result["config"]["model"] == "ok-model"
        assert any("max_tokens" in e and "config.yml" in e for e in result["errors"])


async def test_cancel_returns_partial_content(workspace: Path, fake: FakeAnthropic) -> None:
    fake.queue(slow_text(["one ", "two ", "three ", "four ", "five "] * 10, delay=0.1))
    async with lsp_server(workspace, fake.env()) as victor:
        future = victor.send("victor/chat", {"message": "count slowly"})
        while not victor.deltas:  # noqa: ASYNC110 - filled by the client's notification handler
            await asyncio.sleep(0.02)
        victor.client.protocol.notify("$/cancelRequest",
                                      types.CancelParams(id=_last_request_id(victor)))
        result = await asyncio.wait_for(asyncio.wrap_future(future), 10)
        assert result["stopReason"] == "cancelled"
        assert result["content"].startswith("one")
        session = await victor.request("victor/session/get", {"sessionId": result["sessionId"]})
        assert session["messages"][-1]["role"] == "assistant"
        assert session["messages"][-1]["complete"] is False
        follow = await victor.request("victor/chat", {"message": "ok",
                                                      "sessionId": result["sessionId"]})
        assert follow["content"] == "echo: ok"


def _last_request_id(victor: object) -> object:
    futures = victor.client.protocol._request_futures  # type: ignore[attr-defined]
    return list(futures)[-1]


async def test_garbage_frames_do_not_stop_the_server(workspace: Path) -> None:
    async with lsp_server(workspace) as victor:
        transport = victor.client.protocol.writer
        for body in [b"{not json", b'{"jsonrpc": "2.0", "id": 99, "method": 5}', b"[]"]:
            transport.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await asyncio.sleep(0.3)
        listed = await victor.request("victor/session/list", {})
        assert listed == {"sessions": []}


async def test_execute_command_and_sessions(workspace: Path, fake: FakeAnthropic) -> None:
    async with lsp_server(workspace, fake.env()) as victor:
        result = await victor.request("workspace/executeCommand", types.ExecuteCommandParams(
            command="victor.chat", arguments=[{"message": "via command"}]))
        assert result["content"] == "echo: via command"
        created = await victor.request("victor/session/create", {"sessionId": "mine",
                                                                 "title": "T"})
        assert created["sessionId"] == "mine" and created["messageCount"] == 0
        deleted = await victor.request("victor/session/delete", {"sessionId": "mine"})
        assert deleted == {"deleted": True}
        with pytest.raises(JsonRpcException) as caught:
            await victor.request("victor/session/create", {"sessionId": "mine"})
        assert caught.value.code == -32602


async def test_api_key_never_stored(workspace: Path, fake: FakeAnthropic) -> None:
    env = fake.env(api_key="sk-ant-very-secret-key-123")
    async with lsp_server(workspace, {**env, "VICTOR_LOG_LEVEL": "debug"}, ["-vv"]) as victor:
        await victor.request("victor/chat", {"message": "hello"})
        config = await victor.request("victor/getConfig", {})
        assert "very-secret" not in json.dumps(config)
    raw = b"".join(p.read_bytes() for p in (workspace / ".victor").glob("victor.db*"))
    assert b"very-secret" not in raw
    db = sqlite3.connect(workspace / ".victor" / "victor.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


async def test_empty_array_params_are_no_params(workspace: Path) -> None:
    # Neovim encodes an empty Lua table as `[]`; every method without required params takes it
    async with lsp_server(workspace, {"VICTOR_PROVIDER": "scripted"}) as victor:
        assert await victor.request("victor/session/list", []) == {"sessions": []}
        config = await victor.request("victor/getConfig", [])
        assert config["config"]["provider"] == "scripted"
        summary = await victor.request("victor/analytics/summary", [])
        assert summary["sessions"] == 0
        with pytest.raises(JsonRpcException) as listed_params:
            await victor.request("victor/session/list", [1])
        assert listed_params.value.code == -32602
