"""The core in-process, no server process: the ``Application`` every face calls, over a started
``AgentOrchestrator`` with a SQLite store in the workspace, the real Anthropic provider against
the loopback fake of the Messages API. Chat, sessions, and the errors every face answers with.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, error, last_user_text, system_text, text, tool_use
from in_process import core

from victor_server.app import Application
from victor_server.errors import (
    InvalidParams,
    MethodNotFound,
    ProviderUnavailable,
    SessionNotFound,
    VictorError,
)


@pytest.fixture
async def service(workspace: Path, fake: FakeAnthropic,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Application]:
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    async with core(workspace) as started:
        yield started


async def test_chat_streams_stores_and_titles_the_session(
        service: Application, fake: FakeAnthropic) -> None:
    fake.queue(text("Hello from the fake."))
    deltas: list[Any] = []
    result = await service.call("victor/chat", {"message": "Say hello\nsecond line"},
                                on_delta=lambda *args: deltas.append(args))
    assert result["content"] == "Hello from the fake." and result["stopReason"] == "end_turn"
    assert result["toolCalls"] == [] and result["usage"]["outputTokens"] > 0
    assert deltas  # streamed by default
    [request] = fake.requests
    assert last_user_text(request.body) == "Say hello\nsecond line"
    assert "You are Victor" in system_text(request.body)
    stored = await service.call("victor/session/get", {"sessionId": result["sessionId"]})
    assert stored["title"] == "Say hello"
    first = stored["messages"][0]
    assert (first["role"], first["content"]) == ("user", "Say hello\nsecond line")
    assert stored["messages"][-1]["role"] == "assistant"
    assert stored["messageCount"] == len(stored["messages"])


async def test_a_tool_call_runs_in_the_workspace_and_its_result_reaches_the_model(
        service: Application, fake: FakeAnthropic, workspace: Path) -> None:
    (workspace / "notes.txt").write_text("the answer is 42\n")
    fake.queue(tool_use("read", {"path": "notes.txt"}), text("It says 42."))
    result = await service.call("victor/chat", {"message": "read notes.txt",
                                                "stream": False})
    assert result["content"] == "It says 42."
    [call] = result["toolCalls"]
    assert (call["name"], call["input"], call["isError"]) == \
        ("read", {"path": "notes.txt"}, False)
    second = fake.requests[1].body["messages"]
    results = [b for b in second[-1]["content"] if b.get("type") == "tool_result"]
    assert results and "the answer is 42" in str(results[0]["content"])


async def test_a_second_turn_continues_the_same_session(
        service: Application, fake: FakeAnthropic) -> None:
    fake.queue(text("first answer"), text("second answer"))
    first = await service.call("victor/chat", {"message": "one", "stream": False})
    second = await service.call("victor/chat", {"message": "two", "stream": False,
                                                "sessionId": first["sessionId"]})
    assert second["sessionId"] == first["sessionId"]
    sent = fake.requests[1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert last_user_text(fake.requests[1].body) == "two"


async def test_sessions_create_list_and_delete(service: Application) -> None:
    created = [await service.call("victor/session/create", {"title": f"s{n}"})
               for n in range(3)]
    listed = await service.call("victor/session/list", {})
    assert {s["sessionId"] for s in listed["sessions"]} == {c["sessionId"] for c in created}
    page = await service.call("victor/session/list", {"limit": 2})
    assert len(page["sessions"]) == 2 and page["nextCursor"]
    rest = await service.call("victor/session/list", {"limit": 2, "cursor": page["nextCursor"]})
    assert len(rest["sessions"]) == 1 and "nextCursor" not in rest

    gone = created[0]["sessionId"]
    assert await service.call("victor/session/delete", {"sessionId": gone}) == {"deleted": True}
    listed = await service.call("victor/session/list", {})
    assert gone not in {s["sessionId"] for s in listed["sessions"]}
    with pytest.raises(SessionNotFound):
        await service.call("victor/session/delete", {"sessionId": gone})
    with pytest.raises(InvalidParams, match="sessionId"):  # a deleted id is never reused
        await service.call("victor/session/create", {"sessionId": gone})


async def error_of(service: Application, method: str, params: Any) -> dict[str, Any]:
    with pytest.raises(VictorError) as info:
        await service.call(method, params)
    payload = info.value.to_error_payload()
    assert "\n" not in payload["message"]  # one line, whatever went wrong
    return payload


async def test_bad_requests_get_the_contract_codes(service: Application,
                                                   fake: FakeAnthropic) -> None:
    assert (await error_of(service, "victor/nope", {}))["code"] == MethodNotFound.code
    empty = await error_of(service, "victor/chat", {"message": "  "})
    assert empty["code"] == -32602 and empty["data"] == {"field": "message"}
    wrong_type = await error_of(service, "victor/chat", {"message": 5})
    assert wrong_type["code"] == -32602 and wrong_type["data"] == {"field": "message"}
    assert (await error_of(service, "victor/session/list", [1]))["code"] == -32602
    missing = await error_of(service, "victor/session/get", {"sessionId": "no-such"})
    assert missing["code"] == -32001 and missing["data"] == {"sessionId": "no-such"}
    assert fake.requests == []  # none of these reached the model
    assert (await service.call("victor/session/list", {}))["sessions"] == []


async def test_provider_errors_are_32002_and_the_users_message_is_kept(
        service: Application, fake: FakeAnthropic) -> None:
    fake.queue(error(400, message="prompt is too long"))
    payload = await error_of(service, "victor/chat", {"message": "keep me", "stream": False,
                                                      "sessionId": "kept"})
    assert payload["code"] == ProviderUnavailable.code
    assert "HTTP 400" in payload["message"] and "prompt is too long" in payload["message"]
    stored = await service.call("victor/session/get", {"sessionId": "kept"})
    assert stored["messages"][0]["content"] == "keep me"


async def test_without_an_api_key_nothing_is_stored_and_the_advice_names_the_source(
        workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    async with core(workspace, "provider: anthropic\n") as service:
        payload = await error_of(service, "victor/chat", {"message": "hello"})
        assert payload["code"] == -32002
        assert "ANTHROPIC_API_KEY" in payload["message"]
        assert "change `provider: anthropic` in" in payload["message"]  # the file chose it
        assert (await service.call("victor/session/list", {}))["sessions"] == []


async def test_get_config_reports_sources_and_errors(workspace: Path) -> None:
    async with core(workspace, "max_tokens: 99\nprovder: x\n",
                    {"VICTOR_MODEL": "env-model"}) as service:
        result = await service.call("victor/getConfig", {})
    assert result["config"]["max_tokens"] == 99 and result["sources"]["max_tokens"] == "file"
    assert result["config"]["model"] == "env-model" and result["sources"]["model"] == "env"
    assert any("`provder`" in e and "did you mean `provider`" in e for e in result["errors"])
