"""The params and results of every protocol method, declared once for every face.

Fields are snake_case in Python; each model carries a camelCase alias, so one model is both
wires: the LSP and ACP faces read and write camelCase (``by_alias``), the MCP face snake_case.
A limit (``limit <= 1000``) or a field description lives on the model, and every face, the
MCP tool schemas included, takes it from there. Fields declared with ``omitted()`` are left
out of an answer when they are None; every other field is always written, null included.

A wrong type or a missing field becomes ``InvalidParams`` naming the field path (camelCase),
so every face answers -32602 the same way. Values typed ``dict[str, Any]`` (tool inputs,
stored message blocks, config, per-name counts) are user data and keep their keys as they are.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_serializer
from pydantic.alias_generators import to_camel

from victor_server.errors import InvalidParams


class StoredSession(Protocol):
    """What a session answer is made from (the store's ``SessionRow``)."""

    session_id: str
    tenant_id: str | None
    title: str | None
    created_at: float
    updated_at: float
    input_tokens: int
    output_tokens: int
    total_tokens: int
    message_count: int

Case = Literal["camel", "snake"]


def _is_none(value: Any) -> bool:
    return value is None


def _publish_nullable(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def omitted(description: str | None = None, nullable: bool = False) -> Any:
    """A field that is left out of the answer while it is None. Schemas publish it as its
    type, never null, unless ``nullable`` (a client may have been told it can be null)."""
    return Field(None, exclude_if=_is_none, description=description,
                 json_schema_extra=_publish_nullable if nullable else None)


class McpType:
    """Annotation metadata: the type the MCP face publishes in a tool's input schema for this
    field, where it is richer than what the core accepts (an open prompt context)."""

    def __init__(self, annotation: Any) -> None:
        self.annotation = annotation


# ---- params ------------------------------------------------------------------------------


class Params(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", alias_generator=to_camel,
                              populate_by_name=True)


class PromptContext(BaseModel):
    """``context`` of chat and build_prompt: what prompt contributors read (open-ended)."""

    model_config = ConfigDict(extra="allow")

    task: str | None = Field(None, description="what the user is working on")
    language: str | None = Field(None, description="language to answer in, e.g. python")
    requires_compliance: bool | None = Field(
        None, description="add the compliance contributor's rules to the prompt")


SessionId = Annotated[str, Field(description="session id; `tenant:rest` belongs to a tenant")]
OptionalSessionId = Annotated[str | None, Field(description="session id (optional)")]


class ChatParams(Params):
    message: Annotated[str, Field(description="the user's message")]
    session_id: Annotated[str | None, Field(
        description="continue this session (created under this id if new)")] = None
    context: Annotated[dict[str, Any] | None, McpType(PromptContext | None), Field(
        description="prompt context: task, language, requires_compliance, ...")] = None
    stream: Annotated[bool, Field(description="report deltas as progress")] = True
    pin: Annotated[bool, Field(description="keep this message through compaction")] = False


class SelectToolsParams(Params):
    query: Annotated[str, Field(description="what the tools are needed for")]
    max_tools: int | None = Field(None, ge=1, le=1000)
    strategy: Annotated[str | None, Field(description=(
        "keyword, semantic, hybrid, cost_aware, domain, all, or a plugin's name"))] = None
    session_id: OptionalSessionId = None


class CompactContextParams(Params):
    session_id: SessionId
    strategy: Annotated[str | None, Field(description=(
        "recent, recent_important, semantic, task_aware, summarize, or a plugin's name"))] = None
    target_ratio: float | None = Field(None, gt=0.0, lt=1.0,
                                       description="fraction of the context's tokens to keep")


class SessionParams(Params):
    session_id: SessionId


class OptionalSessionParams(Params):
    session_id: OptionalSessionId = None


class NoParams(Params):
    pass


class BuildPromptParams(Params):
    context: Annotated[dict[str, Any] | None, McpType(PromptContext | None),
                       Field(description="task, language, ...")] = None
    session_id: OptionalSessionId = None


class CreateSessionParams(Params):
    session_id: str | None = None
    tenant_id: str | None = None
    title: str | None = None


class ListSessionsParams(Params):
    tenant_id: Annotated[str | None, Field(description="only this tenant's")] = None
    limit: int = Field(50, ge=1, le=1000)
    cursor: Annotated[str | None, Field(description="next_cursor of a previous page")] = None


class SummaryParams(Params):
    session_id: OptionalSessionId = None
    since: Annotated[float | None, Field(description="Unix time; only later events")] = None


class SearchParams(Params):
    query: str
    limit: int = Field(20, ge=1, le=200)


P = TypeVar("P", bound=Params)


def plain(value: Any) -> Any:
    """pygls hands custom params over as namedtuple-like objects; make them JSON values."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def validate_params(model: type[P], raw: Any) -> P:
    data = plain(raw)
    if data is None or data == []:
        # Neovim encodes an empty Lua table as `[]`: any client may send it for "no params"
        data = {}
    if not isinstance(data, dict):
        raise InvalidParams("params", "an object is required")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(to_camel(str(p)) if isinstance(p, str) else str(p) for p in first["loc"])
        raise InvalidParams(path or "params", first["msg"]) from exc


# ---- results -----------------------------------------------------------------------------


class Result(BaseModel):
    """A method's answer. Keys the model does not declare (a plugin's additions to a summary,
    say) are kept for the camelCase faces as they came."""

    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)

    def render(self, case: Case = "camel") -> dict[str, Any]:
        """The answer as JSON values: camelCase keys (LSP, ACP) or snake_case (MCP)."""
        return self.model_dump(mode="json", by_alias=case == "camel")


class Usage(Result):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class ChatUsage(Usage):
    """A turn's usage: input excludes the prompt-cache reads and writes, counted apart."""

    cache_read_tokens: int
    cache_write_tokens: int


class ToolCallRecord(Result):
    id: str
    name: str
    input: dict[str, Any]
    is_error: bool


class ToolCallUpdate(Result):
    """A tool call's progress during a turn (``pending``, ``running``, ``completed``,
    ``error``), handed to the turn's ``on_tool`` callback; the application renders it in
    camelCase for the faces, which pass on what their protocol shows."""

    session_id: str
    id: str
    name: str
    status: str
    input: dict[str, Any]
    is_error: bool
    output: str  # the first 2000 characters
    data: dict[str, Any]  # the tool's structured result (a plan's entries, say)


class ChatResult(Result):
    session_id: str
    content: str
    usage: ChatUsage
    tool_calls: list[ToolCallRecord]
    stop_reason: str
    compacted: bool
    variant: str | None = omitted()


class SelectedTool(Result):
    name: str
    description: str
    score: float
    cost_tier: str
    domain: str | None = None


class SelectToolsResult(Result):
    strategy: str
    tools: list[SelectedTool]
    # why the ranking is by keyword when the strategy asked for embeddings
    # ("keyword" or "keyword (model loading)"), else None
    fallback: str | None = None


class ContextSize(Result):
    messages: int
    tokens: int


class CompactContextResult(Result):
    strategy: str
    before: ContextSize
    after: ContextSize
    ran: str | None = None  # the strategy whose output was used
    fallback: str | None = None  # why it is not ``strategy``
    note: str | None = omitted()


class ContextMessage(Result):
    role: str
    content: str | list[dict[str, Any]]


class CompactionView(Result):
    strategy: str | None
    compacted: bool
    ran: str | None
    fallback: str | None


class GetContextResult(Result):
    messages: list[ContextMessage]
    tokens: int
    context_window: int
    utilization: float
    compaction: CompactionView | None = omitted()


class Contribution(Result):
    name: str
    priority: int
    chars: int
    truncated: bool | None = omitted()


class BuildPromptResult(Result):
    system_prompt: str
    contributions: list[Contribution]


class ConfigResult(Result):
    config: dict[str, Any]
    sources: dict[str, Any]
    errors: list[Any] | None = omitted()


class Session(Result):
    session_id: str
    tenant_id: str | None
    title: str | None
    created_at: float
    updated_at: float
    message_count: int
    usage: Usage

    @classmethod
    def from_row(cls, row: StoredSession, **more: Any) -> Self:
        """A stored session as the session methods answer it (``more``: a subclass's fields)."""
        return cls(session_id=row.session_id, tenant_id=row.tenant_id, title=row.title,
                   created_at=row.created_at, updated_at=row.updated_at,
                   message_count=row.message_count,
                   usage=Usage(input_tokens=row.input_tokens, output_tokens=row.output_tokens,
                               total_tokens=row.total_tokens), **more)


class SessionList(Result):
    sessions: list[Session]
    next_cursor: str | None = omitted(nullable=True)


class StoredMessage(Result):
    role: str
    content: str | list[dict[str, Any]]
    created_at: float
    seq: int | None = omitted()
    complete: bool | None = omitted()
    pinned: bool | None = omitted()


class SessionWithMessages(Session):
    messages: list[StoredMessage]


class Deleted(Result):
    deleted: bool


class SearchHit(Result):
    session_id: str
    seq: int
    snippet: str  # the matching text, the match in [brackets]


class SearchResults(Result):
    results: list[SearchHit]


class TokenTotals(Result):
    input: int  # excludes the prompt-cache reads and writes, counted apart
    output: int
    total: int  # input + output
    cache_read: int | None = omitted()
    cache_write: int | None = omitted()


MODEL_COUNT_KEYS = {"cache_read": "cacheRead", "cache_write": "cacheWrite"}


class CostEstimate(Result):
    usd: float
    by_model: dict[str, float]
    unpriced: list[str]


class PerTurn(Result):
    tokens: float | None
    cost_usd: float | None
    tool_calls: float | None


class VariantArm(Result):
    """One A/B variant's arm of the summary (``victor_server.analytics.ab_summary``)."""

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
    latency_ms: float | None  # mean turn duration
    per_turn: PerTurn


class AnalyticsSummary(Result):
    events: dict[str, int]
    tokens: TokenTotals
    tool_calls: dict[str, int]
    sessions: int
    # tokens per model: input, output, cache_read, cache_write
    models: dict[str, dict[str, int]] | None = omitted()
    cost: CostEstimate | None = omitted()
    variants: dict[str, VariantArm] | None = omitted()  # by variant name

    @field_serializer("models")
    def _published_counts(
            self, models: dict[str, dict[str, int]] | None) -> dict[str, dict[str, int]] | None:
        """Each model's counts are published as input, output, cacheRead and cacheWrite on
        every face, the snake_case one included (the shape clients were given first)."""
        if models is None:
            return None
        return {model: {MODEL_COUNT_KEYS.get(kind, kind): n for kind, n in counts.items()}
                for model, counts in models.items()}


class AgentTool(Result):
    name: str
    description: str
    source: str  # "builtin", "plugin", or the MCP server's name
    domain: str
    cost_tier: str
    writes: bool  # writes files or runs commands
    # what a call does under tools.approvals: allow, ask, deny, or per_command (bash's rules)
    approval: str
    rule: str  # the config key that decides it


class ToolList(Result):
    tools: list[AgentTool]  # the tools the model may be offered, by name
    disabled: list[str]  # names disabled in config (never offered, never run)
