"""The ACP face's value translation (``adapters/acp_updates``), without a process."""

from __future__ import annotations

from pathlib import Path

import acp
from acp import schema

from victor_server.adapters.acp_updates import (
    history_updates,
    prompt_to_message,
    stop_reason,
    tool_finished,
    tool_started,
    tool_title,
)

ROOT = Path("/work/project")


def test_stop_reasons_map_onto_acps_five() -> None:
    assert [stop_reason(r) for r in ("end_turn", "max_tokens", "cancelled", "max_iterations",
                                     "refusal", "stop_sequence", "something_new")] == [
        "end_turn", "max_tokens", "cancelled", "max_turn_requests", "refusal", "end_turn",
        "end_turn"]


def test_tool_calls_get_kind_title_locations_and_diff() -> None:
    started = tool_started(ROOT, {"id": "t1", "name": "edit",
                                  "input": {"path": "src/a.py", "old": "x", "new": "y"}})
    assert (started.kind, started.title, started.status) == ("edit", "Edit src/a.py",
                                                             "pending")
    assert started.locations == [schema.ToolCallLocation(path="/work/project/src/a.py")]

    done = tool_finished(ROOT, {"id": "t1", "name": "edit", "status": "completed",
                                "input": {"path": "src/a.py"}, "output": "edited",
                                "data": {"abs_path": "/work/project/src/a.py",
                                         "old_text": "x\n", "new_text": "y\n"}})
    assert done.status == "completed"
    assert done.content == [acp.tool_diff_content("/work/project/src/a.py", "y\n", "x\n")]

    failed = tool_finished(ROOT, {"id": "t2", "name": "bash", "status": "error",
                                  "input": {"command": "rm -rf /"}, "isError": True,
                                  "output": "permission denied by the user", "data": {}})
    assert failed.status == "failed"
    assert failed.content == [acp.tool_content(acp.text_block("permission denied by the user"))]
    assert tool_title("bash", {"command": "ls"}) == "Run `ls`"
    assert tool_started(ROOT, {"id": "t3", "name": "srv__x", "input": {}}).kind == "other"


def test_prompt_blocks_become_message_and_context() -> None:
    message, extra = prompt_to_message([
        acp.text_block("explain"),
        acp.resource_link_block("main.py", "file:///p/main.py"),
        acp.resource_block(acp.embedded_text_resource("file:///p/util.py", "def f(): ...")),
    ])
    assert message == "explain\n[@main.py](file:///p/main.py)"
    assert extra == [{"type": "text",
                      "text": '<context uri="file:///p/util.py">\ndef f(): ...\n</context>'}]
    only_context, _ = prompt_to_message([
        acp.resource_block(acp.embedded_text_resource("file:///p/x", "x"))])
    assert only_context.strip()  # the core needs a message; the context is what matters


def test_history_replays_messages_and_tool_calls() -> None:
    updates = history_updates(ROOT, [
        {"role": "user", "content": "fix it"},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm"},
            {"type": "text", "text": "Reading."},
            {"type": "tool_use", "id": "u1", "name": "read", "input": {"path": "a.py"}}]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": "u1", "content": "x = 1",
             "is_error": False}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Done."}]},
    ])
    assert [u.session_update for u in updates] == [
        "user_message_chunk", "agent_thought_chunk", "agent_message_chunk", "tool_call",
        "tool_call_update", "agent_message_chunk"]
    tool_call, result = updates[3], updates[4]
    assert isinstance(tool_call, schema.ToolCallStart) and tool_call.title == "Read a.py"
    assert isinstance(result, schema.ToolCallProgress)
    assert result.status == "completed" and result.tool_call_id == "u1"
    assert result.content == [acp.tool_content(acp.text_block("x = 1"))]
