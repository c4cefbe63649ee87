"""OpenAIProvider against the loopback fake: translation both ways, streaming, retries, errors."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any, cast

import pytest
from fake_openai import FakeOpenAI, cut_stream, error, stream_error, text, tool_calls

from victor_server.errors import ProviderUnavailable
from victor_server.providers import create_provider
from victor_server.providers.base import (
    LLMProvider,
    MessageComplete,
    ModelRequest,
    ProviderEvent,
    TextDelta,
    ToolUseStarted,
)
from victor_server.providers.openai import DEFAULT_BASE_URL, OpenAIProvider
from victor_server.providers.openai_messages import to_openai_messages
from victor_server.settings import Settings

READ_TOOL = {"name": "read_file", "description": "Read a file",
             "input_schema": {"type": "object", "properties": {"path": {"type": "string"}},
                              "required": ["path"]}}


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def provider(fake: FakeOpenAI) -> AsyncIterator[OpenAIProvider]:
    p = OpenAIProvider(base_url=fake.base_url)
    yield p
    await p.aclose()


def ask(text_: str = "hello", **kw: Any) -> ModelRequest:
    return ModelRequest(model="llama3.2", system="You are terse.",
                        messages=[{"role": "user", "content": text_}], **kw)


async def run(p: OpenAIProvider, request: ModelRequest) -> tuple[list[ProviderEvent],
                                                                 MessageComplete]:
    events = [e async for e in p.stream(request)]
    assert isinstance(events[-1], MessageComplete)
    assert sum(isinstance(e, MessageComplete) for e in events) == 1
    return events, events[-1]


# -- request translation ------------------------------------------------------------------------


async def test_request_translates_system_tools_and_tool_results(
        fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "read a.py"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Reading."},
            {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.py"}},
            {"type": "tool_use", "id": "toolu_2", "name": "read_file", "input": {"path": "b"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1",
             "content": [{"type": "text", "text": "print(1)"}]},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "no such file",
             "is_error": True},
            {"type": "text", "text": "and summarise"}]},
    ]
    request = ModelRequest(model="qwen2.5", system="Be kind.", messages=messages,
                           tools=[READ_TOOL], max_tokens=321, temperature=0.2)
    await run(provider, request)
    body = fake.last_request.body
    assert fake.last_request.path == "/v1/chat/completions"
    assert body["model"] == "qwen2.5" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 321 and body["temperature"] == 0.2
    assert body["messages"] == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "read a.py"},
        {"role": "assistant", "content": "Reading.", "tool_calls": [
            {"id": "toolu_1", "type": "function",
             "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}},
            {"id": "toolu_2", "type": "function",
             "function": {"name": "read_file", "arguments": '{"path": "b"}'}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "print(1)"},
        {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: no such file"},
        {"role": "user", "content": "and summarise"},
    ]
    assert body["tools"] == [{"type": "function", "function": {
        "name": "read_file", "description": "Read a file",
        "parameters": READ_TOOL["input_schema"]}}]


async def test_optional_fields_are_left_out(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    await run(provider, ModelRequest(model="m", system="", messages=[
        {"role": "user", "content": "hi"}]))
    body = fake.last_request.body
    assert "temperature" not in body and "tools" not in body
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert "authorization" not in fake.last_request.headers


def test_images_become_data_url_parts() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": "AAAA"}}
    out = to_openai_messages("", [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"}, image]}])
    assert out == [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]}]


async def test_api_key_is_sent_as_bearer_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI(api_key="sk-right") as fake:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-right")
        monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url + "/")
        ok = OpenAIProvider()
        _, done = await run(ok, ask())
        assert fake.last_request.bearer == "sk-right"
        assert done.content == [{"type": "text", "text": "echo: hello"}]
        await ok.aclose()

        wrong = OpenAIProvider(base_url=fake.base_url, api_key="sk-wrong-secret")
        with pytest.raises(ProviderUnavailable) as info:
            await run(wrong, ask())
        assert "OPENAI_API_KEY" in info.value.reason and "HTTP 401" in info.value.reason
        assert "sk-wrong-secret" not in str(info.value.to_error_payload())
        assert len(fake.requests) == 2  # a 401 is not retried
        await wrong.aclose()


def test_defaults_point_at_local_ollama(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    p = OpenAIProvider()
    assert p.base_url == DEFAULT_BASE_URL == "http://127.0.0.1:11434/v1"
    assert p.name == "openai" and isinstance(p, LLMProvider)


# -- streamed answers ---------------------------------------------------------------------------


async def test_text_streams_in_chunks_with_server_usage(
        fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.queue(text("Hello there, friend.", chunks=["Hel", "lo there", ", friend."]))
    events, done = await run(provider, ask())
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo there", ", friend."]
    assert done.content == [{"type": "text", "text": "Hello there, friend."}]
    assert done.stop_reason == "end_turn"
    assert fake.last_request.usage is not None
    assert (done.usage.input_tokens, done.usage.output_tokens) == fake.last_request.usage


async def test_tool_calls_round_trip(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    args = {"path": "src/app.py", "lines": [1, 20], "note": "ünïcode \"quoted\""}
    fake.queue(tool_calls(("read_file", args), ("grep", {"pattern": "def "}),
                          text_before="Let me look.", ids=("call_a", "call_b")),
               text("It defines main."))
    request = ask("what is in app.py?", tools=[READ_TOOL])
    events, done = await run(provider, request)
    assert [(e.id, e.name) for e in events if isinstance(e, ToolUseStarted)] == [
        ("call_a", "read_file"), ("call_b", "grep")]
    assert done.stop_reason == "tool_use"
    assert done.content == [
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "call_a", "name": "read_file", "input": args},
        {"type": "tool_use", "id": "call_b", "name": "grep", "input": {"pattern": "def "}}]

    results = [{"type": "tool_result", "tool_use_id": "call_a", "content": "def main(): ..."},
               {"type": "tool_result", "tool_use_id": "call_b", "content": "1 match"}]
    request.messages += [{"role": "assistant", "content": done.content},
                         {"role": "user", "content": results}]
    _, second = await run(provider, request)  # the fake 400s on an unmatched tool_call_id
    assert second.content == [{"type": "text", "text": "It defines main."}]
    sent = fake.last_request.body["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "tool", "tool"]
    assert json.loads(sent[2]["tool_calls"][0]["function"]["arguments"]) == args


async def test_missing_ids_and_stop_finish_still_mean_tool_use(
        fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    # Ollama-style: no call ids, finish_reason "stop" although tools were called.
    fake.queue(tool_calls(("a", {}), ("b", {"x": 1}), omit_ids=True, finish_reason="stop"))
    events, done = await run(provider, ask())
    ids = [b["id"] for b in done.content]
    assert len(set(ids)) == 2 and all(ids)
    assert [e.id for e in events if isinstance(e, ToolUseStarted)] == ids
    assert done.stop_reason == "tool_use"
    assert [b["input"] for b in done.content] == [{}, {"x": 1}]


async def test_malformed_arguments_reach_the_tool_raw(
        fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.queue(tool_calls(("read_file", '{"path": "a.py"')))
    _, done = await run(provider, ask())
    assert done.content[0]["input"] == {"_raw_arguments": '{"path": "a.py"'}


async def test_length_maps_to_max_tokens(fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.queue(text("cut short", finish_reason="length"))
    _, done = await run(provider, ask())
    assert done.stop_reason == "max_tokens"


async def test_usage_is_estimated_when_the_server_sends_none(
        fake: FakeOpenAI, provider: OpenAIProvider, caplog: pytest.LogCaptureFixture) -> None:
    fake.queue(text("no numbers here", send_usage=False))
    with caplog.at_level(logging.DEBUG, logger="victor_server.providers.openai"):
        _, done = await run(provider, ask())
    assert done.usage.input_tokens > 0 and done.usage.output_tokens > 0
    assert "no usage" in caplog.text


async def test_server_refusing_stream_options_is_asked_again_without(
        provider: OpenAIProvider) -> None:
    with FakeOpenAI(reject_stream_options=True) as strict:
        p = OpenAIProvider(base_url=strict.base_url)
        _, done = await run(p, ask())
        _, again = await run(p, ask())
        await p.aclose()
    assert done.content == again.content == [{"type": "text", "text": "echo: hello"}]
    assert [("stream_options" in r.body) for r in strict.requests] == [True, False, False]


# -- errors and retries -------------------------------------------------------------------------


async def test_retries_429_and_5xx_then_succeeds(fake: FakeOpenAI,
                                                 provider: OpenAIProvider) -> None:
    fake.queue(error(429, "slow down", retry_after=0), error(503, "loading model"), text("ok"))
    _, done = await run(provider, ask())
    assert done.content == [{"type": "text", "text": "ok"}]
    assert len(fake.requests) == 3


async def test_gives_up_after_max_retries(fake: FakeOpenAI) -> None:
    p = OpenAIProvider(base_url=fake.base_url, max_retries=1)
    fake.queue(error(500, "boom"), error(502, "still boom"), text("never"))
    with pytest.raises(ProviderUnavailable) as info:
        await run(p, ask())
    await p.aclose()
    assert len(fake.requests) == 2
    assert "HTTP 502" in info.value.reason and "still boom" in info.value.reason
    assert info.value.to_error_payload()["code"] == -32002


async def test_long_retry_after_fails_at_once(fake: FakeOpenAI,
                                              provider: OpenAIProvider) -> None:
    fake.queue(error(429, "quota", retry_after=3600))
    with pytest.raises(ProviderUnavailable, match="rate limited"):
        await run(provider, ask())
    assert len(fake.requests) == 1


@pytest.mark.parametrize(("status", "words"), [
    (404, ["base_url", "ollama pull llama3.2"]),
    (400, ["refused", "HTTP 400"]),
])
async def test_client_errors_are_explained_not_retried(
        fake: FakeOpenAI, provider: OpenAIProvider, status: int, words: list[str]) -> None:
    fake.queue(error(status, "model 'llama3.2' not found"))
    with pytest.raises(ProviderUnavailable) as info:
        await run(provider, ask())
    assert all(w in info.value.reason for w in words)
    assert len(fake.requests) == 1


async def test_connection_refused_says_what_to_check() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    p = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1", max_retries=1)
    with pytest.raises(ProviderUnavailable) as info:
        await run(p, ask())
    await p.aclose()
    assert info.value.reason == (f"cannot connect to http://127.0.0.1:{port}/v1: is the server "
                                 "running? set base_url (or OPENAI_BASE_URL)")


async def test_stream_cut_midway_raises_without_retry(
        fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.queue(cut_stream("partial answer"), text("not used"))
    seen: list[ProviderEvent] = []
    with pytest.raises(ProviderUnavailable, match="cut midway"):
        async for event in provider.stream(ask()):
            seen.append(event)
    assert "".join(e.text for e in seen if isinstance(e, TextDelta)) == "partial answer"
    assert len(fake.requests) == 1 and fake.pending == 1


async def test_stream_cut_before_any_output_is_retried(
        fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.queue(cut_stream(""), text("second try"))
    _, done = await run(provider, ask())
    assert done.content == [{"type": "text", "text": "second try"}]
    assert len(fake.requests) == 2


async def test_error_chunk_inside_the_stream(fake: FakeOpenAI,
                                             provider: OpenAIProvider) -> None:
    fake.queue(stream_error("CUDA out of memory", text_before="Sure"))
    with pytest.raises(ProviderUnavailable, match="CUDA out of memory"):
        await run(provider, ask())


async def test_count_tokens_is_unknown(provider: OpenAIProvider) -> None:
    assert await provider.count_tokens(ask()) is None


async def test_consumer_stopping_early_leaves_the_provider_usable(
        fake: FakeOpenAI, provider: OpenAIProvider) -> None:
    fake.queue(text("one two three four"), text("again"))
    stream = cast(AsyncGenerator[ProviderEvent, None], provider.stream(ask()))
    first = await anext(stream)
    assert first == TextDelta("one ")
    await stream.aclose()  # what a cancelled turn does
    _, done = await run(provider, ask())
    assert done.content == [{"type": "text", "text": "again"}]


async def test_config_reaches_the_constructor(fake: FakeOpenAI) -> None:
    settings = Settings.model_validate({
        "provider": "openai", "model": "llama3.2", "base_url": fake.base_url,
        "openai": {"api_key": "sk-from-config", "max_retries": 0}})
    p = create_provider(settings)
    assert isinstance(p, OpenAIProvider) and p.base_url == fake.base_url
    await run(p, ask())
    await p.aclose()
    assert fake.last_request.bearer == "sk-from-config"
