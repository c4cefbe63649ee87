"""What a tool is, to the model and to the selection strategies.

``ToolSpec`` is the metadata (name, description, JSON schema, cost tier, domain, and the
selection hints ``keywords`` and ``examples``) that selection strategies rank and that the
provider offers to the model (all but the hints). ``Tool`` adds ``run``. Tool failures are
results with ``is_error=True`` and go back to the model; they are never exceptions that end a
turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

COST_TIERS = ("free", "low", "medium", "high")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}})
    cost_tier: str = "free"  # one of COST_TIERS
    domain: str = "coding"
    writes: bool = False  # writes files or runs commands: needs permission where the face can ask
    source: str = "builtin"  # "builtin", "plugin", or the MCP server's name
    # Selection metadata, as a tool author documents a tool (victor-ai's ToolMetadata): words a
    # user says when they need it, and example requests it answers. Never shown to the model;
    # strategies index them (docs/selection.md). Config can add them to any tool by name.
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def to_anthropic(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description,
                "input_schema": self.input_schema}


class ToolError(Exception):
    """An expected tool failure (missing file, refused path, ...). The coordinator turns it into
    ``ToolResult(message, is_error=True)`` with the message unchanged, so write it for the model."""


@dataclass
class ToolResult:
    content: str
    is_error: bool = False
    data: dict[str, Any] = field(default_factory=dict)  # e.g. {"diff": ..., "path": ...}


class PermissionAsker(Protocol):
    async def __call__(self, request: Any) -> str | bool:
        """The user's answer to an ``approvals.ApprovalRequest``: ``allow_once``,
        ``allow_always`` or ``reject``; raises ``approvals.ApprovalUnavailable`` when it cannot
        ask."""
        ...


@dataclass
class ToolContext:
    workspace: Path
    session_id: str
    ask_permission: PermissionAsker | None = None
    client_fs: Any = None  # a face may offer the editor's file system (ACP fs/*)
    options: dict[str, Any] = field(default_factory=dict)
    # the protected-path rules (a ``protected_paths.Protection``), set by the coordinator
    protection: Any = None
    # Awaited once the call is approved, just before it runs (a face shows "in progress").
    on_start: Callable[[], Awaitable[None]] | None = None


@runtime_checkable
class Tool(Protocol):
    spec: ToolSpec

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult: ...
