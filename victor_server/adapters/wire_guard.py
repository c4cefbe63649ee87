"""What a face answers to a frame its framework would drop, choke on, or die on.

A frame that cannot be parsed is answered with -32700, and a message that is JSON but not a
request with -32600; neither ever stops the server. The protocol frameworks differ here: pygls
logs and drops most malformed messages, the ACP SDK's receive loop ends on the first message
that is not an object, and every JSON parser raises ``RecursionError`` (or gives up) somewhere
around a thousand levels of nesting. So each face screens what arrives with the same rules:

* ``WireLimits``: the largest frame, the deepest nesting and the most requests in flight one
  connection may have: the ``wire`` config keys. The wire is read before any config file is
  found (the LSP workspace comes from ``initialize``), so the environment's values
  (``VICTOR_WIRE__MAX_FRAME_BYTES``...) hold from the start and the config file's from the
  moment the application is built;
* ``screen_bytes(frame, limits)``: the -32600 answer for a frame too large or nested too deep,
  found without parsing it (a scan of the brackets outside strings), so no parser ever recurses
  past the limit;
* ``parse_error(reason)`` and ``invalid_request(message)``: the -32700 answer for bytes that are
  not JSON, and the -32600 answer for a parsed message that is not a request, notification or
  response;
* ``sniff_id(head)``: the id of a frame we refuse to parse, when it can be read from the first
  bytes, so the client's pending request gets its error instead of waiting forever.

Batches are not part of LSP, MCP (2025-06-18 onwards) or ACP, so a batch is one invalid
request. Params are left to each method, which answers -32602 naming the field.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

logger = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


@dataclass
class WireLimits:
    """Per-connection limits; the defaults leave room for any honest client (a 5 MB file in a
    prompt, a deeply nested tool schema) and none for a flood. The depth is below the lowest
    parser limit among the faces (the MCP SDK's pydantic parser gives up at 200 levels), so
    every face refuses the same frames the same way."""

    max_frame_bytes: int = 32 * 1024 * 1024
    max_depth: int = 128
    max_in_flight: int = 64

    @classmethod
    def process(cls) -> WireLimits:
        """The limits this process serves under (one connection per process): the
        environment's at first use, the config's once ``adopt`` has read it."""
        global _PROCESS_LIMITS
        if _PROCESS_LIMITS is None:
            _PROCESS_LIMITS = cls.from_environ()
        return _PROCESS_LIMITS

    async def adopt(self, app: Any) -> None:
        """Take the config's ``wire`` keys (a project's config file included) once the
        application exists; until then the environment's hold."""
        try:
            wire = (await app.orchestrator.config.resolve()).settings.wire
        except Exception as exc:  # the face's own requests report a config that is broken
            logger.debug("wire limits kept: %s", exc)
            return
        for field in fields(self):
            value = getattr(wire, field.name, None)
            if isinstance(value, int) and value > 0:
                setattr(self, field.name, value)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> WireLimits:
        environ = os.environ if environ is None else environ
        limits = cls()
        for field in fields(cls):
            var = f"VICTOR_WIRE__{field.name.upper()}"
            raw = environ.get(var)
            if raw is None:
                continue
            try:
                value = int(raw.strip())
            except ValueError:
                value = 0
            if value < 1:
                logger.warning("%s=%r is not a positive integer; using %d", var, raw,
                               getattr(limits, field.name))
                continue
            setattr(limits, field.name, value)
        return limits


_PROCESS_LIMITS: WireLimits | None = None


