"""Prompt caching end to end: where the Anthropic provider puts its breakpoints, that a session's
requests share their prefix (tools byte-identical, in the same order; the same system prompt),
and that the cache reads and writes the API reports reach ``usage`` on LSP, MCP and ACP, the
analytics summary and its cost. The fake API applies Anthropic's caching rules
(``fake_prompt_cache``), so every cache figure asserted here is one the fake reported."""

from __future__ import annotations

import itertools
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import acp
import pytest
from acp import schema
from fake_anthropic import FakeAnthropic, RecordedRequest, text, tool_use, without_cache_marks
from fake_prompt_cache import PromptCache, count_breakpoints
from lsp_harness import lsp_server
from mcp_face_harness import mcp_client, structured

from victor_server.analytics.dashboard import Dashboard
from victor_server.analytics.events import AnalyticsEvent
from victor_server.analytics.pricing import cost_usd, price_for
from victor_server.analytics.prometheus import MetricTotals
from victor_server.providers.anthropic import AnthropicProvider
from victor_server.providers.base import MessageComplete, ModelRequest

EPHEMERAL = {"type": "ephemeral"}
LONG_RULES = "Project rules. " + "Prefer small functions with clear names. " * 120
PRICES = {"claude-sonnet-4-5": {"input": 3.0, "output": 15.0, "cache_read": 0.3,
                                "cache_write": 3.75}}


@pytest.fixture
def caching_fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic(caching=True) as server:
        yield server


def _marked(block: dict[str, Any]) -> bool:
    return block.get("cache_control") == EPHEMERAL


def _assert_one_session_prefix(requests: list[RecordedRequest]) -> None:
    """Every request has at most four marks; tools and system are byte-identical from one
    request to the next, and each request's messages begin with the previous one's."""
    first = requests[0].body
    names = [t["name"] for t in first["tools"]]
    assert names and len(names) == len(set(names))  # in the session's order, each tool once
    for before, after in itertools.pairwise(requests):
        assert count_breakpoints(after.body) <= 4
        assert json.dumps(after.body["tools"]) == json.dumps(before.body["tools"])
        assert after.body["system"] == before.body["system"]
        earlier = without_cache_marks(before.body["messages"])
        assert without_cache_marks(after.body["messages"])[:len(earlier)] == earlier


# ---- the provider -----------------------------------------------------------------------


def _request() -> ModelRequest:
    tools = [{"name": n, "description": f"the {n} tool", "input_schema": {"type": "object"}}
             for n in ("grep", "ls", "read")]
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "read a.txt"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "read",
                                           "input": {"path": "a.txt"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                      "content": "alpha"}]}]
    return ModelRequest(model="claude-sonnet-4-5", system=LONG_RULES, messages=messages,
                        tools=tools, max_tokens=64)


async def _complete(provider: AnthropicProvider, request: ModelRequest) -> MessageComplete:
    events = [e async for e in provider.stream(request)]
    final = events[-1]
    assert isinstance(final, MessageComplete)
    return final


async def test_breakpoints_on_last_tool_system_and_conversation_tail(
        caching_fake: FakeAnthropic) -> None:
    provider = AnthropicProvider(api_key="test-key", base_url=caching_fake.base_url)
    request = _request()
    pristine = json.dumps([request.tools, request.messages])
    first = await _complete(provider, request)
    body = caching_fake.last_request.body
    assert count_breakpoints(body) == 4
    assert [_marked(t) for t in body["tools"]] == [False, False, True]
    assert body["system"] == [{"type": "text", "text": LONG_RULES, "cache_control": EPHEMERAL}]
    messages = body["messages"]
    assert _marked(messages[2]["content"][-1])  # the tail: what the next request extends
    assert _marked(messages[0]["content"][-1])  # where the previous request ended
    assert not _marked(messages[1]["content"][-1])
    assert json.dumps([request.tools, request.messages]) == pristine  # the caller's dicts
    assert first.usage.cache_read_tokens == 0 and first.usage.cache_creation_tokens > 0
    assert (first.usage.input_tokens, first.usage.output_tokens) == caching_fake.last_request.usage

    again = await _complete(provider, request)
    assert again.usage.cache_read_tokens == first.usage.cache_creation_tokens
    assert again.usage.cache_creation_tokens == 0
    assert caching_fake.last_request.cache == (again.usage.cache_read_tokens, 0)
    await provider.aclose()


