"""Newline-delimited JSON over stdio (MCP and ACP), read under the wire limits.

Both SDKs would read stdin themselves, each its own way: the MCP SDK iterates text lines of
any length and the ACP SDK buffers up to its stream limit (50 MiB by default, twice over
before the pipe is paused) and dies on a frame that is not an object. Here the faces hand them
frames from ``read_line`` instead, which never holds more than ``max_frame_bytes`` of one line
(a longer one is read through and dropped; its id is kept from the first bytes so the answer
can name it), and screen each frame's size and depth before any parser sees it:

* ``AcpStdio`` is an ACP ``Transport`` (the SDK's message-level seam): it parses and screens
  each frame, answers what is malformed itself, admits requests under ``max_in_flight`` and
  sees every answer go out, so the count of unanswered requests is exact;
* ``ScreenedLines`` is the line source the MCP SDK's stdio transport iterates: it drops and
  answers frames over the limits and leaves parsing to the SDK (``mcp_stdio`` relays the
  rest and counts requests in flight).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from victor_server.adapters.wire_flow import InFlight, StdoutSink
from victor_server.adapters.wire_guard import (
    WireLimits,
    log_answer,
    screen_bytes,
    screen_line,
    too_large,
)


@dataclass
class Oversize:
    """A line longer than the limit, read through and dropped; ``head`` is its start."""

    head: bytes
    size: int


async def read_line(reader: asyncio.StreamReader, limits: WireLimits) -> bytes | Oversize | None:
    """The next line (newline included when there was one), ``Oversize``, or None at EOF."""
    chunks: list[bytes] = []
    head, size = b"", 0
    while True:
        try:
            chunk, last = await reader.readuntil(b"\n"), True
        except asyncio.LimitOverrunError as exc:  # longer than the reader's small buffer
            chunk, last = await reader.readexactly(max(exc.consumed, 1)), False
        except asyncio.IncompleteReadError as exc:  # EOF: what came last is a frame too
            chunk, last = exc.partial, True
            if not chunk and not size:
                return None
        if not head:
            head = chunk[:4096]
        size += len(chunk)
        if size <= limits.max_frame_bytes + 1:  # + 1: the newline is not part of the frame
            chunks.append(chunk)
        elif chunks:
            chunks.clear()  # over the limit: nothing more of this line is kept
        if last:
            if size > limits.max_frame_bytes + 1:
                return Oversize(head, size)
            return b"".join(chunks)


class AcpStdio:
    """The ACP SDK's ``Transport`` over stdin/stdout, with the wire limits."""

    def __init__(self, reader: asyncio.StreamReader, sink: StdoutSink,
                 limits: WireLimits) -> None:
        self._reader = reader
        self._sink = sink
        self._limits = limits
        self.in_flight = InFlight(limits)

    async def receive(self) -> dict[str, Any] | None:
        while True:
            await self._sink.drain()  # answers not yet taken by the client: read nothing more
            frame = await read_line(self._reader, self._limits)
            if frame is None:  # stdin EOF: answer what was asked before the SDK cancels it
                await self.in_flight.settle()
                return None
            message: Any = None
            answer: dict[str, Any] | None = None
            if isinstance(frame, Oversize):
                answer = too_large(frame.head, frame.size, self._limits)
            else:
                message, answer = screen_line(frame, self._limits)
            if answer is not None:
                log_answer(answer)
                await self.send(answer)
                continue
            if not isinstance(message, dict):
                continue  # a blank line
            if "method" in message and "id" in message:
                await self.in_flight.admit(message["id"])
            return message

    async def send(self, message: dict[str, Any]) -> None:
        self._sink.write(json.dumps(message, separators=(",", ":")).encode() + b"\n")
        if "method" not in message and "id" in message:
            self.in_flight.done(message["id"])
        await self._sink.drain()

    async def close(self) -> None:
        self._sink.close()


Answer = Callable[[dict[str, Any]], Awaitable[None]]


class ScreenedLines:
    """Lines for the MCP SDK's stdio transport: frames over the limits are answered through
    ``attach``'s callback (the SDK's write stream, once it exists) and never passed on."""

    def __init__(self, reader: asyncio.StreamReader, limits: WireLimits) -> None:
        self._reader = reader
        self._limits = limits
        self._answer: Answer | None = None
        self._attached = asyncio.Event()

    def attach(self, answer: Answer) -> None:
        self._answer = answer
        self._attached.set()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        while (frame := await read_line(self._reader, self._limits)) is not None:
            if isinstance(frame, Oversize):
                answer = too_large(frame.head, frame.size, self._limits)
            elif not frame.strip():
                continue
            else:
                refused = screen_bytes(frame, self._limits)
                if refused is None:
                    yield frame.decode("utf-8", "replace")
                    continue
                answer = refused
            log_answer(answer)
            await self._attached.wait()
            assert self._answer is not None
            await self._answer(answer)
