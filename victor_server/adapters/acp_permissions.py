"""Permission UX and the editor's file system for the ACP face.

``PermissionGate`` is the ``ask_permission`` callable the core's ToolCoordinator awaits before
any tool whose spec says it writes files or runs commands. It first looks for a remembered
"always" decision for this project (workspace path) and tool in the store; otherwise it sends
``session/request_permission`` with the four standard options and, for an "always" answer,
remembers it. A client that cancels the request (or fails) counts as a rejection: the core then
reports "permission denied by the user" to the model as a tool error and nothing is written.

``EditorFiles`` is the ``client_fs`` the file tools use when the client advertised
``fs.readTextFile`` / ``fs.writeTextFile``: reads see unsaved buffers and writes land in the
editor. A client offering only one of the two gets the other from the local disk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from acp import schema

from victor_server.adapters.acp_updates import proposed_diff, tool_kind, tool_locations, tool_title
from victor_server.store import Store
from victor_server.tools.base import ToolSpec

logger = logging.getLogger(__name__)

ALLOW_ONCE, ALLOW_ALWAYS = "allow_once", "allow_always"
REJECT_ONCE, REJECT_ALWAYS = "reject_once", "reject_always"

OPTIONS = [
    schema.PermissionOption(option_id=ALLOW_ONCE, name="Allow once", kind="allow_once"),
    schema.PermissionOption(option_id=ALLOW_ALWAYS, name="Always allow", kind="allow_always"),
    schema.PermissionOption(option_id=REJECT_ONCE, name="Reject", kind="reject_once"),
    schema.PermissionOption(option_id=REJECT_ALWAYS, name="Always reject", kind="reject_always"),
]


class PermissionGate:
    """Asks the ACP client before a writing tool runs, remembering "always" answers."""

    def __init__(self, client: Any, session_id: str, store: Store, workspace: Path,
                 current_tool_id: Callable[[], str]) -> None:
        self.client = client
        self.session_id = session_id
        self.store = store
        self.workspace = workspace
        self.project = str(workspace)
        # The coordinator may not pass the tool_use id; the face knows which call is running.
        self.current_tool_id = current_tool_id

    async def __call__(self, spec: ToolSpec, tool_input: dict[str, Any],
                       tool_use_id: str) -> bool:
        remembered = await self.store.get_tool_permission(self.project, spec.name)
        if remembered in (ALLOW_ALWAYS, REJECT_ALWAYS):
            return remembered == ALLOW_ALWAYS
        tool_call = schema.ToolCallUpdate(
            tool_call_id=tool_use_id or self.current_tool_id(),
            title=tool_title(spec.name, tool_input), kind=tool_kind(spec.name),
            status="pending", raw_input=tool_input,
            locations=tool_locations(self.workspace, tool_input),
            content=proposed_diff(self.workspace, spec.name, tool_input))
        response = await self.client.request_permission(
            session_id=self.session_id, tool_call=tool_call, options=OPTIONS)
        outcome = response.outcome
        if not isinstance(outcome, schema.AllowedOutcome):
            return False  # the client cancelled the prompt (for example the turn was cancelled)
        choice = outcome.option_id
        if choice in (ALLOW_ALWAYS, REJECT_ALWAYS):
            await self.store.set_tool_permission(self.project, spec.name, choice)
        return choice in (ALLOW_ONCE, ALLOW_ALWAYS)


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