async def test_prompt_caching_false_sends_no_marks(caching_fake: FakeAnthropic) -> None:
    provider = AnthropicProvider(api_key="test-key", base_url=caching_fake.base_url,
                                 prompt_caching=False)
    done = await _complete(provider, _request())
    body = caching_fake.last_request.body
    assert count_breakpoints(body) == 0 and body["system"] == LONG_RULES
    assert (done.usage.cache_read_tokens, done.usage.cache_creation_tokens) == (0, 0)
    await provider.aclose()


def test_fake_cache_rules_lifetime_minimum_and_lookback() -> None:
    now = [0.0]
    cache = PromptCache(clock=lambda: now[0])
    big = {"type": "text", "text": "x" * 8000, "cache_control": EPHEMERAL}
    body = {"model": "m", "system": [big], "messages": [{"role": "user", "content": "hi"}]}
    assert cache.apply(body, "k").cache_creation_input_tokens > 0
    assert cache.apply(body, "k").cache_read_input_tokens > 0
    assert cache.apply(body, "other-org").cache_read_input_tokens == 0  # per organisation
    now[0] += 301
    assert cache.apply(body, "k").cache_read_input_tokens == 0  # five minutes passed
    small = {"model": "m", "system": [{**big, "text": "short"}],
             "messages": [{"role": "user", "content": "hi"}]}
    assert cache.apply(small, "k").cache_creation_input_tokens == 0  # under 1024 tokens

    def conversation(turns: int) -> dict[str, Any]:
        blocks = [{"type": "text", "text": f"block {i} " + "y" * 400} for i in range(turns)]
        blocks[-1] = {**blocks[-1], "cache_control": EPHEMERAL}
        return {"model": "m", "messages": [{"role": "user", "content": blocks}]}

    cache.clear()
    cache.apply(conversation(30), "k")
    assert cache.apply(conversation(50), "k").cache_read_input_tokens > 0  # 20 blocks back
    assert cache.apply(conversation(71), "k").cache_read_input_tokens == 0  # 21 blocks back


# ---- the faces -----------------------------------------------------------------------------


def _project(workspace: Path) -> None:
    (workspace / "AGENTS.md").write_text(LONG_RULES)
    (workspace / "notes.txt").write_text("the answer is 42\n")
    (workspace / ".victor" / "config.json").write_text(
        json.dumps({"analytics": {"prices": PRICES}}))


async def test_lsp_session_shares_its_prefix_and_reports_cache_use(
        workspace: Path, caching_fake: FakeAnthropic) -> None:
    _project(workspace)
    caching_fake.queue(tool_use("read", {"path": "notes.txt"}), text("It says 42."),
                       text("You are welcome."))
    async with lsp_server(workspace, caching_fake.env()) as victor:
        first = await victor.request("victor/chat", {"message": "what is in notes.txt?"})
        second = await victor.request("victor/chat", {"message": "thanks",
                                                      "sessionId": first["sessionId"]})
        summary = await victor.request("victor/analytics/summary", {})
    requests = caching_fake.message_requests
    assert len(requests) == 3
    _assert_one_session_prefix(requests)
    caches = [r.cache for r in requests]
    assert all(c is not None for c in caches)
    reads = [c[0] for c in caches if c]
    writes = [c[1] for c in caches if c]
    assert reads[0] == 0 and reads[1] > 0 and reads[2] > reads[1]  # each reads its predecessor
    assert first["usage"]["cacheReadTokens"] == reads[0] + reads[1]
    assert first["usage"]["cacheWriteTokens"] == writes[0] + writes[1]
    assert second["usage"]["cacheReadTokens"] == reads[2]
    assert second["usage"]["cacheWriteTokens"] == writes[2]
    used_in = [r.usage[0] for r in requests if r.usage]
    assert first["usage"]["inputTokens"] == used_in[0] + used_in[1]

    assert summary["tokens"]["cacheRead"] == sum(reads)
    assert summary["tokens"]["cacheWrite"] == sum(writes)
    totals = summary["models"]["claude-sonnet-4-5"]
    expected = (totals["input"] * 3.0 + totals["output"] * 15.0 + sum(reads) * 0.3
                + sum(writes) * 3.75) / 1_000_000
    assert summary["cost"]["usd"] == pytest.approx(round(expected, 6))


async def test_mcp_chat_result_carries_cache_tokens(workspace: Path, tmp_path: Path,
                                                    caching_fake: FakeAnthropic) -> None:
    _project(workspace)
    caching_fake.queue(text("One."), text("Two."))
    async with mcp_client(workspace, tmp_path / "v.db", caching_fake.env()) as client:
        structured(await client.call_tool("chat", {"message": "hi", "session_id": "m1"}))
        second = structured(await client.call_tool("chat", {"message": "again",
                                                            "session_id": "m1"}))
    read, write = caching_fake.last_request.cache or (0, 0)
    assert read > 0
    assert second["usage"]["cache_read_tokens"] == read
    assert second["usage"]["cache_write_tokens"] == write
    assert second["usage"]["input_tokens"] == caching_fake.last_request.usage[0]  # type: ignore[index]


