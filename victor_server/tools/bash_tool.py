"""The ``bash`` built-in: a shell command in the workspace, off unless config enables it.

Config (``bash:`` under the tools options)::

    bash: {enabled: false, allow: [git, ls, "npm test"], timeout: 30, max_output: 30000}

The allow-list is a guard against a model wandering, not a sandbox: the command is split with
``shlex`` on the shell's operators (``;`` ``&&`` ``||`` ``|`` ``&`` and parentheses) and every
command in it must start with an allowed entry (an entry of several words must match that many
leading words; ``"*"`` allows anything). What the split cannot see through is refused outright:
command and process substitution (`` ` `` ``$(`` ``<(`` ``>(``), multi-line commands and leading
``VAR=value`` assignments (``PATH=... git`` would run another program). A redirection target
must be ``/dev/null`` or a path inside the workspace. The tool is ``writes=True``, so faces that
can ask the user (ACP) do so before every command.

The command runs under ``/bin/sh -c`` in the workspace with stdin closed, in its own process
group so a timeout kills everything it started. stdout and stderr are merged; output beyond
``max_output`` characters is dropped (the pipe is still drained so the command cannot block on
it). A non-zero exit or a timeout is an ``is_error`` result carrying the output so far.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
from typing import Any

from victor_server.tools.base import ToolContext, ToolError, ToolResult, ToolSpec
from victor_server.tools.workspace_paths import WorkspacePaths

SEPARATORS = {";", "&&", "||", "|", "&", "|&", ";;", "(", ")"}
REDIRECTS = {">", ">>", "<", ">|", "&>", "&>>", "<>", ">&", "<&"}
UNSEEABLE = ("`", "$(", "<(", ">(")


def _commands(command: str) -> list[tuple[list[str], list[str]]]:
    """Split into simple commands: each is (words, redirect targets)."""
    for marker in UNSEEABLE:
        if marker in command:
            raise ToolError(f"bash: {marker!r} (substitution) is not allowed; run the inner "
                            "command on its own")
    if "\n" in command or "\r" in command:
        raise ToolError("bash: multi-line commands are not allowed; join them with ';' or '&&'")
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as exc:  # unbalanced quotes
        raise ToolError(f"bash: cannot parse command: {exc}") from exc
    commands: list[tuple[list[str], list[str]]] = [([], [])]
    pending_redirect = False
    for token in tokens:
        if pending_redirect:
            commands[-1][1].append(token)
            pending_redirect = False
        elif token in SEPARATORS:
            commands.append(([], []))
        elif token in REDIRECTS or set(token) <= set("<>&|"):
            pending_redirect = True
        else:
            commands[-1][0].append(token)
    return [c for c in commands if c[0] or c[1]]


def check_allowed(command: str, allow: list[str], paths: WorkspacePaths) -> None:
    """Raise ``ToolError`` unless every simple command in ``command`` is allowed."""
    entries = [entry.split() for entry in allow if entry.strip()]
    for words, targets in _commands(command):
        for target in targets:
            if target.isdigit() or target in ("-", "/dev/null"):
                continue  # 2>&1, >&-, discard
            paths.resolve(target, must_exist=False)  # raises PathRefused when it leaves
        if not words:
            continue
        if "=" in words[0] and not words[0].startswith("="):
            raise ToolError(f"bash: variable assignment {words[0]!r} before a command is not "
                            "allowed")
        if ["*"] in entries:
            continue
        if not any(words[:len(entry)] == entry for entry in entries):
            allowed = ", ".join(allow) or "nothing"
            raise ToolError(f"bash: {words[0]!r} is not in the allow-list (allowed: {allowed})")


async def _read_capped(stream: asyncio.StreamReader, cap: int, sink: list[bytes]) -> bool:
    """Read to EOF keeping at most ``cap`` bytes; True when bytes were dropped."""
    kept, dropped = 0, False
    while chunk := await stream.read(65536):
        piece = chunk[:max(cap - kept, 0)]
        if piece:
            sink.append(piece)
            kept += len(piece)
        dropped = dropped or len(piece) < len(chunk)
    return dropped


class BashTool:
    spec = ToolSpec(
        name="bash",
        description=("Run a shell command in the workspace root (non-interactive, stdin closed). "
                     "Only allow-listed programs run; stdout and stderr are returned together."),
        input_schema={"type": "object", "properties": {
            "command": {"type": "string", "minLength": 1, "description": "The shell command"},
        }, "required": ["command"], "additionalProperties": False},
        cost_tier="medium", domain="coding", writes=True,
        keywords=("run", "execute", "shell", "command", "terminal", "test", "build",
                  "install"),
        examples=("run the tests", "execute make build", "pip install requests",
                  "what does git log say?", "run npm run lint in the terminal"))

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        options = options or {}
        self.allow = [str(entry) for entry in options.get("allow", [])]
        self.timeout = float(options.get("timeout", 30))
        self.max_output = int(options.get("max_output", 30000))

    def precheck(self, tool_input: dict[str, Any], ctx: ToolContext) -> None:
        check_allowed(tool_input["command"], self.allow, WorkspacePaths(ctx.workspace))

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        command = tool_input["command"]
        paths = WorkspacePaths(ctx.workspace)
        check_allowed(command, self.allow, paths)
        proc = await asyncio.create_subprocess_exec(
            "/bin/sh", "-c", command, cwd=paths.root, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            start_new_session=True)
        assert proc.stdout is not None
        sink: list[bytes] = []
        timed_out, dropped = False, False
        # 4 bytes per character at most in UTF-8: enough bytes for max_output characters
        reader = asyncio.ensure_future(_read_capped(proc.stdout, self.max_output * 4, sink))
        try:
            async with asyncio.timeout(self.timeout):
                dropped = await reader
                await proc.wait()
        except TimeoutError:
            timed_out = True
        finally:
            if proc.returncode is None:  # timed out, or this task was cancelled
                self._kill_group(proc.pid)
                await proc.wait()
            reader.cancel()
        text = b"".join(sink).decode("utf-8", errors="replace")
        truncated = dropped or len(text) > self.max_output
        text = text[:self.max_output]
        if truncated:
            text += f"\n[... output truncated at {self.max_output} characters]"
        code = proc.returncode
        if timed_out:
            text += f"\n[timed out after {self.timeout:g} s; process killed]"
        elif code:
            text += f"\n[exit code {code}]"
        return ToolResult(text or "(no output)", is_error=timed_out or code != 0,
                          data={"exit_code": code, "timed_out": timed_out,
                                "truncated": truncated})

    @staticmethod
    def _kill_group(pid: int) -> None:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
