"""The MCP face's result shapes, made from the core's result models (``api_models``).

A tool's return annotation is the snake_case twin of its method's result model: the same
fields, types, limits and descriptions, without the camelCase aliases, so ``MCPServer``
publishes snake_case names in the tool's ``outputSchema`` and validates every
``structuredContent`` against it. Nothing is declared here; a field added to a result model
shows up in MCP's schema by itself.
"""

from __future__ import annotations

import copy
import functools
import operator
import types
from functools import cache
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, create_model


@cache
def snake_model(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` with its own field names on the wire, nested models likewise."""
    fields: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        info = copy.copy(field)
        info.alias = info.validation_alias = info.serialization_alias = None
        info.alias_priority = None
        if not field.is_required() and field.default is None and not callable(
                field.json_schema_extra):
            # an answer either carries the key or leaves it out: no default to publish, and a
            # key left out while None (``omitted``) is never null
            info.json_schema_extra = _never_null if field.exclude_if else _no_default
        fields[name] = (_snake_type(field.annotation), info)
    twin: type[BaseModel] = create_model(model.__name__, __doc__=model.__doc__, **fields)
    return twin


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def _never_null(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    options = [o for o in schema.pop("anyOf", []) if o != {"type": "null"}]
    if len(options) == 1:
        schema.update(options[0])
    elif options:
        schema["anyOf"] = options


def _snake_type(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return snake_model(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if not args:
        return annotation
    inner = tuple(_snake_type(a) for a in args)
    if origin is types.UnionType:
        return functools.reduce(operator.or_, inner)
    if origin is Union:
        return Union[inner]  # noqa: UP007 - rebuilt from a typing.Union
    if origin in (list, dict):
        return origin[inner]
    return annotation