class _Client:
    def __init__(self) -> None:
        self.usage: list[schema.UsageUpdate] = []

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        if isinstance(update, schema.UsageUpdate):
            self.usage.append(update)


async def test_acp_prompt_usage_carries_cache_tokens(workspace: Path,
                                                     caching_fake: FakeAnthropic) -> None:
    _project(workspace)
    caching_fake.queue(text("One."), text("Two."))
    env = {**os.environ, **caching_fake.env()}
    env.pop("VICTOR_AUTH_TOKEN", None)
    client = _Client()
    async with acp.spawn_agent_process(
            client, sys.executable, "-m", "victor_server", "acp", "--workspace",
            str(workspace), "--db", str(workspace / "acp.db"), env=env) as (conn, _process):
        await conn.initialize(protocol_version=1)
        sid = (await conn.new_session(cwd=str(workspace), mcp_servers=[])).session_id
        await conn.prompt(session_id=sid, prompt=[acp.text_block("hi")])
        done = await conn.prompt(session_id=sid, prompt=[acp.text_block("again")])
    read, write = caching_fake.last_request.cache or (0, 0)
    used_in, used_out = caching_fake.last_request.usage or (0, 0)
    assert isinstance(done.usage, schema.Usage) and read > 0
    assert (done.usage.cached_read_tokens, done.usage.cached_write_tokens) == (read, write)
    assert done.usage.input_tokens == used_in
    assert done.usage.total_tokens == used_in + used_out + read + write
    # the session's cost so far, priced with the cache prices of analytics.prices
    uses = [(r.usage, r.cache) for r in caching_fake.message_requests if r.usage and r.cache]
    expected = sum(u[0] * 3.0 + u[1] * 15.0 + c[0] * 0.3 + c[1] * 3.75
                   for u, c in uses) / 1_000_000
    last = client.usage[-1]
    assert last.cost is not None and last.cost.currency == "USD"
    assert last.cost.amount == pytest.approx(round(expected, 6))


# ---- prices --------------------------------------------------------------------------------


def test_prices_come_from_the_maintained_table_and_the_user_wins() -> None:
    opus = price_for("claude-opus-4-6")
    assert opus == {"input": 5.0, "output": 25.0, "cache_read": 0.5, "cache_write": 6.25}
    dated = price_for("claude-sonnet-4-5-20250929")
    assert dated is not None and dated["input"] == 3.0 and dated["cache_read"] == 0.3
    gpt = price_for("gpt-4.1")
    assert gpt is not None and gpt["input"] == 2.0 and gpt["cache_read"] < gpt["input"]
    assert price_for("some-local-model") is None
    assert price_for("scripted") == {"input": 0.0, "output": 0.0, "cache_read": 0.0,
                                     "cache_write": 0.0}
    mine = {"claude-opus": {"input": 1.0, "output": 2.0}}
    assert price_for("claude-opus-4-6", mine) == {"input": 1.0, "output": 2.0,
                                                  "cache_read": 1.0, "cache_write": 1.0}
    # 1M each of input, output, cache read, cache write at Opus 4.6's list prices
    assert cost_usd("claude-opus-4-6", 10**6, 10**6, None, 10**6, 10**6) == \
        pytest.approx(5.0 + 25.0 + 0.5 + 6.25)


def test_dashboard_and_metrics_price_cache_tokens() -> None:
    event = AnalyticsEvent("token_usage", "s1", data={
        "model": "claude-sonnet-4-5", "provider": "anthropic", "input_tokens": 1_000,
        "output_tokens": 100, "cache_read_tokens": 10_000, "cache_write_tokens": 2_000})
    expected = (1_000 * 3.0 + 100 * 15.0 + 10_000 * 0.3 + 2_000 * 3.75) / 1_000_000
    view = Dashboard(store=None, prices=PRICES)._view(event)
    assert view["costUsd"] == pytest.approx(expected)
    totals = MetricTotals(PRICES)
    totals.add(event)
    assert totals.tokens[("claude-sonnet-4-5", "cache_read")] == 10_000
    assert totals.tokens[("claude-sonnet-4-5", "cache_write")] == 2_000
    assert totals.cost["claude-sonnet-4-5"] == pytest.approx(expected)
