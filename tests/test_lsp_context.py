"""Context management through the LSP face: a small window, a long conversation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, text, tool_use
from lsp_harness import lsp_server
from pygls.exceptions import JsonRpcException

WINDOW = 3000
ENV = {"VICTOR_CONTEXT_WINDOW": str(WINDOW), "VICTOR_TOOL_SELECTION__MAX_TOOLS": "2",
       "VICTOR_MAX_TOKENS": "256"}


async def test_long_conversation_stays_inside_the_window(workspace: Path,
                                                          fake: FakeAnthropic) -> None:
    (workspace / "a.txt").write_text("alpha file\n")
    filler = "lorem ipsum dolor sit amet " * 12
    async with lsp_server(workspace, {**fake.env(), **ENV}) as victor:
        first = await victor.request("victor/chat", {
            "message": "The deploy password hint is PINNED-FACT-7.", "pin": True})
        sid = first["sessionId"]
        await victor.request("victor/chat", {
            "message": "There is an important bug: the parser fails on tabs.", "sessionId": sid})
        fake.queue(tool_use("read", {"path": "a.txt"}), text("read it"))
        await victor.request("victor/chat", {"message": "read a.txt " + filler,
                                             "sessionId": sid})
        compacted_seen = False
        for turn in range(25):
            result = await victor.request("victor/chat", {
                "message": f"turn {turn}: {filler}", "sessionId": sid})
            compacted_seen = compacted_seen or result["compacted"]
        assert compacted_seen
        for request in fake.message_requests:
            assert request.usage is not None and request.usage[0] <= WINDOW
        sent = fake.message_requests[-1].body["messages"]
        dumped = json.dumps(sent)
        assert "PINNED-FACT-7" in dumped
        assert "parser fails on tabs" in dumped
        assert "turn 24" in dumped
        use_ids = [b["id"] for m in sent if isinstance(m["content"], list)
                   for b in m["content"] if b.get("type") == "tool_use"]
        result_ids = [b["tool_use_id"] for m in sent if isinstance(m["content"], list)
                      for b in m["content"] if b.get("type") == "tool_result"]
        assert use_ids == result_ids
        context = await victor.request("victor/getContext", {"sessionId": sid})
        assert context["contextWindow"] == WINDOW
        assert context["tokens"] <= WINDOW * 0.8
        summary = await victor.request("victor/analytics/summary", {"sessionId": sid})
        assert summary["events"]["compaction"] >= 1
        # the store kept everything: compaction changes what is sent, not what is kept
        session = await victor.request("victor/session/get", {"sessionId": sid})
        assert session["messageCount"] == len(session["messages"]) >= 56


async def test_compact_on_demand_and_bad_params(workspace: Path, fake: FakeAnthropic) -> None:
    async with lsp_server(workspace, fake.env()) as victor:
        sid = (await victor.request("victor/chat", {"message": "start"}))["sessionId"]
        for turn in range(8):
            await victor.request("victor/chat", {"message": f"message number {turn} " * 20,
                                                 "sessionId": sid})
        before = await victor.request("victor/getContext", {"sessionId": sid})
        result = await victor.request("victor/compactContext", {
            "sessionId": sid, "strategy": "recent", "targetRatio": 0.3})
        assert result["strategy"] == "recent"
        assert result["after"]["tokens"] < result["before"]["tokens"]
        assert result["before"]["messages"] == 18
        after = await victor.request("victor/getContext", {"sessionId": sid})
        assert after["tokens"] < before["tokens"]
        await victor.request("victor/chat", {"message": "after compaction", "sessionId": sid})
        assert len(fake.message_requests[-1].body["messages"]) < 19
        for params, field in [({"sessionId": sid, "strategy": "nope"}, "strategy"),
                              ({"sessionId": sid, "targetRatio": 1.5}, "targetRatio"),
                              ({"sessionId": sid, "targetRatio": 0}, "targetRatio")]:
            with pytest.raises(JsonRpcException) as caught:
                await victor.request("victor/compactContext", params)
            assert caught.value.code == -32602
            assert caught.value.data["field"] == field


async def test_manual_compaction_works_on_the_current_context(workspace: Path,
                                                              fake: FakeAnthropic) -> None:
    # after an automatic compaction, the current context is the compacted view plus what came
    # since: a manual compaction measures and halves that, not the whole stored history
    filler = "lorem ipsum dolor sit amet " * 12
    async with lsp_server(workspace, {**fake.env(), **ENV}) as victor:
        sid = (await victor.request("victor/chat", {"message": "start"}))["sessionId"]
        compacted = False
        for turn in range(30):
            result = await victor.request("victor/chat", {
                "message": f"turn {turn}: {filler}", "sessionId": sid})
            compacted = compacted or result["compacted"]
        assert compacted
        stored = await victor.request("victor/session/get", {"sessionId": sid})
        current = await victor.request("victor/getContext", {"sessionId": sid})
        assert len(current["messages"]) < stored["messageCount"]

        result = await victor.request("victor/compactContext", {
            "sessionId": sid, "strategy": "recent", "targetRatio": 0.5})
        assert result["before"]["messages"] == len(current["messages"])
        assert result["after"]["tokens"] <= result["before"]["tokens"] * 0.5 + 200
        after = await victor.request("victor/getContext", {"sessionId": sid})
        assert len(after["messages"]) == result["after"]["messages"] < len(current["messages"])
        await victor.request("victor/chat", {"message": "and now", "sessionId": sid})
        assert len(fake.message_requests[-1].body["messages"]) <= result["after"]["messages"] + 1
