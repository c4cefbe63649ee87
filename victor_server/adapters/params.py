"""Request params, validated once for every face.

Field names are the LSP face's camelCase; MCP passes the same fields in
snake_case and ``validate_params`` accepts both. A wrong type or a missing field becomes
``InvalidParams`` naming the field path, so every face answers -32602 the same way.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from victor_server.errors import InvalidParams


class Params(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", alias_generator=to_camel,
                              populate_by_name=True)


class ChatParams(Params):
    message: str
    session_id: str | None = None
    context: dict[str, Any] | None = None
    stream: bool = True
    pin: bool = False


class SelectToolsParams(Params):
    query: str
    max_tools: int | None = Field(None, ge=1, le=1000)
    strategy: str | None = None
    session_id: str | None = None


class CompactContextParams(Params):
    session_id: str
    strategy: str | None = None
    target_ratio: float | None = Field(None, gt=0.0, lt=1.0)


class SessionParams(Params):
    session_id: str


class OptionalSessionParams(Params):
    session_id: str | None = None


class BuildPromptParams(Params):
    context: dict[str, Any] | None = None
    session_id: str | None = None


class CreateSessionParams(Params):
    session_id: str | None = None
    tenant_id: str | None = None
    title: str | None = None


class ListSessionsParams(Params):
    tenant_id: str | None = None
    limit: int = Field(50, ge=1, le=1000)
    cursor: str | None = None


class SummaryParams(Params):
    session_id: str | None = None
    since: float | None = None


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
