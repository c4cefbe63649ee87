"""Flow control for a stdio connection: how much the server reads, and what it holds unwritten.

Pushback is the pipe's: a server that stops reading stdin leaves the client's next write
blocked in its own process, and nothing of the flood is held here. So each face

* reads stdin through an ``asyncio.StreamReader`` with a small buffer (``open_stdio``): the
  transport stops reading from the pipe once 2 x 64 KiB are waiting to be framed;
* admits a request only while fewer than ``max_in_flight`` are unanswered (``InFlight``): past
  that the face stops asking its reader for frames until an answer goes out, however fast the
  client writes;
* writes stdout through a non-blocking pipe (``StdoutSink``) whose buffer is drained before
  more input is read and before a streamed delta is sent, so a client that reads nothing makes
  the server wait, not grow; the event loop itself never blocks on a write, so signals are
  still handled while the client reads nothing.

Notifications and responses to our own requests are never held back: they release work
(``$/cancelRequest``, a permission answer) rather than add it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections import Counter
from typing import IO, Any

from victor_server.adapters.wire_guard import WireLimits

logger = logging.getLogger(__name__)

READ_BUFFER = 64 * 1024
WRITE_HIGH_WATER = 256 * 1024


class InFlight:
    """Requests read but not yet answered, per connection; ``admit`` waits at the limit."""

    def __init__(self, limits: WireLimits) -> None:
        self._limits = limits
        self._ids: Counter[Any] = Counter()
        self._count = 0
        self._freed = asyncio.Event()

    def __len__(self) -> int:
        return self._count

    async def admit(self, request_id: Any) -> None:
        if self._count >= self._limits.max_in_flight:
            logger.info("%d requests unanswered: reading paused", self._count)
            while self._count >= self._limits.max_in_flight:
                self._freed.clear()
                await self._freed.wait()
        self._ids[request_id] += 1
        self._count += 1

    async def settle(self, grace: float = 1.0) -> None:
        """At stdin EOF: give the requests already read up to ``grace`` seconds to be
        answered (a client that closes stdin after its last request still reads stdout);
        what still runs after that (a turn) is cancelled by the face, which stays within
        the second a client gives a server to exit."""
        async def idle() -> None:
            while self._count:
                self._freed.clear()
                await self._freed.wait()

        try:
            await asyncio.wait_for(idle(), grace)
        except TimeoutError:
            logger.info("stdin closed; %d requests still unanswered are cancelled", self._count)

    def done(self, request_id: Any) -> None:
        """An answer to ``request_id`` went out (or will never be owed)."""
        try:
            if not self._ids.get(request_id):
                return
        except TypeError:  # an unhashable id was never admitted
            return
        self._ids[request_id] -= 1
        if not self._ids[request_id]:
            del self._ids[request_id]
        self._count -= 1
        self._freed.set()


class _PipeFlow(asyncio.Protocol):
    def __init__(self) -> None:
        self.paused = False
        self.lost = False
        self._resumed = asyncio.Event()
        self._resumed.set()

    def pause_writing(self) -> None:
        self.paused = True
        self._resumed.clear()

    def resume_writing(self) -> None:
        self.paused = False
        self._resumed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._resumed.set()

    async def wait(self) -> None:
        await self._resumed.wait()


class StdoutSink:
    """stdout for a face: ``write`` never blocks the loop; ``drain`` waits for the client."""

    def __init__(self, transport: asyncio.WriteTransport | None, flow: _PipeFlow | None,
                 file: IO[bytes] | None = None) -> None:
        self._transport = transport
        self._flow = flow
        self._file = file  # a regular file (output redirected): plain blocking writes

    def write(self, data: bytes) -> None:
        if self._transport is not None:
            if not self._transport.is_closing():
                self._transport.write(data)
        elif self._file is not None:
            self._file.write(data)
            self._file.flush()

    def buffered(self) -> int:
        return self._transport.get_write_buffer_size() if self._transport is not None else 0

    @property
    def closed(self) -> bool:
        return self._flow is not None and self._flow.lost

    async def drain(self) -> None:
        if self._flow is not None and self._flow.paused:
            await self._flow.wait()

    async def flush(self, grace: float = 1.0) -> None:
        """Wait (up to ``grace`` seconds) until everything written has reached the pipe."""
        if self._transport is None or self._flow is None or self._flow.lost:
            return
        self._transport.set_write_buffer_limits(high=0)  # paused until the buffer is empty
        try:
            async with asyncio.timeout(grace):
                await self.drain()
        except TimeoutError:
            logger.info("stdout not taken by the client; %d bytes dropped", self.buffered())

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


async def open_stdio(stdin: IO[Any] | None = None, stdout: IO[Any] | None = None,
                     ) -> tuple[asyncio.StreamReader, StdoutSink]:
    """Non-blocking stdin and stdout for this loop (see ``open_stdin``, ``open_stdout``)."""
    return await open_stdin(stdin), await open_stdout(stdout)


async def open_stdin(stdin: IO[Any] | None = None, prefix: bytes = b"") -> asyncio.StreamReader:
    """stdin as a small-buffered ``StreamReader``, after ``prefix`` (bytes already read from
    it); a regular file (a redirection) is read on a thread instead."""
    loop = asyncio.get_running_loop()
    stdin = stdin or sys.stdin
    reader = asyncio.StreamReader(limit=READ_BUFFER)
    if prefix:
        reader.feed_data(prefix)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stdin)
    except (ValueError, OSError, NotImplementedError):
        _feed_from_thread(loop, reader, _binary(stdin))
    return reader


async def open_stdout(stdout: IO[Any] | None = None) -> StdoutSink:
    """stdout as a non-blocking pipe; a regular file gets plain blocking writes."""
    loop = asyncio.get_running_loop()
    stdout = stdout or sys.stdout
    flow = _PipeFlow()
    try:
        transport, _ = await loop.connect_write_pipe(lambda: flow, stdout)
    except (ValueError, OSError, NotImplementedError):
        return StdoutSink(None, None, _binary(stdout))
    transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
    return StdoutSink(transport, flow)


def _binary(stream: IO[Any]) -> IO[bytes]:
    buffer: IO[bytes] = getattr(stream, "buffer", stream)
    return buffer


def _feed_from_thread(loop: asyncio.AbstractEventLoop, reader: asyncio.StreamReader,
                      source: IO[bytes]) -> None:
    """stdin is a regular file: read it on a thread (it is finite, so reading ahead is too)."""
    def pump() -> None:
        try:
            while chunk := source.read(READ_BUFFER):
                loop.call_soon_threadsafe(reader.feed_data, chunk)
        except (OSError, ValueError):
            pass
        finally:
            try:
                loop.call_soon_threadsafe(reader.feed_eof)
            except RuntimeError:  # the loop is gone
                pass

    threading.Thread(target=pump, name="victor-stdin", daemon=True).start()
