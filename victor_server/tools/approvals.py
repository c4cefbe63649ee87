"""Approvals at run time: the policy's verdict, remembered "always allow" answers, and asking.

The policy is the turn's config (``tools.approvals``, re-read with the config file; parsed once
per distinct value), else the one the ToolCoordinator was built with. The ToolCoordinator
calls ``ApprovalGate.check`` before every tool (after the input and the
tool's own precheck passed, so nobody is asked about a call that would be refused anyway):

* ``allow`` runs; ``deny`` is an ``is_error`` result naming the config key that denied it;
* ``ask`` first looks in the store for an "always allow" this tenant gave in this workspace for
  this tool and, for ``bash``, a command prefix of this command; otherwise it asks through the
  face the user is on: the ``Approver`` the face put in ``ToolContext.ask_permission``. A face
  that cannot ask (no such callable, or a client that did not declare support) and an answer
  that does not come in time are refusals naming the config key that would allow the call.

An ``Approver`` gets an ``ApprovalRequest`` (what to show) and returns ``allow_once``,
``allow_always`` or ``reject`` (``True``/``False`` are read as once/reject); it raises
``ApprovalUnavailable(reason)`` when it cannot ask. A refusal ends that tool call only; the
model gets the error and the turn goes on.

What "always allow" remembers: for ``bash``, the command's first word plus its subcommand when
the second word looks like one (``git status -s`` remembers ``git status``; ``pytest tests/a.py``
remembers ``pytest``), and a later command matches when a remembered prefix is a prefix of its
words; a command of several simple commands is never remembered (it is allowed once). For other
tools, the tool. Always per tenant (the session id's prefix) and workspace.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from victor_server.scope import tenant_of
from victor_server.tools.approval_policy import (
    ALLOW,
    ASK,
    CONFIG_KEY,
    DENY,
    ApprovalPolicy,
    Verdict,
    policy_from_config,
)
from victor_server.tools.base import ToolContext, ToolError, ToolResult, ToolSpec

if TYPE_CHECKING:
    from victor_server.store.protocols import ApprovalStore

logger = logging.getLogger(__name__)

ALLOW_ONCE, ALLOW_ALWAYS, REJECT = "allow_once", "allow_always", "reject"
ANSWERS = (ALLOW_ONCE, ALLOW_ALWAYS, REJECT)
PERMISSION_DENIED = "permission denied by the user"
DEFAULT_TIMEOUT = 120.0
SUBCOMMAND = re.compile(r"^[A-Za-z][A-Za-z0-9_:-]*$")
DIFF_LIMIT = 200_000  # characters of a file shown in an approval's diff


# Session modes a face may set for a turn (``ToolContext.options["mode"]``): ``default``
# follows the policy; ``accept_edits`` runs file edits the policy would ask about (a deny still
# denies; commands are still asked about); ``read_only`` refuses every tool that writes files
# or runs commands, whatever the policy allows.
DEFAULT_MODE, ACCEPT_EDITS, READ_ONLY = "default", "accept_edits", "read_only"
EDITS = ("write", "edit")


class ApprovalUnavailable(Exception):
    """The face cannot ask (or got no answer in time); the message says why, for the model."""


@dataclass(frozen=True)
class ApprovalRequest:
    """What a face shows the user: the call, what it would change, what "always" would keep."""

    spec: ToolSpec
    tool_input: dict[str, Any]
    tool_use_id: str
    session_id: str
    title: str
    rule: str  # the config key that made this an "ask"
    timeout: float
    command: str | None = None  # bash
    diff: str | None = None  # write/edit: unified diff of the file
    remember: str | None = None  # what "always allow" keeps (None: it cannot be remembered)

    @property
    def tool(self) -> str:
        return self.spec.name


class Approver(Protocol):
    async def __call__(self, request: ApprovalRequest) -> str | bool: ...


def remembered_prefix(argv: tuple[str, ...]) -> str:
    """What "always allow" keeps of a bash command: argv0, plus a subcommand word after it."""
    if len(argv) > 1 and SUBCOMMAND.match(argv[1]):
        return f"{argv[0]} {argv[1]}"
    return argv[0]


def prefixes_of(argv: tuple[str, ...]) -> list[str]:
    """Every leading run of words: the remembered prefixes that would cover this command."""
    return [" ".join(argv[:n]) for n in range(1, len(argv) + 1)]


class ApprovalGate:
    """The policy from config, the store's remembered answers, and the face's asker."""

    def __init__(self, workspace: Path, config: Any = None, timeout: Any = None) -> None:
        self.workspace = str(workspace)
        self.policy = _policy(config)
        self.timeout = _seconds(timeout, DEFAULT_TIMEOUT)
        self.store: ApprovalStore | None = None  # set by the orchestrator once it is open
        # The turn's settings carry the config as it is now (the file is re-read on change):
        # one parsed policy per distinct tools.approvals value, keyed by the value itself.
        self._parsed: list[tuple[Any, ApprovalPolicy]] = []

    def _current(self, ctx: ToolContext) -> tuple[ApprovalPolicy, float]:
        tools = getattr(ctx.options.get("settings"), "tools", None)
        if not isinstance(tools, dict):
            return self.policy, self.timeout
        timeout = _seconds(tools.get("approval_timeout"), self.timeout)
        config = tools.get("approvals")
        for seen, policy in self._parsed:
            if seen is config or seen == config:
                return policy, timeout
        policy = _policy(config)
        self._parsed = [*self._parsed[-15:], (config, policy)]
        return policy, timeout

    def runs_unasked(self, spec: ToolSpec, tool_input: dict[str, Any], ctx: ToolContext) -> bool:
        """Whether the turn's policy allows this call outright (no asking, no store lookup):
        the agent loop runs such read-only calls side by side, and any other one alone."""
        policy, _ = self._current(ctx)
        return policy.decide(spec, tool_input).decision == ALLOW

    async def check(self, spec: ToolSpec, tool_input: dict[str, Any], ctx: ToolContext,
                    tool_use_id: str) -> ToolResult | None:
        """None when the call may run; otherwise the error result to give the model."""
        policy, timeout = self._current(ctx)
        verdict = policy.decide(spec, tool_input)
        what = describe(spec.name, tool_input)
        mode = ctx.options.get("mode") or DEFAULT_MODE
        if mode == READ_ONLY and spec.writes:
            return ToolResult(f"{what} is refused: this session is in read-only mode (it may "
                              "read and answer, not change files or run commands)",
                              is_error=True, data={"denied": True, "rule": "mode: read_only"})
        if mode == ACCEPT_EDITS and verdict.decision == ASK and spec.name in EDITS:
            return None
        if verdict.decision == ALLOW:
            return None
        if verdict.decision == DENY:
            return ToolResult(f"{what} is denied by config ({verdict.rule})", is_error=True,
                              data={"denied": True, "rule": verdict.rule})
        assert verdict.decision == ASK
        tenant = tenant_of(ctx.session_id) or ""
        remember = _remember_key(spec.name, verdict)
        if self.store is not None and remember is not None and await self.store.approval_granted(
                tenant, self.workspace, spec.name, _covering(spec.name, verdict)):
            return None
        try:
            answer = await self._ask(spec, tool_input, ctx, tool_use_id, verdict, remember,
                                     timeout)
        except ApprovalUnavailable as exc:
            return ToolResult(f"{what} needs the user's approval ({verdict.rule}) but {exc}; "
                              f"to run it without asking, the user can set "
                              f"{allow_hint(spec.name, verdict)} in config", is_error=True,
                              data={"denied": True, "rule": verdict.rule})
        if answer == ALLOW_ALWAYS and remember is not None and self.store is not None:
            face = str(getattr(ctx.ask_permission, "face", ""))
            await self.store.add_approval(tenant, self.workspace, spec.name, remember, face)
        if answer in (ALLOW_ONCE, ALLOW_ALWAYS):
            return None
        return ToolResult(PERMISSION_DENIED, is_error=True, data={"denied": True})

    async def _ask(self, spec: ToolSpec, tool_input: dict[str, Any], ctx: ToolContext,
                   tool_use_id: str, verdict: Verdict, remember: str | None,
                   answer_within: float) -> str:
        asker = ctx.ask_permission
        if asker is None:
            raise ApprovalUnavailable("this client cannot ask the user")
        command = tool_input.get("command") if spec.name == "bash" else None
        request = ApprovalRequest(
            spec=spec, tool_input=tool_input, tool_use_id=tool_use_id,
            session_id=ctx.session_id, title=describe(spec.name, tool_input),
            rule=verdict.rule, timeout=answer_within,
            command=command if isinstance(command, str) else None,
            diff=await proposed_diff(ctx, spec.name, tool_input),
            remember=_remember_text(spec.name, remember))
        try:
            answer = await asker(request)
        except ApprovalUnavailable:
            raise
        except Exception as exc:  # a face that fails to ask must not run the tool
            logger.warning("approval request for %s failed: %s", spec.name, exc)
            raise ApprovalUnavailable(f"asking failed ({type(exc).__name__})") from exc
        if answer is True:
            return ALLOW_ONCE
        if answer is False or answer not in ANSWERS:
            return REJECT
        return str(answer)


def _seconds(value: Any, default: float) -> float:
    """``tools.approval_timeout``: a positive number of seconds, else the default."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    if value is not None:
        logger.error("invalid config: tools.approval_timeout must be a positive number of "
                     "seconds, got %r; using %g", value, default)
    return default


