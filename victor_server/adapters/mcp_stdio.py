"""MCP over stdio, with malformed frames answered instead of dropped.

The SDK's stdio transport turns a line it cannot validate into an ``Exception`` item on the
read stream, and its dispatcher logs that at debug level and moves on: the client never hears
why its message went nowhere. SPEC section 8 wants -32700 for a frame that cannot be parsed and
-32600 for JSON that is not a request. ``serve_stdio`` sits one relay between the transport and
the server: messages pass through untouched, exceptions become those answers (with the id when
the line had a usable one; the screening rules are ``wire_guard``'s, shared with the other
faces).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

from victor_server.adapters.mcp_fast_start import FirstFrame, remember
from victor_server.adapters.wire_guard import INVALID_REQUEST, PARSE_ERROR

logger = logging.getLogger(__name__)


def answer_for(exc: Exception) -> tuple[int, str]:
    """The JSON-RPC code and message for a line the SDK could not take."""
    errors = getattr(exc, "errors", None)
    kinds = {e.get("type") for e in errors()} if callable(errors) else set()
    if "json_invalid" in kinds or (not kinds and isinstance(exc, ValueError)):
        return PARSE_ERROR, "parse error: not JSON"
    return INVALID_REQUEST, "invalid request: not a JSON-RPC request, notification or response"


async def serve_stdio(server: Any, first: FirstFrame | None = None) -> None:
    """``MCPServer.run_stdio_async``, with the screening relay in front of the server.

    ``first`` is a frame read (and maybe answered) before the SDK was imported
    (``mcp_fast_start``): it is handed to the server first, and the server's own answer to an
    ``initialize`` we already answered is checked and dropped."""
    import mcp_types as types

    lowlevel = server._lowlevel_server  # what run_stdio_async drives, with the same options
    async with stdio_server() as (read_stream, write_stream):
        relay_in, relay_out = anyio.create_memory_object_stream[Any](0)
        answers_in, answers_out = anyio.create_memory_object_stream[Any](0)

        async def screened(item: Any) -> None:
            if not isinstance(item, Exception):
                await relay_in.send(item)
                return
            code, message = answer_for(item)
            logger.warning("answered a malformed frame with %d: %s", code, message[:200])
            error = types.JSONRPCError(jsonrpc="2.0", id=None, error=types.ErrorData(
                code=code, message=message))
            await write_stream.send(SessionMessage(error))

        async def relay() -> None:
            async with relay_in, read_stream:
                if first is not None and first.raw.strip():
                    try:
                        parsed: Any = SessionMessage(types.jsonrpc_message_adapter.validate_json(
                            first.raw, by_name=False))
                    except Exception as exc:
                        parsed = exc
                    await screened(parsed)
                async for item in read_stream:
                    await screened(item)

        forwarded = anyio.Event()

        async def answers() -> None:
            pending = first if first is not None and first.protocol_version else None
            # owns the transport's write side now: closing it lets stdio_server finish
            async with answers_out, write_stream:
                async for item in answers_out:
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
