"""Where an Anthropic request marks its cache breakpoints (``cache_control: ephemeral``).

The API caches a request's prefix in the order tools -> system -> messages, up to each block that
carries ``cache_control`` (at most four per request), and a later request whose prefix is
byte-identical up to such a block reads it at a tenth of the input price. A lookup walks back at
most 20 blocks from a breakpoint to find an earlier cached prefix, so the marks go where the
*next* request will look:

1. the last tool definition: the tool list alone, shared by every request of a session and by a
   new session offered the same tools;
2. the system prompt: tools + system, the same for every turn of a session (nothing in the
   prompt changes per turn);
3. the last block of the last message: everything this request sends, which the next tool
   iteration or the next turn extends;
4. the last block of the user message before it: exactly where the previous request of the
   session ended (a request always ends on a user message, and the next one adds the model's
   answer and a new user message), so the previous request's entry is hit even when the answer
   and the tool results add more than 20 blocks.

A prefix shorter than the model's minimum (1024 tokens for most models) is not cached, which the
API handles by ignoring the mark. The request's own dicts are never changed: marked blocks are
shallow copies.
"""

from __future__ import annotations

from typing import Any

EPHEMERAL = {"type": "ephemeral"}
MAX_BREAKPOINTS = 4


def _marked(block: dict[str, Any]) -> dict[str, Any]:
    return {**block, "cache_control": dict(EPHEMERAL)}


def cached_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tools with a breakpoint on the last one."""
    if not tools:
        return tools
    return [*tools[:-1], _marked(tools[-1])]


def cached_system(system: str) -> list[dict[str, Any]]:
    """The system prompt as one text block carrying a breakpoint."""
    return [_marked({"type": "text", "text": system})]


def cached_messages(messages: list[dict[str, Any]], budget: int = 2) -> list[dict[str, Any]]:
    """The messages with breakpoints on the last block of the last message and of the user
    message before it (``budget`` of them at most, newest first)."""
    out = list(messages)
    user_turns = [i for i, m in enumerate(out) if m.get("role") == "user"]
    targets = [len(out) - 1] if out else []
    earlier = [i for i in user_turns if targets and i < targets[0]]
    if earlier:
        targets.append(earlier[-1])
    for index in targets[:budget]:
        message = out[index]
        content = message.get("content")
        if isinstance(content, str):
            content = [{"type": "text", "text": content}] if content else []
        blocks = list(content or [])
        position = len(blocks) - 1
        while position >= 0 and not _cacheable(blocks[position]):
            position -= 1  # thinking blocks cannot carry a mark; nor can empty text
        if position < 0:
            continue
        marked = [*blocks[:position], _marked(blocks[position]), *blocks[position + 1:]]
        out[index] = {**message, "content": marked}
    return out


def _cacheable(block: Any) -> bool:
    if not isinstance(block, dict):
        return False
    if block.get("type") in ("thinking", "redacted_thinking"):
        return False
    return not (block.get("type") == "text" and not str(block.get("text", "")).strip())


def count_breakpoints(params: dict[str, Any]) -> int:
    """How many ``cache_control`` marks a request body carries (tests and the fake API)."""
    count = sum(1 for t in params.get("tools") or [] if "cache_control" in t)
    system = params.get("system")
    if isinstance(system, list):
        count += sum(1 for b in system if isinstance(b, dict) and "cache_control" in b)
    for message in params.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):
            count += sum(1 for b in content if isinstance(b, dict) and "cache_control" in b)
    return count
