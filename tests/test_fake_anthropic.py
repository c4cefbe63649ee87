"""The loopback Anthropic fake, checked against the real ``anthropic`` SDK.

Every other suite trusts this fake to behave like the API as the SDK sees it, so each test here
drives the real SDK client (or raw httpx2 for the wire format) at a running fake.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest
from fake_anthropic import (
    FakeAnthropic,
    count_input_tokens,
    cut_stream,
    error,
    reply_from_json,
    slow_text,
    stream_error,
    text,
    tool_use,
    tool_uses,
)

MODEL = "claude-fake-1"
HELLO: list[Any] = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as f:
        yield f


@pytest.fixture
async def client(fake: FakeAnthropic) -> AsyncIterator[anthropic.AsyncAnthropic]:
    c = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test-key", max_retries=0)
    yield c
    await c.close()


async def test_create_echoes_last_user_message_with_rule_based_usage(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    msg = await client.messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    assert msg.content[0].type == "text" and msg.content[0].text == "echo: hello there"
    assert msg.stop_reason == "end_turn" and msg.model == MODEL
    body = fake.last_request.body
    assert msg.usage.input_tokens == count_input_tokens(body)
    assert msg.usage.output_tokens == math.ceil(len("echo: hello there") / 4)
    assert fake.total_usage() == (msg.usage.input_tokens, msg.usage.output_tokens)
    assert fake.last_request.api_key == "test-key"
    assert "anthropic-version" in fake.last_request.headers


async def test_scripted_replies_are_consumed_in_order_then_echo(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.queue(text("one", input_tokens=7, output_tokens=3), text("two"))
    got = []
    for _ in range(3):
        m = await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
        assert m.content[0].type == "text"
        got.append((m.content[0].text, m.usage.output_tokens))
    assert got[:2] == [("one", 3), ("two", 1)]
    assert got[2][0] == "echo: hello there"
    assert fake.message_requests[0].usage == (7, 3)
    assert fake.pending == 0


async def test_stream_text_wire_format(fake: FakeAnthropic) -> None:
    body = {"model": MODEL, "max_tokens": 8, "messages": HELLO, "stream": True}
    fake.queue(text("alpha beta gamma"))
    async with (
        httpx2.AsyncClient() as http,
        http.stream(
            "POST", f"{fake.base_url}/v1/messages", json=body, headers={"x-api-key": "k"}
        ) as resp,
    ):
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["request-id"].startswith("req_")
        raw = (await resp.aread()).decode()
    events = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]
    names = [line[7:] for line in raw.splitlines() if line.startswith("event: ")]
    assert names == [e["type"] for e in events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-4:] == [
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    deltas = [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"]
    assert "".join(deltas) == "alpha beta gamma" and len(deltas) == 3
    assert events[0]["message"]["usage"]["input_tokens"] == count_input_tokens(body)
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    assert events[-2]["usage"]["output_tokens"] == math.ceil(len("alpha beta gamma") / 4)


async def test_stream_tool_use_final_message_has_parsed_input(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    args = {"path": "src/app.py", "lines": [1, 2, 3], "note": "x" * 40}
    fake.queue(tool_use("read_file", args, id="toolu_1", text_before="Reading."))
    partials: list[str] = []
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        async for event in stream:
            if event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                partials.append(event.delta.partial_json)
        final = await stream.get_final_message()
    assert len(partials) > 2 and json.loads("".join(partials)) == args
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use"]
    call = final.content[1]
    assert call.type == "tool_use" and call.id == "toolu_1" and call.name == "read_file"
    assert call.input == args


async def test_stream_thinking_and_parallel_tools(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.queue(text("answer", thinking="let me think"), tool_uses(("a", {}), ("b", {"q": 1})))
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        final = await stream.get_final_message()
    thought = final.content[0]
    assert thought.type == "thinking" and thought.thinking == "let me think"
    assert thought.signature == FakeAnthropic.SIGNATURE
    async with client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        final = await stream.get_final_message()
    ids = [b.id for b in final.content if b.type == "tool_use"]
    assert len(ids) == 2 and len(set(ids)) == 2


async def test_count_tokens_matches_rule_and_does_not_consume_queue(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.queue(text("kept"))
    tools: list[Any] = [{"name": "t", "description": "d", "input_schema": {"type": "object"}}]
    counted = await client.messages.count_tokens(
        model=MODEL, system="be brief", messages=HELLO, tools=tools
    )
    body = fake.requests[-1].body
    assert fake.requests[-1].path == "/v1/messages/count_tokens"
    assert counted.input_tokens == count_input_tokens(body)
    assert counted.input_tokens > count_input_tokens({"messages": HELLO})
    assert fake.pending == 1


@pytest.mark.parametrize(
    ("status", "exc_type"),
    [
        (429, anthropic.RateLimitError),
        (529, anthropic.InternalServerError),
        (500, anthropic.InternalServerError),
        (401, anthropic.AuthenticationError),
    ],
)
async def test_errors_become_typed_sdk_errors(
    fake: FakeAnthropic,
    client: anthropic.AsyncAnthropic,
    status: int,
    exc_type: type[anthropic.APIStatusError],
) -> None:
    fake.queue(error(status, retry_after=3))
    with pytest.raises(exc_type) as info:
        await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert info.value.status_code == status
    assert info.value.response.headers["retry-after"] == "3"
    expected = {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error"}
    assert isinstance(info.value.body, dict)
    assert info.value.body["error"]["type"] == expected.get(status, "authentication_error")


async def test_retries_honour_retry_after(fake: FakeAnthropic) -> None:
    c = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test-key", max_retries=2)
    # Record the delay the SDK chose from our headers (it then sleeps that long).
    chosen: list[float] = []
    original = c._calculate_retry_timeout

    def recording(*args: Any, **kwargs: Any) -> float:
        chosen.append(original(*args, **kwargs))
        return chosen[-1]

    c._calculate_retry_timeout = recording  # type: ignore[method-assign]
    fake.queue(error(429, retry_after=0.05), error(529, retry_after=0.02), text("finally"))
    msg = await c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    await c.close()
    assert msg.content[0].type == "text" and msg.content[0].text == "finally"
    assert chosen == [0.05, 0.02]
    assert len(fake.message_requests) == 3


async def test_should_retry_false_stops_sdk_retries(fake: FakeAnthropic) -> None:
    c = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test-key", max_retries=3)
    fake.queue(error(500, should_retry=False))
    with pytest.raises(anthropic.InternalServerError):
        await c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    await c.close()
    assert len(fake.message_requests) == 1


async def test_cut_stream_raises_transport_error_after_partial_text(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    # The SDK does not wrap errors raised while iterating a stream: a dropped connection
    # surfaces as the transport's own error (httpx2 in anthropic 2.x), so providers must
    # catch it alongside anthropic.APIError.
    fake.queue(cut_stream("partial answer"))
    seen: list[str] = []
    with pytest.raises(httpx2.RemoteProtocolError):
        async with client.messages.stream(model=MODEL, max_tokens=8, messages=HELLO) as stream:
            async for chunk in stream.text_stream:
                seen.append(chunk)
    assert "".join(seen) == "partial answer"


async def test_cut_non_streaming_is_connection_error(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.queue(cut_stream("partial"))
    with pytest.raises(anthropic.APIConnectionError):
        await client.messages.create(model=MODEL, max_tokens=8, messages=HELLO)


async def test_mid_stream_error_event(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.queue(stream_error("overloaded_error", "Overloaded", text_before="so far"))
    with pytest.raises(anthropic.APIStatusError) as info:
        async with client.messages.stream(model=MODEL, max_tokens=8, messages=HELLO) as stream:
            await stream.get_final_message()
    assert isinstance(info.value.body, dict)
    assert info.value.body["error"]["type"] == "overloaded_error"


async def test_slow_stream_cancelled_by_client_is_marked_aborted(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    fake.queue(slow_text([f"w{i} " for i in range(200)], delay=0.01))
    first = asyncio.Event()

    async def consume() -> None:
        async with client.messages.stream(model=MODEL, max_tokens=8, messages=HELLO) as stream:
            async for _ in stream.text_stream:
                first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), timeout=10)  # a safety net, not a timing assertion
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.to_thread(fake.wait_until, lambda: fake.last_request.aborted)
    assert fake.last_request.usage is not None


async def test_default_responder_hook_and_tool_round_trip(fake: FakeAnthropic) -> None:
    def responder(body: dict[str, Any]) -> Any:
        return text(f"turn {len(body['messages'])}")

    fake.default_responder = responder
    fake.queue(tool_use("ls", {"dir": "."}, id="toolu_ls"))
    c = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="test-key", max_retries=0)
    first = await c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    history: list[Any] = [
        *HELLO,
        {"role": "assistant", "content": [b.model_dump() for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_ls"}]},
    ]
    second = await c.messages.create(model=MODEL, max_tokens=8, messages=history)
    await c.close()
    assert second.content[0].type == "text" and second.content[0].text == "turn 3"


async def test_unanswered_tool_use_is_rejected_like_the_api(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    history: list[Any] = [
        *HELLO,
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "x", "input": {}}],
        },
        {"role": "user", "content": "never mind"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="t1"):
        await client.messages.create(model=MODEL, max_tokens=8, messages=history)


async def test_required_api_key() -> None:
    with FakeAnthropic(api_key="right") as f:
        c = anthropic.AsyncAnthropic(base_url=f.base_url, api_key="wrong", max_retries=0)
        with pytest.raises(anthropic.AuthenticationError):
            await c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
        await c.close()


async def test_concurrent_requests_are_all_recorded(
    fake: FakeAnthropic, client: anthropic.AsyncAnthropic
) -> None:
    async def ask(i: int) -> str:
        m = await client.messages.create(
            model=MODEL, max_tokens=8, messages=[{"role": "user", "content": f"q{i}"}]
        )
        assert m.content[0].type == "text"
        return m.content[0].text

    answers = await asyncio.gather(*(ask(i) for i in range(8)))
    assert sorted(answers) == sorted(f"echo: q{i}" for i in range(8))
    assert len(fake.requests) == 8


def test_sync_client_and_reply_from_json(fake: FakeAnthropic) -> None:
    fake.queue(
        reply_from_json({"kind": "text", "text": "scripted"}),
        reply_from_json({"kind": "error", "status": 529}),
    )
    with anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0) as c:
        m = c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
        assert m.content[0].type == "text" and m.content[0].text == "scripted"
        with pytest.raises(anthropic.InternalServerError) as info:
            c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert info.value.status_code == 529


def test_standalone_process_with_script(tmp_path: Path) -> None:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps([{"kind": "tool_use", "name": "ls", "input": {"d": 1}}]))
    module = Path(__file__).parent / "support" / "fake_anthropic.py"
    proc = subprocess.Popen(
        [sys.executable, str(module), "--port", "0", "--script", str(script)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line[0] == "PORT"
        url = f"http://127.0.0.1:{int(line[1])}/v1/messages"
        body = {"model": MODEL, "max_tokens": 8, "messages": HELLO}
        scripted = httpx2.post(url, json=body, headers={"x-api-key": "k"}).json()
        echoed = httpx2.post(url, json=body, headers={"x-api-key": "k"}).json()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert scripted["content"][0]["input"] == {"d": 1}
    assert echoed["content"][0]["text"] == "echo: hello there"


def test_replies_from_a_second_copy_of_the_module(
    fake: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Suites import this module as ``fake_anthropic`` or ``tests.support.fake_anthropic``; replies
    # built by one copy must still be understood by a server from the other.
    path = Path(__file__).parent / "support" / "fake_anthropic.py"
    spec = importlib.util.spec_from_file_location("fake_anthropic_copy", path)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "fake_anthropic_copy", copy)
    spec.loader.exec_module(copy)
    fake.queue(copy.error(429), copy.text("from the copy"))
    with anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0) as c:
        with pytest.raises(anthropic.RateLimitError):
            c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
        m = c.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    assert m.content[0].type == "text" and m.content[0].text == "from the copy"


def test_standalone_exits_when_stdin_closes() -> None:
    module = Path(__file__).parent / "support" / "fake_anthropic.py"
    proc = subprocess.Popen(
        [sys.executable, str(module), "--exit-on-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().startswith("PORT ")
    proc.stdin.close()
    assert proc.wait(timeout=10) == 0