def error_response(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def parse_error(reason: object) -> dict[str, Any]:
    return error_response(None, PARSE_ERROR, f"parse error: {reason}")


def _valid_id(value: Any) -> bool:
    return value is None or (isinstance(value, str | int) and not isinstance(value, bool))


def invalid_request(message: Any) -> dict[str, Any] | None:
    """The -32600 response ``message`` deserves, or None if it is well formed."""
    if not isinstance(message, dict):
        what = "a batch, which this protocol does not use" if isinstance(message, list) \
            else f"a JSON {type(message).__name__}"
        return error_response(None, INVALID_REQUEST, f"invalid request: {what}, not an object")
    request_id = message.get("id")
    if not _valid_id(request_id):
        return error_response(None, INVALID_REQUEST,
                              "invalid request: id must be a string, an integer or null")
    if message.get("jsonrpc") != "2.0":
        return error_response(request_id, INVALID_REQUEST, 'invalid request: jsonrpc must be "2.0"')
    if "method" in message:
        if not isinstance(message["method"], str) or not message["method"]:
            return error_response(request_id, INVALID_REQUEST,
                                  "invalid request: method must be a non-empty string")
        return None
    if "id" in message and ("result" in message or "error" in message):
        return None  # a response to one of our requests
    return error_response(request_id, INVALID_REQUEST,
                          "invalid request: neither a method nor a result")


# A JSON string, escapes included (the unrolled form: no backtracking per character).
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")


def nesting_deeper_than(data: bytes, limit: int) -> bool:
    """True when ``data`` opens more than ``limit`` arrays/objects inside one another.

    Counts brackets outside strings without parsing. The common case costs two ``count``
    calls; only a frame with more brackets than the limit is walked bracket by bracket. An
    unterminated string's brackets count too, which can only refuse JSON that would not parse.
    """
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _STRING.sub(b"", data).translate(None, _NOT_BRACKET):
        if byte in _OPENERS:
            depth += 1
            if depth > limit:
                return True
        elif depth:
            depth -= 1
    return False


_ID = re.compile(rb'"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\\x00-\x1f]|\\.){0,256}")\s*[,}]')


def sniff_id(head: bytes) -> Any:
    """The request id in the first bytes of a frame we will not parse, or None.

    Only an ``"id"`` key of the top-level object counts (depth one, outside strings), so an
    ``id`` inside params is never taken for the request's.
    """
    head = head[:4096]
    for match in _ID.finditer(head):
        before = head[:match.start()]
        if _depth_at_end(before) != 1:
            continue
        try:
            value = json.loads(match.group(1))
        except ValueError:
            return None
        return value if _valid_id(value) else None
    return None


def _depth_at_end(data: bytes) -> int | None:
    """Bracket depth after ``data``, or None when ``data`` ends inside a string."""
    outside = _STRING.sub(b"", data)
    if b'"' in outside:
        return None
    depth = 0
    for byte in outside.translate(None, _NOT_BRACKET):
        depth += 1 if byte in _OPENERS else -1
    return depth


def screen_bytes(frame: bytes, limits: WireLimits) -> dict[str, Any] | None:
    """The -32600 answer for a frame over the size or depth limit, or None to parse it."""
    size = len(frame) - frame.endswith(b"\n")  # the newline of an NDJSON frame is framing
    if size > limits.max_frame_bytes:
        return too_large(frame[:4096], size, limits)
    if nesting_deeper_than(frame, limits.max_depth):
        return error_response(sniff_id(frame), INVALID_REQUEST,
                              f"invalid request: nested deeper than {limits.max_depth} levels")
    return None


def too_large(head: bytes, size: int, limits: WireLimits) -> dict[str, Any]:
    return error_response(sniff_id(head), INVALID_REQUEST,
                          f"invalid request: a {size}-byte frame is over the "
                          f"{limits.max_frame_bytes}-byte limit")


def screen_line(line: bytes, limits: WireLimits) -> tuple[Any, dict[str, Any] | None]:
    """One newline-delimited frame: ``(message, None)`` to pass on, ``(None, answer)`` to
    answer instead, ``(None, None)`` for a blank line."""
    if not line.strip():
        return None, None
    refused = screen_bytes(line, limits)
    if refused is not None:
        return None, refused
    try:
        message = json.loads(line)
    except (ValueError, RecursionError) as exc:  # ValueError includes UnicodeDecodeError
        return None, parse_error(exc)
    answer = invalid_request(message)
    return (None, answer) if answer is not None else (message, None)


def log_answer(answer: dict[str, Any]) -> None:
    logger.warning("answered a malformed frame with %d: %s", answer["error"]["code"],
                   str(answer["error"]["message"])[:200])
