"""MCP over stdio, with every frame answered and no more than ``max_in_flight`` requests held.

The SDK's stdio transport would read stdin lines of any length, hand a line it cannot validate
to the dispatcher as an ``Exception`` (which logs it at debug level: the client never hears why
its message went nowhere), and start a task for every request however many arrive. So:

* stdin is read by ``stdio_lines.ScreenedLines`` (given to the SDK's transport as its stdin):
  frames over the size or depth limit are answered -32600 and never reach a parser. fd 0
  itself is pointed at ``/dev/null`` first, as the SDK does for its own reader, so tools
  started as child processes cannot read the wire;
* ``serve_stdio`` sits one relay between the transport and the server: exceptions become
  -32700/-32600 answers, and a request is passed on only while fewer than ``max_in_flight``
  are unanswered. The relay sees every answer on its way out, and a
  ``notifications/cancelled`` (the SDK never answers a cancelled request) frees its slot.
  While the relay waits, nothing more is read, and the client's writes block in its own
  process.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import IO, Any

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

from victor_server.adapters.mcp_fast_start import FirstFrame, remember
from victor_server.adapters.stdio_lines import ScreenedLines
from victor_server.adapters.wire_flow import InFlight, open_stdin
from victor_server.adapters.wire_guard import INVALID_REQUEST, PARSE_ERROR, WireLimits

logger = logging.getLogger(__name__)


def answer_for(exc: Exception) -> tuple[int, str]:
    """The JSON-RPC code and message for a line the SDK could not take."""
    errors = getattr(exc, "errors", None)
    kinds = {e.get("type") for e in errors()} if callable(errors) else set()
    if "json_invalid" in kinds or (not kinds and isinstance(exc, ValueError)):
        return PARSE_ERROR, "parse error: not JSON"
    return INVALID_REQUEST, "invalid request: not a JSON-RPC request, notification or response"


def claim_stdin() -> IO[bytes]:
    """A private descriptor for the wire; fd 0 becomes ``/dev/null`` for everything else."""
    try:
        import fcntl

        private = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 3)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    except (ImportError, OSError):  # Windows, or no stdin to claim: read it in place
        return sys.stdin.buffer
    return os.fdopen(private, "rb", buffering=0)


async def serve_stdio(server: Any, first: FirstFrame | None = None,
                      limits: WireLimits | None = None) -> None:
    """``MCPServer.run_stdio_async``, with the screening relay in front of the server.

    ``first`` is a frame read (and maybe answered) before the SDK was imported
    (``mcp_fast_start``): its bytes are read again ahead of stdin, and the server's own answer
    to an ``initialize`` we already answered is checked and dropped."""
    import mcp_types as types

    limits = limits or WireLimits.process()
    lines = ScreenedLines(await open_stdin(claim_stdin(), first.raw if first else b""), limits)
    in_flight = InFlight(limits)
    lowlevel = server._lowlevel_server  # what run_stdio_async drives, with the same options
    async with stdio_server(stdin=lines) as (read_stream, write_stream):  # type: ignore[arg-type]
        relay_in, relay_out = anyio.create_memory_object_stream[Any](0)
        answers_in, answers_out = anyio.create_memory_object_stream[Any](0)

        async def answer(error: dict[str, Any]) -> None:
            await write_stream.send(SessionMessage(types.JSONRPCError(
                jsonrpc="2.0", id=error["id"], error=types.ErrorData(**error["error"]))))

        lines.attach(answer)

        async def relay() -> None:
            async with relay_in, read_stream:
                async for item in read_stream:
                    if isinstance(item, Exception):
                        code, message = answer_for(item)
                        logger.warning("answered a malformed frame with %d: %s", code, message)
                        await answer({"id": None, "error": {"code": code, "message": message}})
                        continue
                    message = item.message
                    if isinstance(message, types.JSONRPCRequest):
                        await in_flight.admit(message.id)
                    elif isinstance(message, types.JSONRPCNotification) and \
                            message.method == "notifications/cancelled":
                        in_flight.done((message.params or {}).get("requestId"))
                    await relay_in.send(item)
                # stdin EOF: the SDK cancels whatever runs once this stream ends, so the
                # requests already read get their chance to be answered first
                await in_flight.settle()

        forwarded = anyio.Event()

        async def answers() -> None:
            pending = first if first is not None and first.protocol_version else None
            # owns the transport's write side now: closing it lets stdio_server finish
            async with answers_out, write_stream:
                async for item in answers_out:
                    message = item.message
                    if isinstance(message, types.JSONRPCResponse | types.JSONRPCError):
                        in_flight.done(message.id)
                    if pending is not None and _settles(item, pending):
                        keep = pending.answered is None
                        pending = None
                        if not keep:
                            continue
                    await write_stream.send(item)
            forwarded.set()

        async with anyio.create_task_group() as group:
            group.start_soon(relay)
            group.start_soon(answers)
            await lowlevel.run(relay_out, answers_in, lowlevel.create_initialization_options())
            answers_in.close()  # every answer the server wrote reaches the client before we stop
            await forwarded.wait()
            group.cancel_scope.cancel()


def _settles(item: Any, first: FirstFrame) -> bool:
    """True when ``item`` is the server's answer to the pre-read ``initialize``; records it."""
    data = json.loads(item.message.model_dump_json(by_alias=True, exclude_unset=True))
    if data.get("id") != first.request_id or "result" not in data:
        return False
    assert first.protocol_version is not None
    if first.answered is not None and first.answered != data["result"]:
        logger.warning("the cached initialize answer differed from the SDK's; re-recorded")
    remember(first.protocol_version, data["result"])
    return True
