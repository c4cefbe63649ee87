"""Approvals and the editor's file system for the ACP face.

``PermissionGate`` is the ``ask_permission`` callable (an approvals ``Approver``) the core's
ToolCoordinator awaits when the approvals policy says "ask" for a call. The policy, the
remembered "always allow" answers (per tenant, workspace, tool and bash command prefix) and the
messages the model gets all live in the core (``tools.approvals``); this only asks: it sends
``session/request_permission`` with the tool call, still in ``pending`` status, and the options
allow once, always allow (offered only when the core can remember the call: not for a command of
several simple commands) and reject. A client that cancels the prompt (for example because the
turn was cancelled) or fails counts as a rejection: the model gets a tool error and the turn goes
on.

``EditorFiles`` is the ``client_fs`` the file tools use when the client advertised
``fs.readTextFile`` / ``fs.writeTextFile``: reads see unsaved buffers and writes land in the
editor. A client offering only one of the two gets the other from the local disk.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from acp import schema

from victor_server.adapters.acp_updates import proposed_diff, tool_kind, tool_locations, tool_title
from victor_server.tools.approvals import ALLOW_ALWAYS, ALLOW_ONCE, REJECT, ApprovalRequest

logger = logging.getLogger(__name__)

REJECT_ONCE = "reject_once"
ALLOW_ONCE_OPTION = schema.PermissionOption(option_id=ALLOW_ONCE, name="Allow once",
                                            kind="allow_once")
REJECT_OPTION = schema.PermissionOption(option_id=REJECT_ONCE, name="Reject", kind="reject_once")


def permission_options(request: ApprovalRequest) -> list[schema.PermissionOption]:
    options = [ALLOW_ONCE_OPTION]
    if request.remember is not None:
        options.append(schema.PermissionOption(
            option_id=ALLOW_ALWAYS, name=f"Always allow {request.remember}", kind="allow_always"))
    return [*options, REJECT_OPTION]


class PermissionGate:
    """Asks the ACP client about a call the approvals policy says to ask about."""

    face = "acp"

    def __init__(self, client: Any, session_id: str, workspace: Path) -> None:
        self.client = client
        self.session_id = session_id
        self.workspace = workspace

    async def __call__(self, request: ApprovalRequest) -> str:
        tool_input = request.tool_input
        tool_call = schema.ToolCallUpdate(
            tool_call_id=request.tool_use_id,
            title=tool_title(request.tool, tool_input), kind=tool_kind(request.tool),
            status="pending", raw_input=tool_input,
            locations=tool_locations(self.workspace, tool_input),
            content=proposed_diff(self.workspace, request.tool, tool_input))
        response = await self.client.request_permission(
            session_id=self.session_id, tool_call=tool_call,
            options=permission_options(request))
        outcome = response.outcome
        if not isinstance(outcome, schema.AllowedOutcome):
            return REJECT  # the client cancelled the prompt (for example the turn was cancelled)
        if outcome.option_id == ALLOW_ALWAYS and request.remember is not None:
            return ALLOW_ALWAYS
        return ALLOW_ONCE if outcome.option_id in (ALLOW_ONCE, ALLOW_ALWAYS) else REJECT


class EditorFiles:
    """The editor's file system (ACP ``fs/*``), with the local disk for what it lacks."""

    def __init__(self, client: Any, session_id: str, can_read: bool, can_write: bool) -> None:
        self.client = client
        self.session_id = session_id
        self.can_read = can_read
        self.can_write = can_write

    @classmethod
    def offered(cls, client: Any, session_id: str,
                capabilities: schema.ClientCapabilities | None) -> EditorFiles | None:
        fs = capabilities.fs if capabilities is not None else None
        if fs is None or not (fs.read_text_file or fs.write_text_file):
            return None
        return cls(client, session_id, bool(fs.read_text_file), bool(fs.write_text_file))

    async def read_text_file(self, path: str) -> str:
        if not self.can_read:
            return await asyncio.to_thread(_read_local, Path(path))
        response = await self.client.read_text_file(session_id=self.session_id, path=path)
        return str(response.content)

    async def write_text_file(self, path: str, content: str) -> None:
        if not self.can_write:
            await asyncio.to_thread(_write_local, Path(path), content)
            return
        await self.client.write_text_file(session_id=self.session_id, path=path, content=content)


def _read_local(path: Path) -> str:
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def _write_local(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(content)
