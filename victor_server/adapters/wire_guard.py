"""What a face answers to a JSON-RPC message its framework would drop, or die on.

SPEC section 8: a frame that cannot be parsed is answered with -32700, a message that is JSON
but not a request is answered with -32600, and neither ever stops the server. The protocol
frameworks differ here: pygls logs and drops most malformed messages, and the ACP SDK's receive
loop ends on the first message that is not an object (a batch, a number), which ends the
process. So each face screens what arrives with the same two functions:

* ``parse_error(reason)``: the -32700 response (id null) for bytes that are not JSON;
* ``invalid_request(message)``: the -32600 response for a parsed message that is not a
  request, notification or response, or None when it is one.

``LineGuard`` applies both to a newline-delimited stream (ACP) before the framework reads it.
Batches are not part of LSP, MCP (2025-06-18 onwards) or ACP, so a batch is one invalid
request. Params are left to each method, which answers -32602 naming the field.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

logger = logging.getLogger(__name__)

PARSE_ERROR = -32700
INVALID_REQUEST = -32600


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


def screen_line(line: bytes) -> dict[str, Any] | None:
    """The error answer for one newline-delimited frame, or None to pass it on."""
    if not line.strip():
        return None
    try:
        message = json.loads(line)
    except ValueError as exc:  # includes UnicodeDecodeError
        return parse_error(exc)
    return invalid_request(message)


class LineGuard(asyncio.StreamReader):
    """A filtering ``asyncio.StreamReader`` for an NDJSON framework: lines that are not a
    well-formed JSON-RPC message are answered here and never reach the framework. (A subclass
    only because the ACP SDK insists on the type; all reads go to the wrapped reader.)

    ``max_line`` bounds a frame; a longer one is read through, dropped and answered -32600,
    so a hostile client cannot make us hold an unbounded line.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: Any,
                 max_line: int = 64 * 1024 * 1024) -> None:
        super().__init__()
        self._reader = reader
        self._writer = writer
        self._max_line = max_line

    async def readuntil(self, separator: bytes = b"\n") -> bytes:  # type: ignore[override]
        while True:
            line, too_long = await self._read_line(separator)
            answer = error_response(None, INVALID_REQUEST, "invalid request: frame too large") \
                if too_long else screen_line(line)
            if answer is None:
                return line
            logger.warning("answered a malformed frame: %s", answer["error"]["message"][:200])
            self._writer.write(json.dumps(answer).encode() + b"\n")
            await self._writer.drain()

    async def readexactly(self, n: int) -> bytes:
        return await self._reader.readexactly(n)

    async def _read_line(self, separator: bytes) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size = 0
        while True:
            try:
                chunks.append(await self._reader.readuntil(separator))
                break
            except asyncio.LimitOverrunError as exc:  # longer than the reader's buffer limit
                chunk = await self._reader.readexactly(exc.consumed)
                size += len(chunk)
                if size <= self._max_line:
                    chunks.append(chunk)
            except asyncio.IncompleteReadError as exc:  # EOF: the framework sees the rest
                raise asyncio.IncompleteReadError(b"".join([*chunks, exc.partial]), None) \
                    from None
        if size > self._max_line:
            return b"", True
        return b"".join(chunks), False
