"""Translation between the core's values and ACP's: pure functions, no I/O.

The ACP face (``adapters/acp.py``) streams what the core reports and replays what the store
keeps; both need the same vocabulary, so it lives here once:

* a tool call (the core's ``on_tool`` dict, or a stored ``tool_use`` block) becomes ``tool_call``
  / ``tool_call_update`` with a ``kind`` (read, edit, search, execute, other), a human title,
  ``locations`` (absolute paths, as ACP wants) and, for ``write``/``edit``, ``diff`` content built
  from the tool's ``ToolResult.data`` (``abs_path``, ``old_text``, ``new_text``);
* a stored message becomes the ``session/update``s that show it again on ``session/load``;
* an ACP prompt (text, resource links, embedded resources) becomes the core's message plus extra
  content blocks;
* the core's stop reasons map onto ACP's five.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from acp import schema
from acp.helpers import (
    start_tool_call,
    text_block,
    tool_content,
    tool_diff_content,
    update_agent_message_text,
    update_agent_thought_text,
    update_tool_call,
    update_user_message_text,
)

from victor_server.messages import tool_result_text
from victor_server.tools.base import ToolError
from victor_server.tools.plan_tool import plan_entries

KINDS: dict[str, schema.ToolKind] = {
    "read": "read", "ls": "read", "write": "edit", "edit": "edit", "search": "search",
    "bash": "execute"}

STOP_REASONS: dict[str, schema.StopReason] = {
    "end_turn": "end_turn", "stop_sequence": "end_turn", "tool_use": "end_turn",
    "max_tokens": "max_tokens", "max_iterations": "max_turn_requests",
    "refusal": "refusal", "cancelled": "cancelled"}

OUTPUT_CHARS = 2000  # what a tool card shows; the model got the whole output

ToolCallContent = (schema.ContentToolCallContent | schema.FileEditToolCallContent
                   | schema.TerminalToolCallContent)
SessionUpdate = (schema.UserMessageChunk | schema.AgentMessageChunk | schema.AgentThoughtChunk
                 | schema.ToolCallStart | schema.ToolCallProgress | schema.UsageUpdate
                 | schema.AgentPlanUpdate)


def stop_reason(core_reason: str) -> schema.StopReason:
    return STOP_REASONS.get(core_reason, "end_turn")


def tool_kind(name: str) -> schema.ToolKind:
    return KINDS.get(name, "other")


def tool_title(name: str, tool_input: dict[str, Any]) -> str:
    path = tool_input.get("path")
    if name == "read":
        return f"Read {path}"
    if name == "write":
        return f"Write {path}"
    if name == "edit":
        return f"Edit {path}"
    if name == "ls":
        return f"List {path or '.'}"
    if name == "search":
        where = f" in {path}" if path else ""
        return f"Search {tool_input.get('pattern', '')!r}{where}"
    if name == "bash":
        return f"Run `{tool_input.get('command', '')}`"
    return name


def tool_locations(workspace: Path, tool_input: dict[str, Any],
                   data: dict[str, Any] | None = None) -> list[schema.ToolCallLocation] | None:
    data = data or {}
    path = data.get("abs_path") or tool_input.get("path")
    if not isinstance(path, str) or not path:
        return None
    line = data.get("first_line")
    return [schema.ToolCallLocation(path=str(workspace / path),
                                    line=line if isinstance(line, int) and line >= 0 else None)]


def proposed_diff(workspace: Path, name: str, tool_input: dict[str, Any]) \
        -> list[ToolCallContent] | None:
    """What a write or edit is about to do, shown in the permission request."""
    path = tool_input.get("path")
    if not isinstance(path, str):
        return None
    if name == "write" and isinstance(tool_input.get("content"), str):
        return [tool_diff_content(str(workspace / path), tool_input["content"])]
    if name == "edit" and isinstance(tool_input.get("new"), str):
        return [tool_diff_content(str(workspace / path), tool_input["new"],
                                  tool_input.get("old"))]
    return None


def _result_content(output: str, data: dict[str, Any]) -> list[ToolCallContent]:
    if isinstance(data.get("abs_path"), str) and isinstance(data.get("new_text"), str):
        return [tool_diff_content(data["abs_path"], data["new_text"], data.get("old_text"))]
    return [tool_content(text_block(output[:OUTPUT_CHARS]))] if output else []


def tool_started(workspace: Path, info: dict[str, Any],
                 status: schema.ToolCallStatus = "pending") -> schema.ToolCallStart:
    """The core's ``on_tool`` "pending" report (the call is waiting for its approval) as a
    ``tool_call``; replayed history passes ``in_progress``."""
    tool_input = dict(info.get("input") or {})
    name = str(info["name"])
    return start_tool_call(str(info["id"]), tool_title(name, tool_input), kind=tool_kind(name),
                           status=status,
                           locations=tool_locations(workspace, tool_input), raw_input=tool_input)


def tool_running(info: dict[str, Any]) -> schema.ToolCallProgress:
    """The core's "running" report: the call was approved (or needed no approval) and runs."""
    return update_tool_call(str(info["id"]), status="in_progress")


