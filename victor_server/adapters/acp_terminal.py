"""Shell commands in the editor's own terminal, for ACP clients that offer ``terminal/*``.

When the client declared ``clientCapabilities.terminal``, the ``bash`` tool runs its (already
checked and approved) argv through ``EditorTerminal`` instead of a child process of ours: the
editor starts it (``terminal/create`` with the workspace as ``cwd``, the same allow-listed
environment and an output cap), the tool call shows the live terminal (a ``terminal`` content
block), and we wait for the exit within the tool's time limit, read the output, and release the
terminal. A timeout or a cancelled turn kills it first. Without the capability, the server's
own runner runs the command, as on the other faces.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from acp import schema


class EditorTerminal:
    def __init__(self, client: Any, session_id: str) -> None:
        self.client = client
        self.session_id = session_id

    @classmethod
    def offered(cls, client: Any, session_id: str,
                capabilities: schema.ClientCapabilities | None) -> EditorTerminal | None:
        return cls(client, session_id) if capabilities and capabilities.terminal else None

    async def run(self, argv: list[str], cwd: str, env: dict[str, str], time_limit: float,
                  output_limit: int, tool_call_id: str | None) -> tuple[str, int | None, bool,
                                                                        bool]:
        """``(output, exit code, timed out, truncated)`` of ``argv`` run in the editor."""
        sid = self.session_id
        created = await self.client.create_terminal(
            session_id=sid, command=argv[0], args=argv[1:], cwd=cwd,
            env=[schema.EnvVariable(name=k, value=v) for k, v in env.items()],
            output_byte_limit=output_limit)
        terminal = created.terminal_id
        try:
            if tool_call_id:
                await self.client.session_update(session_id=sid, update=schema.ToolCallProgress(
                    session_update="tool_call_update", tool_call_id=tool_call_id,
                    content=[schema.TerminalToolCallContent(type="terminal",
                                                            terminal_id=terminal)]))
            timed_out = False
            try:
                async with asyncio.timeout(time_limit):
                    await self.client.wait_for_terminal_exit(session_id=sid, terminal_id=terminal)
            except TimeoutError:
                timed_out = True
                await self.client.kill_terminal(session_id=sid, terminal_id=terminal)
            except asyncio.CancelledError:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.client.kill_terminal(session_id=sid,
                                                                   terminal_id=terminal))
                raise
            output = await self.client.terminal_output(session_id=sid, terminal_id=terminal)
            status = output.exit_status
            code = status.exit_code if status is not None else None
            return output.output, code, timed_out, bool(output.truncated)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(self.client.release_terminal(session_id=sid,
                                                                  terminal_id=terminal))