def _policy(config: Any) -> ApprovalPolicy:
    policy, error = policy_from_config(config)
    if error is not None:
        logger.error("invalid config: %s; every tool call asks for approval", error)
    return policy


def describe(name: str, tool_input: dict[str, Any]) -> str:
    """The call in a few words, for prompts and messages: ``bash `git push` ``."""
    if name == "bash":
        return f"bash `{tool_input.get('command', '')}`"
    path = tool_input.get("path")
    return f"{name} {path}" if isinstance(path, str) else name


def allow_hint(name: str, verdict: Verdict) -> str:
    """The config that would let this call run unasked."""
    if name == "bash" and verdict.argv:
        return f'{CONFIG_KEY}.bash.allow: ["{remembered_prefix(verdict.argv)}"]'
    return f"{CONFIG_KEY}.{name}: allow"


def _remember_key(name: str, verdict: Verdict) -> str | None:
    if name != "bash":
        return ""
    return remembered_prefix(verdict.argv) if verdict.argv else None


def _covering(name: str, verdict: Verdict) -> list[str]:
    if name != "bash":
        return [""]
    return prefixes_of(verdict.argv) if verdict.argv else []


def _remember_text(name: str, remember: str | None) -> str | None:
    if remember is None:
        return None
    if name == "bash":
        return f"bash commands starting with `{remember}` in this workspace"
    return f"every {name} call in this workspace"


async def proposed_diff(ctx: ToolContext, name: str, tool_input: dict[str, Any]) -> str | None:
    """A unified diff of what a write or edit would do to the file, for the prompt."""
    path = tool_input.get("path")
    if name not in ("write", "edit") or not isinstance(path, str):
        return None
    from victor_server.tools.workspace_paths import WorkspacePaths

    def build() -> str | None:
        paths = WorkspacePaths(ctx.workspace)
        try:
            real = paths.resolve(path, kind="file", must_exist=False)
            before = real.read_text(encoding="utf-8")[:DIFF_LIMIT] if real.exists() else ""
        except (OSError, UnicodeDecodeError, ValueError, ToolError):
            before = ""
        if name == "write":
            after = str(tool_input.get("content", ""))
        else:
            after = before.replace(str(tool_input.get("old", "")), str(tool_input.get("new", "")),
                                   1)
        return "".join(difflib.unified_diff(before.splitlines(keepends=True),
                                            after.splitlines(keepends=True),
                                            f"a/{path}", f"b/{path}"))

    return await asyncio.to_thread(build)
