"""The MCP face over stdio with the Python ``mcp`` client: tools, resources, prompt, errors.

Chat goes to the loopback fake Anthropic API, so content and usage are what the fake said.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_anthropic import FakeAnthropic, text, tool_use
from mcp.shared.exceptions import MCPError
from mcp_face_harness import error_text, mcp_client, structured

TOOLS = {"chat", "select_tools", "compact_context", "get_context", "build_prompt",
         "list_sessions", "get_session", "analytics_summary", "list_tools"}
SCRIPTED = {"VICTOR_PROVIDER": "scripted"}


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_both_eras_list_tools_resources_and_prompt(workspace: Path, tmp_path: Path,
                                                         mode: str) -> None:
    async with mcp_client(workspace, tmp_path / "v.db", SCRIPTED, mode=mode) as client:
        assert client.protocol_version == ("2026-07-28" if mode != "legacy" else
                                           client.protocol_version)
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == TOOLS
        for tool in tools.values():
            assert tool.output_schema is not None and tool.output_schema["type"] == "object"
            assert tool.description
            # clients skip the permission prompt for read-only tools only if we say so
            read_only = tool.name not in ("chat", "compact_context")
            assert tool.annotations is not None
            assert tool.annotations.read_only_hint is read_only, tool.name
            assert tool.annotations.destructive_hint is (tool.name == "chat"), tool.name
        chat = tools["chat"]
        assert chat.input_schema["required"] == ["message"]
        assert {"message", "session_id", "context", "stream", "pin"} <= set(
            chat.input_schema["properties"])
        assert {"session_id", "content", "usage", "tool_calls", "stop_reason"} <= set(
            chat.output_schema["required"])
        ratio = tools["compact_context"].input_schema["properties"]["target_ratio"]["anyOf"][0]
        assert ratio["exclusiveMinimum"] == 0.0 and ratio["exclusiveMaximum"] == 1.0

        uris = {str(r.uri) for r in (await client.list_resources()).resources}
        assert uris == {"victor://standards", "victor://config", "victor://sessions",
                        "victor://analytics/summary"}
        templates = (await client.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["victor://sessions/{session_id}"]
        prompts = (await client.list_prompts()).prompts
        assert [(p.name, [(a.name, a.required) for a in p.arguments or []]) for p in prompts] \
            == [("victor_system", [("task", True), ("language", False)])]

        answer = structured(await client.call_tool("chat", {"message": "hi", "session_id": "e1"}))
        assert answer["session_id"] == "e1" and answer["stop_reason"] == "end_turn"


async def test_chat_matches_the_fake_api(workspace: Path, tmp_path: Path,
                                         fake: FakeAnthropic) -> None:
    fake.queue(text("The answer is 42."), text("Still 42."))
    async with mcp_client(workspace, tmp_path / "v.db", fake.env()) as client:
        first = structured(await client.call_tool(
            "chat", {"message": "what is the answer?", "session_id": "deep",
                     "context": {"task": "trivia", "language": "python"}}))
        assert first["content"] == "The answer is 42."
        assert first["stop_reason"] == "end_turn" and first["tool_calls"] == []
        used_in, used_out = fake.total_usage()
        assert first["usage"] == {"input_tokens": used_in, "output_tokens": used_out,
                                  "total_tokens": used_in + used_out, "cache_read_tokens": 0,
                                  "cache_write_tokens": 0}
        assert "Respond in python" in str(fake.last_request.body["system"])

        second = structured(await client.call_tool(
            "chat", {"message": "sure?", "session_id": "deep"}))
        assert second["content"] == "Still 42."
        sent = fake.last_request.body["messages"]
        assert [m["role"] for m in sent] == ["user", "assistant", "user"]
        session = structured(await client.call_tool("get_session", {"session_id": "deep"}))
        assert session["message_count"] == 4
        total_in, total_out = fake.total_usage()
        assert session["usage"] == {"input_tokens": total_in, "output_tokens": total_out,
                                    "total_tokens": total_in + total_out}


async def test_chat_with_a_tool_call(workspace: Path, tmp_path: Path,
                                     fake: FakeAnthropic) -> None:
    (workspace / "notes.txt").write_text("remember the milk\n")
    fake.queue(tool_use("read", {"path": "notes.txt"}, id="toolu_1"), text("It says milk."))
    async with mcp_client(workspace, tmp_path / "v.db", fake.env()) as client:
        result = structured(await client.call_tool("chat", {"message": "read notes.txt"}))
        assert result["content"] == "It says milk."
        assert result["tool_calls"] == [{"id": "toolu_1", "name": "read",
                                         "input": {"path": "notes.txt"}, "is_error": False}]
        summary = structured(await client.call_tool(
            "analytics_summary", {"session_id": result["session_id"]}))
        assert summary["tool_calls"] == {"read": 1}
        assert summary["tokens"]["total"] == sum(fake.total_usage())


async def test_select_compact_context_prompt_and_sessions(workspace: Path,
                                                          tmp_path: Path) -> None:
    async with mcp_client(workspace, tmp_path / "v.db", SCRIPTED) as client:
        selected = structured(await client.call_tool(
            "select_tools", {"query": "read a file", "max_tools": 2}))
        assert selected["strategy"] == "keyword" and len(selected["tools"]) == 2
        assert selected["tools"][0]["name"] == "read"
        assert {"name", "description", "score", "cost_tier"} <= set(selected["tools"][0])

        for n in range(3):
            structured(await client.call_tool(
                "chat", {"message": f"message {n} " + "padding " * 40, "session_id": "c1"}))
        context = structured(await client.call_tool("get_context", {"session_id": "c1"}))
        assert len(context["messages"]) == 6 and context["tokens"] > 0
        assert context["context_window"] > 0
        assert context["utilization"] == pytest.approx(
            context["tokens"] / context["context_window"], abs=1e-6)

        compacted = structured(await client.call_tool(
            "compact_context", {"session_id": "c1", "strategy": "recent", "target_ratio": 0.3}))
        assert compacted["strategy"] == "recent"
        assert compacted["before"]["messages"] == 6
        assert compacted["after"]["tokens"] < compacted["before"]["tokens"]
        after = structured(await client.call_tool("get_context", {"session_id": "c1"}))
        # get_context counts what the next request sends: the compacted messages plus the
        # system prompt and tool schemas, so it drops by exactly what compaction removed
        assert len(after["messages"]) == compacted["after"]["messages"]
        assert context["tokens"] - after["tokens"] == (
            compacted["before"]["tokens"] - compacted["after"]["tokens"])

        prompt = structured(await client.call_tool(
            "build_prompt", {"context": {"task": "refactor", "language": "rust"}}))
        names = [c["name"] for c in prompt["contributions"]]
        assert "language" in names and "Respond in rust" in prompt["system_prompt"]

        listed = structured(await client.call_tool("list_sessions", {}))
        assert [s["session_id"] for s in listed["sessions"]] == ["c1"]
        assert listed["sessions"][0]["message_count"] == 6
        session = structured(await client.call_tool("get_session", {"session_id": "c1"}))
        assert [m["role"] for m in session["messages"]] == ["user", "assistant"] * 3
        assert session["messages"][0]["content"].startswith("message 0")


async def test_resources_and_prompt(workspace: Path, tmp_path: Path) -> None:
    (workspace / ".victor" / "standards.md").write_text("Always write tests.\n")
    async with mcp_client(workspace, tmp_path / "v.db", SCRIPTED) as client:
        structured(await client.call_tool("chat", {"message": "hello", "session_id": "r1"}))

        standards = (await client.read_resource("victor://standards")).contents[0]
        assert "Always write tests." in standards.text and "## Project standards" in standards.text
        assert "You are Victor" not in standards.text
        config = json.loads((await client.read_resource("victor://config")).contents[0].text)
        assert config["config"]["provider"] == "scripted"
        assert config["sources"]["provider"] == "env"
        sessions = json.loads((await client.read_resource("victor://sessions")).contents[0].text)
        assert [s["session_id"] for s in sessions["sessions"]] == ["r1"]
        one = json.loads((await client.read_resource("victor://sessions/r1")).contents[0].text)
        assert one["session_id"] == "r1" and one["messages"][0]["content"] == "hello"
        summary = json.loads(
            (await client.read_resource("victor://analytics/summary")).contents[0].text)
        assert summary["sessions"] == 1 and summary["events"]["chat_request"] == 1

        prompt = await client.get_prompt("victor_system", {"task": "fix a bug",
                                                           "language": "python"})
        body = prompt.messages[0].content.text
        assert "Always write tests." in body and "Respond in python" in body

        with pytest.raises(MCPError) as missing:
            await client.read_resource("victor://sessions/nope")
        assert missing.value.error.code == -32001
        with pytest.raises(MCPError):
            await client.read_resource("victor://nothing-here")
        with pytest.raises(MCPError) as no_prompt:
            await client.get_prompt("no_such_prompt", {})
        assert no_prompt.value.error.code == -32602
        with pytest.raises(MCPError) as no_task:
            await client.get_prompt("victor_system", {})
        assert no_task.value.error.code == -32602 and "task" in no_task.value.error.message
        assert no_task.value.error.data == {"name": "victor_system", "missing": ["task"]}


async def test_errors_are_results_naming_the_spec_code(workspace: Path, tmp_path: Path) -> None:
    # provider anthropic with no API key: -32002, never a silent fallback
    async with mcp_client(workspace, tmp_path / "v.db") as client:
        for tool in ("get_session", "get_context", "compact_context"):
            failed = await client.call_tool(tool, {"session_id": "ghost"})
            assert "error -32001: session not found: ghost" in error_text(failed)
        no_key = await client.call_tool("chat", {"message": "hi"})
        assert "error -32002" in error_text(no_key)
        bad = await client.call_tool("select_tools", {"query": 7})
        assert "query" in error_text(bad)
        missing = await client.call_tool("chat", {})
        assert "message" in error_text(missing)
        out_of_range = await client.call_tool("list_sessions", {"limit": 0})
        assert "limit" in error_text(out_of_range)
        unknown = await client.call_tool("no_such_tool", {})
        assert "no_such_tool" in error_text(unknown)
        # still serving; the chat was refused before anything was stored, so no session is left
        listed = structured(await client.call_tool("list_sessions", {}))["sessions"]
        assert listed == []


async def test_a_second_client_sees_the_first_ones_sessions(workspace: Path,
                                                            tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    async with mcp_client(workspace, db, SCRIPTED) as first:
        said = structured(await first.call_tool("chat", {"message": "remember me",
                                                         "session_id": "shared-1"}))
        async with mcp_client(workspace, db, SCRIPTED, mode="2026-07-28") as second:
            listed = structured(await second.call_tool("list_sessions", {}))
            assert [s["session_id"] for s in listed["sessions"]] == ["shared-1"]
            session = structured(await second.call_tool("get_session",
                                                        {"session_id": "shared-1"}))
            assert session["messages"][-1]["content"][0]["text"] == said["content"]
            structured(await second.call_tool("chat", {"message": "from the second",
                                                       "session_id": "shared-1"}))
        again = structured(await first.call_tool("get_session", {"session_id": "shared-1"}))
        assert again["message_count"] == 4


async def test_auth_token_in_meta_reaches_the_middleware(workspace: Path,
                                                         tmp_path: Path) -> None:
    (workspace / ".victor" / "config.yml").write_text(
        'middleware:\n  - {auth: {tokens: {"token-for-acme": acme}}}\n')
    async with mcp_client(workspace, tmp_path / "v.db", SCRIPTED) as client:
        refused = await client.call_tool("list_sessions", {})
        assert "error -32004" in error_text(refused)
        meta = {"authToken": "token-for-acme"}
        said = structured(await client.call_tool("chat", {"message": "hi", "session_id": "s"},
                                                 meta=meta))
        assert said["session_id"] == "acme:s"
        listed = structured(await client.call_tool("list_sessions", {}, meta=meta))
        assert [s["tenant_id"] for s in listed["sessions"]] == ["acme"]
