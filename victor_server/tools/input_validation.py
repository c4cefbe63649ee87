"""Checking a tool call's input against the tool's JSON schema before it runs.

Built-ins, plugins and MCP servers all describe their input with JSON Schema, and models do
send wrong shapes (a missing field, a number as a string). ``jsonschema`` is already installed
as a dependency of the ``mcp`` SDK and covers every keyword a plugin or MCP server might use,
which a hand-rolled required/type checker would not; it is imported on the first call only.

The message is written for the model: the field path and what was wrong, e.g.
``invalid input for read: at 'offset': 'x' is not of type 'integer'``. A tool whose own schema
is broken is logged once and run unchecked rather than made uncallable.
"""

from __future__ import annotations

import logging
from typing import Any

from victor_server.tools.base import ToolSpec

logger = logging.getLogger(__name__)


class InputValidator:
    def __init__(self) -> None:
        # id(spec) -> (spec, validator or None); the spec is kept so its id cannot be reused
        self._validators: dict[int, tuple[ToolSpec, Any]] = {}

    def problem(self, spec: ToolSpec, tool_input: Any) -> str | None:
        """None when ``tool_input`` fits ``spec.input_schema``, else a message for the model."""
        if not isinstance(tool_input, dict):
            return (f"invalid input for {spec.name}: expected a JSON object, got "
                    f"{type(tool_input).__name__}")
        validator = self._validator(spec)
        if validator is None:
            return None
        import jsonschema.exceptions

        error = jsonschema.exceptions.best_match(validator.iter_errors(tool_input))
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path)
        at = f"at {where!r}: " if where else ""
        return f"invalid input for {spec.name}: {at}{error.message}"

    def _validator(self, spec: ToolSpec) -> Any:
        cached = self._validators.get(id(spec))
        if cached is not None and cached[0] is spec:
            return cached[1]
        import jsonschema
        import jsonschema.exceptions

        validator: Any = None
        try:
            cls = jsonschema.validators.validator_for(spec.input_schema,
                                                      default=jsonschema.Draft202012Validator)
            cls.check_schema(spec.input_schema)
            validator = cls(spec.input_schema)
        except jsonschema.exceptions.SchemaError as exc:
            logger.warning("tool %s has an invalid input schema, input not checked: %s",
                           spec.name, exc.message)
        self._validators[id(spec)] = (spec, validator)
        return validator
