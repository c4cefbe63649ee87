"""``scripted``: a deterministic offline provider for demos and tests, named as such.

With no script it answers every message with a fixed, explainable reply. A script (config
``scripted.replies``) is a list consumed in order: a string is a text reply, and
``{"tool_use": {"name": ..., "input": {...}}}`` asks for a tool. A user message of the form
``/tool NAME {json}`` also asks for that tool, so a demo can show the tool loop without a key.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from victor_server.messages import Message, Usage
from victor_server.providers.base import (
    MessageComplete,
    ModelRequest,
    ProviderEvent,
    TextDelta,
    ToolUseStarted,
)


class ScriptedProvider:
    name = "scripted"

    def __init__(self, replies: list[Any] | None = None, delay: float = 0.0) -> None:
        self._replies = list(replies or [])
        self._delay = delay

    async def stream(self, request: ModelRequest) -> AsyncIterator[ProviderEvent]:
        reply = self._next_reply(request)
        usage = Usage(input_tokens=_estimate(request), output_tokens=0)
        if isinstance(reply, dict) and "tool_use" in reply:
            call = reply["tool_use"]
            block = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:20]}",
                     "name": call["name"], "input": call.get("input", {})}
            yield ToolUseStarted(block["id"], block["name"])
            usage.output_tokens = len(json.dumps(block)) // 4 + 1
            yield MessageComplete([block], "tool_use", usage)
            return
        text = str(reply)
        for index, word in enumerate(text.split(" ")):
            if self._delay:
                await asyncio.sleep(self._delay)
            yield TextDelta(word if index == 0 else f" {word}")
        usage.output_tokens = len(text) // 4 + 1
        yield MessageComplete([{"type": "text", "text": text}], "end_turn", usage)

    def _next_reply(self, request: ModelRequest) -> Any:
        last = request.messages[-1] if request.messages else {"role": "user", "content": ""}
        if last["role"] == "user" and _is_tool_result(last):
            return "Done: " + _result_summary(last)
        if self._replies:
            return self._replies.pop(0)
        text = Message(role="user", content=last["content"]).text().strip()
        if text.startswith("/tool "):
            name, _, raw = text[6:].partition(" ")
            try:
                return {"tool_use": {"name": name, "input": json.loads(raw or "{}")}}
            except json.JSONDecodeError:
                return f"scripted: cannot parse tool input {raw!r}"
        turns = sum(1 for m in request.messages if m["role"] == "user")
        return f"scripted reply {turns}: you said {text[:200]!r}"

    async def count_tokens(self, request: ModelRequest) -> int | None:
        return _estimate(request)

    async def aclose(self) -> None:
        return None


def _is_tool_result(message: dict[str, Any]) -> bool:
    content = message.get("content")
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") == "tool_result" for b in content)


def _result_summary(message: dict[str, Any]) -> str:
    return Message(role="user", content=message["content"]).text()[:500]


def _estimate(request: ModelRequest) -> int:
    raw = request.system + json.dumps(request.messages) + json.dumps(request.tools)
    return len(raw) // 4 + 1