def tool_finished(workspace: Path, info: dict[str, Any]) -> schema.ToolCallProgress:
    """The core's ``on_tool`` "completed"/"error" report as a ``tool_call_update``."""
    data = dict(info.get("data") or {})
    output = str(info.get("output") or "")
    failed = info.get("status") == "error" or bool(info.get("isError"))
    return update_tool_call(
        str(info["id"]), status="failed" if failed else "completed",
        content=_result_content(output, data),
        locations=tool_locations(workspace, dict(info.get("input") or {}), data),
        raw_output={"output": output[:OUTPUT_CHARS], "isError": failed})


def prompt_to_message(blocks: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """An ACP prompt as the core's ``(message, extra_blocks)``.

    Text and resource links (``@file`` mentions) form the message; embedded text resources (an
    editor's selection or open buffer) travel as extra text blocks so the model sees where each
    came from without them being mistaken for the user's words; images travel as image blocks.
    """
    words: list[str] = []
    extra: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, schema.TextContentBlock):
            words.append(block.text)
        elif isinstance(block, schema.ResourceContentBlock):
            words.append(f"[@{block.name}]({block.uri})")
        elif isinstance(block, schema.ImageContentBlock):
            # the providers take base64 images (Anthropic as is, OpenAI as a data URL)
            extra.append({"type": "image", "source": {"type": "base64",
                                                      "media_type": block.mime_type,
                                                      "data": block.data}})
        elif isinstance(block, schema.EmbeddedResourceContentBlock):
            resource = block.resource
            if isinstance(resource, schema.TextResourceContents):
                extra.append({"type": "text", "text": f'<context uri="{resource.uri}">\n'
                                                      f"{resource.text}\n</context>"})
    message = "\n".join(w for w in words if w.strip())
    if not message.strip() and extra:
        message = "(see the attached context)"
    return message, extra


def history_updates(workspace: Path, messages: list[dict[str, Any]]) -> list[SessionUpdate]:
    """A stored conversation as the ``session/update``s that show it again (``session/load``)."""
    updates: list[SessionUpdate] = []
    names: dict[str, tuple[str, dict[str, Any]]] = {}
    for message in messages:
        role, content = message.get("role"), message.get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        for block in blocks or []:
            updates.extend(_block_updates(workspace, role, block, names))
    return updates


def _block_updates(workspace: Path, role: Any, block: dict[str, Any],
                   names: dict[str, tuple[str, dict[str, Any]]]) -> list[SessionUpdate]:
    kind = block.get("type")
    if kind == "text" and str(block.get("text", "")):
        text = str(block["text"])
        return [update_user_message_text(text) if role == "user"
                else update_agent_message_text(text)]
    source = block.get("source") or {}
    if kind == "image" and role == "user" and source.get("type") == "base64":
        return [schema.UserMessageChunk(session_update="user_message_chunk",
                                        content=schema.ImageContentBlock(
                                            type="image", mime_type=str(source.get("media_type")),
                                            data=str(source.get("data"))))]
    if kind == "thinking" and block.get("thinking"):
        return [update_agent_thought_text(str(block["thinking"]))]
    if kind == "tool_use":
        tool_input = dict(block.get("input") or {})
        names[str(block["id"])] = (str(block.get("name")), tool_input)
        if block.get("name") == "plan":
            try:
                return [plan_update(plan_entries(tool_input))]
            except ToolError:  # a plan the model got wrong was refused then; nothing to show
                return []
        return [tool_started(workspace, {"id": block["id"], "name": block.get("name"),
                                         "input": tool_input}, "in_progress")]
    if kind == "tool_result":
        tool_id = str(block.get("tool_use_id"))
        name, tool_input = names.get(tool_id, ("", {}))
        if name == "plan":
            return []
        return [tool_finished(workspace, {
            "id": tool_id, "name": name, "input": tool_input,
            "output": tool_result_text(block),
            "status": "error" if block.get("is_error") else "completed"})]
    return []



def plan_update(entries: list[dict[str, str]]) -> schema.AgentPlanUpdate:
    """The ``plan`` tool's checklist as ACP's ``plan`` update (the whole list each time)."""
    return schema.AgentPlanUpdate(session_update="plan", entries=[
        schema.PlanEntry(content=e["content"], status=e["status"], priority=e["priority"])
        for e in entries])
