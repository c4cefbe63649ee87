"""The MCP face's result shapes: the LSP face's results with snake_case keys.

Each tool's return annotation is one of these ``TypedDict``s, so ``MCPServer`` publishes it as the
tool's ``outputSchema`` and validates every ``structuredContent`` against it. ``snake_keys`` renames
the core's camelCase result by walking the same types: only the keys a type declares are renamed,
and values typed ``dict[str, Any]`` (tool inputs, stored message blocks, config, per-name counts)
are user data and pass through untouched, so a tool named ``listIssues`` keeps its name.
"""

from __future__ import annotations

import re
import types
from functools import cache, lru_cache
from typing import Any, NotRequired, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, ConfigDict, Field

# pydantic (and so the SDK's outputSchema) needs typing_extensions' TypedDict before 3.12.
from typing_extensions import TypedDict


class PromptContext(BaseModel):
    """``context`` of chat and build_prompt: what prompt contributors read (open-ended)."""

    model_config = ConfigDict(extra="allow")

    task: str | None = Field(None, description="what the user is working on")
    language: str | None = Field(None, description="language to answer in, e.g. python")
    requires_compliance: bool | None = Field(
        None, description="add the compliance contributor's rules to the prompt")


class Usage(TypedDict):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class ChatUsage(Usage):
    """A turn's usage: input excludes the prompt-cache reads and writes, counted apart."""

    cache_read_tokens: int
    cache_write_tokens: int


class ToolCallRecord(TypedDict):
    id: str
    name: str
    input: dict[str, Any]
    is_error: bool


class ChatResult(TypedDict):
    session_id: str
    content: str
    usage: ChatUsage
    tool_calls: list[ToolCallRecord]
    stop_reason: str
    compacted: bool
    variant: NotRequired[str]


class SelectedTool(TypedDict):
    name: str
    description: str
    score: float
    cost_tier: str
    domain: NotRequired[str | None]


class SelectToolsResult(TypedDict):
    strategy: str
    tools: list[SelectedTool]
    fallback: NotRequired[str | None]  # "keyword" or "keyword (model loading)"


class ContextSize(TypedDict):
    messages: int
    tokens: int


class CompactContextResult(TypedDict):
    strategy: str
    before: ContextSize
    after: ContextSize
    ran: NotRequired[str | None]  # the strategy whose output was used
    fallback: NotRequired[str | None]  # why it is not ``strategy``
    note: NotRequired[str]


class ContextMessage(TypedDict):
    role: str
    content: str | list[dict[str, Any]]


class CompactionView(TypedDict):
    strategy: str | None
    compacted: bool
    ran: str | None
    fallback: str | None


class GetContextResult(TypedDict):
    messages: list[ContextMessage]
    tokens: int
    context_window: int
    utilization: float
    compaction: NotRequired[CompactionView]


class Contribution(TypedDict):
    name: str
    priority: int
    chars: int
    truncated: NotRequired[bool]


class BuildPromptResult(TypedDict):
    system_prompt: str
    contributions: list[Contribution]


class Session(TypedDict):
    session_id: str
    tenant_id: str | None
    title: str | None
    created_at: float
    updated_at: float
    message_count: int
    usage: Usage


class SessionList(TypedDict):
    sessions: list[Session]
    next_cursor: NotRequired[str | None]


class StoredMessage(TypedDict):
    role: str
    content: str | list[dict[str, Any]]
    created_at: float
    seq: NotRequired[int]
    complete: NotRequired[bool]
    pinned: NotRequired[bool]


class SessionWithMessages(Session):
    messages: list[StoredMessage]


class TokenTotals(TypedDict):
    input: int  # excludes the prompt-cache reads and writes, counted apart
    output: int
    total: int  # input + output
    cache_read: NotRequired[int]
    cache_write: NotRequired[int]


class CostEstimate(TypedDict):
    usd: float
    by_model: dict[str, float]
    unpriced: list[str]


class PerTurn(TypedDict):
    tokens: float | None
    cost_usd: float | None
    tool_calls: float | None


class VariantArm(TypedDict):  # one A/B variant (victor_server.analytics.ab_summary)
    settings: dict[str, Any]  # what the variant sets (config keys as written)
    sessions: int
    turns: int
    requests: int
    responses: int
    tokens: TokenTotals
    cost: CostEstimate
    tool_calls: dict[str, int]
    tool_call_count: int
    errors: int
    latency_ms: float | None
    per_turn: PerTurn


class AnalyticsSummary(TypedDict):
    events: dict[str, int]
    tokens: TokenTotals
    tool_calls: dict[str, int]
    sessions: int
    # tokens per model: input, output, cacheRead, cacheWrite
    models: NotRequired[dict[str, dict[str, int]]]
    cost: NotRequired[CostEstimate]
    variants: NotRequired[dict[str, VariantArm]]  # by variant name


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


@lru_cache(maxsize=4096)  # per key of every result, on every call: the same few dozen keys
def snake(key: str) -> str:
    return _CAMEL.sub("_", key).lower()


# get_type_hints evaluates the annotations each time; the shapes are a fixed set of classes
_type_hints = cache(get_type_hints)


def snake_keys(value: Any, shape: Any) -> Any:
    """``value`` (camelCase JSON from the core) with the keys ``shape`` declares in snake_case."""
    origin = get_origin(shape)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(shape) if a is not type(None)]
        typed = [a for a in members if _is_typed_dict(a) or get_origin(a) is list]
        return snake_keys(value, typed[0]) if len(typed) == 1 else value
    if origin is list and isinstance(value, list):
        (item,) = get_args(shape) or (Any,)
        return [snake_keys(v, item) for v in value]
    if origin is dict and isinstance(value, dict):  # names chosen by users keep their spelling
        args = get_args(shape)
        if len(args) == 2 and _is_typed_dict(args[1]):
            return {k: snake_keys(v, args[1]) for k, v in value.items()}
        return value
    if _is_typed_dict(shape) and isinstance(value, dict):
        fields = _type_hints(shape)
        renamed = {snake(k): v for k, v in value.items()}
        return {k: snake_keys(v, fields[k]) if k in fields else v for k, v in renamed.items()}
    return value


def _is_typed_dict(shape: Any) -> bool:
    return isinstance(shape, type) and issubclass(shape, dict) and hasattr(shape, "__total__")
