"""Translation from the Anthropic message shape the core speaks to OpenAI chat completions:
a system message first, assistant ``tool_calls`` with JSON-string arguments, one ``tool`` message
per ``tool_result`` block, and tools as ``function`` definitions."""

from __future__ import annotations

import json
import logging
from typing import Any

from victor_server.messages import tool_result_text

logger = logging.getLogger(__name__)


def to_openai_messages(system: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for message in messages:
        content = message.get("content")
        role = message.get("role", "user")
        if isinstance(content, str):
            out.append({"role": role, "content": content})
        elif role == "assistant":
            out.append(_assistant_message(content or []))
        else:
            out.extend(_user_messages(role, content or []))
    return out


def _assistant_message(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    text = "".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
    calls = [{"id": b["id"], "type": "function",
              "function": {"name": b["name"], "arguments": json.dumps(b.get("input") or {})}}
             for b in blocks if b.get("type") == "tool_use"]
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    elif message["content"] is None:
        message["content"] = ""  # thinking-only turns: keep the turn, drop what cannot cross
    return message


def _user_messages(role: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "tool_result":
            result = tool_result_text(block)
            if block.get("is_error"):
                result = f"Error: {result}"
            out.append({"role": "tool", "tool_call_id": block.get("tool_use_id", ""),
                        "content": result})
        elif kind == "text":
            parts.append({"type": "text", "text": str(block.get("text", ""))})
        elif kind == "image" and (block.get("source") or {}).get("type") == "base64":
            source = block["source"]
            url = f"data:{source.get('media_type', 'image/png')};base64,{source.get('data', '')}"
            parts.append({"type": "image_url", "image_url": {"url": url}})
    if any(p["type"] != "text" for p in parts):
        out.append({"role": role, "content": parts})
    elif parts:  # plain strings: local servers handle them more reliably than part lists
        out.append({"role": role, "content": "\n".join(p["text"] for p in parts)})
    return out


def to_openai_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {
        "name": tool["name"], "description": tool.get("description", ""),
        "parameters": tool.get("input_schema") or {"type": "object", "properties": {}}}}
        for tool in tools]


# -- small parsers ----------------------------------------------------------------------------


def parse_arguments(name: str, raw: str) -> dict[str, Any]:
    """The tool input; malformed JSON is passed on raw so the tool's error reaches the model."""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        logger.warning("openai: tool %s arguments are not valid JSON", name)
        return {"_raw_arguments": raw}
    return value if isinstance(value, dict) else {"_raw_arguments": raw}
