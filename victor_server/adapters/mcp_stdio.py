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

import logging
from typing import Any

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage

from victor_server.adapters.wire_guard import INVALID_REQUEST, PARSE_ERROR

logger = logging.getLogger(__name__)


def answer_for(exc: Exception) -> tuple[int, str]:
    """The JSON-RPC code and message for a line the SDK could not take."""
    errors = getattr(exc, "errors", None)
    kinds = {e.get("type") for e in errors()} if callable(errors) else set()
    if "json_invalid" in kinds or (not kinds and isinstance(exc, ValueError)):
        return PARSE_ERROR, "parse error: not JSON"
    return INVALID_REQUEST, "invalid request: not a JSON-RPC request, notification or response"


async def serve_stdio(server: Any) -> None:
    """``MCPServer.run_stdio_async``, with the screening relay in front of the server."""
    import mcp_types as types

    lowlevel = server._lowlevel_server  # what run_stdio_async drives, with the same options
    async with stdio_server() as (read_stream, write_stream):
        relay_in, relay_out = anyio.create_memory_object_stream[Any](0)

        async def relay() -> None:
            async with relay_in, read_stream:
                async for item in read_stream:
                    if not isinstance(item, Exception):
                        await relay_in.send(item)
                        continue
                    code, message = answer_for(item)
                    logger.warning("answered a malformed frame with %d: %s", code, message[:200])
                    error = types.JSONRPCError(jsonrpc="2.0", id=None, error=types.ErrorData(
                        code=code, message=message))
                    await write_stream.send(SessionMessage(error))

        async with anyio.create_task_group() as group:
            group.start_soon(relay)
            await lowlevel.run(relay_out, write_stream, lowlevel.create_initialization_options())
            group.cancel_scope.cancel()
