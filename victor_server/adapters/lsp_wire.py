"""Content-Length framing for the LSP face, under the wire limits, resynchronising on lies.

pygls' own reader trusts the header: it matches ``Content-Length: <digits>\\r\\n`` exactly
(a lower-case ``content-length``, valid by the header rules LSP borrows from HTTP, is never
seen), reads as many bytes as it says in one call (``1000000000000`` is a MemoryError), and a
length that is wrong by one byte leaves it reading the next frame's header as a body, so it
never answers again. ``ContentLengthReader`` replaces it:

* header names are case-insensitive; a length must be 0-18 ASCII digits, anything else (a
  sign, a word, a float) is answered -32700 and the frame is dropped;
* a length over ``max_frame_bytes`` is answered -32600 at once (with the id, when the first
  bytes show it) and its body is read through in 64 KiB pieces and dropped, never held;
* it resynchronises on the next header. The key fact: ``Content-Length:``, then anything but a
  quote, then a line break, can never occur inside valid JSON (outside strings
  ``Content-Length`` is no token, and a string cannot hold a raw line break, nor end without a
  quote). So wherever that pattern shows up -
  inside what a header said was the body, in the middle of a junk line, in a body being
  dropped - a new frame starts there. A body shorter than its header claims ends where the next
  frame begins (answered -32600 with its id); one longer leaves a tail before the next header,
  which is skipped as junk.

``serve`` is the loop that replaces ``pygls.io_.run_async``: it also screens depth before
parsing and admits requests under ``max_in_flight`` (``wire_flow``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from pygls.exceptions import JsonRpcException

from victor_server.adapters.wire_flow import InFlight, StdoutSink
from victor_server.adapters.wire_guard import (
    INVALID_REQUEST,
    PARSE_ERROR,
    WireLimits,
    error_response,
    log_answer,
    parse_error,
    screen_bytes,
    sniff_id,
    too_large,
)

logger = logging.getLogger(__name__)

HEADER_NAME = re.compile(rb"content-length[ \t]*:", re.IGNORECASE)
FRAME_START = re.compile(rb'content-length[ \t]*:[^\r\n"]{0,64}\r?\n', re.IGNORECASE)
LENGTH = re.compile(rb"\d{1,18}")
OTHER_HEADER = re.compile(rb"[!-9;-~]+[ \t]*:")
MAX_HEADER_LINE = 8192
CHUNK = 64 * 1024
OVERLAP = 64  # bytes kept between scans, so a header split across two reads is still found


@dataclass
class Refused:
    """A frame answered (or dropped) without being handed on."""

    answer: dict[str, Any]


class ContentLengthReader:
    def __init__(self, reader: asyncio.StreamReader, limits: WireLimits) -> None:
        self._reader = reader
        self._limits = limits
        self._buf = bytearray()
        self._discard = 0  # bytes of a refused body still to drop

    async def _fill(self) -> bool:
        chunk = await self._reader.read(CHUNK)
        self._buf += chunk
        return bool(chunk)

    async def next(self) -> bytes | Refused | None:
        """The next body, a refusal to answer, or None at EOF."""
        if self._discard and not await self._drop_body():
            return None
        length = await self._headers()
        if length is None:
            return None
        if isinstance(length, Refused):
            return length
        if length > self._limits.max_frame_bytes:
            if not self._buf:
                await self._fill()
            self._discard = length
            head = bytes(self._buf[:4096])
            found = FRAME_START.search(head)  # the id is the refused frame's, not the next one's
            return Refused(too_large(head[:found.start()] if found else head, length,
                                     self._limits))
        return await self._body(length)

    async def _headers(self) -> int | Refused | None:
        length: int | None = None
        bad: bytes | None = None
        seen = False  # a header line since the last blank line
        while True:
            end = self._buf.find(b"\n")
            if end < 0:
                if len(self._buf) > MAX_HEADER_LINE:  # no header is this long: junk
                    self._skip_junk()
                    length, bad, seen = None, None, False
                elif not await self._fill():
                    return None
                continue
            line = bytes(self._buf[:end + 1])
            name = HEADER_NAME.search(line)
            if name is not None and name.start() > 0:  # a frame begins mid-line, after junk
                del self._buf[:name.start()]
                length, bad, seen = None, None, False
                continue
            del self._buf[:end + 1]
            if not line.strip():  # the blank line that ends the headers
                if length is not None:
                    return length
                if bad is not None:
                    return Refused(error_response(None, PARSE_ERROR, "parse error: Content-Length "
                                                  f"{bad.decode('ascii', 'replace')!r} is not a "
                                                  "length; frame dropped"))
                if seen:
                    return Refused(error_response(None, PARSE_ERROR,
                                                  "parse error: no Content-Length header"))
                continue  # a stray line break between frames
            if name is not None:
                value = line[name.end():].strip()
                if LENGTH.fullmatch(value):
                    length, bad = int(value), None
                else:
                    length, bad = None, value[:40]
                seen = True
            elif OTHER_HEADER.match(line):
                seen = True  # Content-Type and the like: nothing to do
            else:
                logger.debug("skipped a junk line between frames (%d bytes)", len(line))
                length, bad, seen = None, None, False

    def _skip_junk(self) -> None:
        found = HEADER_NAME.search(self._buf, 1)
        if found is not None:
            del self._buf[:found.start()]
        else:
            del self._buf[:-OVERLAP]

    async def _body(self, length: int) -> bytes | Refused | None:
        scanned = 0
        while True:
            found = FRAME_START.search(self._buf, max(0, scanned - OVERLAP),
                                       min(len(self._buf), length + OVERLAP))
            if found is not None and found.start() < length:
                body = bytes(self._buf[:found.start()])
                del self._buf[:found.start()]
                return Refused(error_response(
                    _id_of(body), INVALID_REQUEST,
                    f"invalid request: Content-Length {length} is more than the "
                    f"{len(body)} bytes before the next frame; frame dropped"))
            if len(self._buf) >= length:
                body = bytes(self._buf[:length])
                del self._buf[:length]
                return body
            scanned = len(self._buf)
            if not await self._fill():
                return None

    async def _drop_body(self) -> bool:
        """Drop what is left of a refused body; stop early where the next frame begins.
        False at EOF."""
        while self._discard:
            found = FRAME_START.search(self._buf, 0, min(len(self._buf), self._discard + OVERLAP))
            if found is not None and found.start() < self._discard:
                del self._buf[:found.start()]
                self._discard = 0
                return True
            keep = OVERLAP if len(self._buf) < self._discard else 0
            drop = min(self._discard, max(0, len(self._buf) - keep))
            del self._buf[:drop]
            self._discard -= drop
            if self._discard and not await self._fill():
                return False
        return True


def _id_of(body: bytes) -> Any:
    try:
        message = json.loads(body)
    except (ValueError, RecursionError):
        return sniff_id(body)
    request_id = message.get("id") if isinstance(message, dict) else None
    return request_id if isinstance(request_id, str | int) else None


def answered_id(data: Any) -> tuple[bool, Any]:
    """Whether ``data`` (what pygls is about to send) answers a request, and which."""
    if isinstance(data, dict):
        return "method" not in data and ("result" in data or "error" in data), data.get("id")
    if hasattr(data, "method") or not hasattr(data, "id"):
        return False, None
    return hasattr(data, "result") or hasattr(data, "error"), data.id


async def serve(server: Any, reader: asyncio.StreamReader, sink: StdoutSink,
                limits: WireLimits, in_flight: InFlight) -> None:
    """Read frames until EOF and hand each to pygls' protocol, as ``run_async`` would."""
    protocol = server.protocol
    frames = ContentLengthReader(reader, limits)
    while not server._stop_event.is_set():
        await sink.drain()  # answers the client has not taken yet: read nothing more
        body = await frames.next()
        if body is None:  # stdin EOF: answer what was asked before running work is cancelled
            await in_flight.settle()
            break
        refused = body if isinstance(body, Refused) else None
        if refused is None and isinstance(body, bytes):
            answer = screen_bytes(body, limits)
            refused = Refused(answer) if answer is not None else None
        if refused is not None:
            log_answer(refused.answer)
            protocol._send_data(refused.answer)
            continue
        assert isinstance(body, bytes)
        try:
            message = json.loads(body, object_hook=protocol.structure_message)
        except (ValueError, RecursionError) as exc:  # ValueError includes UnicodeDecodeError
            protocol._send_data(parse_error(exc))
            continue
        except Exception as exc:  # pygls could not make a message of it
            server.report_server_error(exc, JsonRpcException)
            continue
        if hasattr(message, "method") and hasattr(message, "id"):
            await in_flight.admit(message.id)
        elif getattr(message, "method", None) == "exit":
            await in_flight.settle(10)  # pygls exits at once: answer `shutdown` and the rest first
        try:
            protocol.handle_message(message)
        except Exception as exc:
            logger.exception("unable to handle a message")
            server.report_server_error(exc, JsonRpcException)
