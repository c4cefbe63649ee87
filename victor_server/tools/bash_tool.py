"""The ``bash`` built-in: a command in the workspace, off unless config enables it.

Config (``tools.bash``)::

    bash: {enabled: false, allow: [git status, ls, "npm test"], shell: false, env: [],
           timeout: 30, max_output: 30000}

What runs is what was checked: by default the line is split into argv by
``bash_command.parse_argv`` (the module says which characters count as shell syntax and are
refused) and that argv is executed directly, with no shell in between, only when an ``allow``
rule covers it (argv-prefix rules, ``"*"`` for any program). ``shell: true`` opts into a full
shell: the line then runs under ``/bin/sh -c`` and ``allow`` is not consulted (a prefix rule
cannot bound a shell line), so enable it only where every command is reviewed. In that mode
redirect targets are still checked, best effort: a target outside the workspace or on a
protected path (``.git``, ``.victor``, ``tools.protected_paths``) is refused.

The child's environment is built from an allow-list (``CHILD_ENV_NAMES``, ``LC_*``, plus the
names in ``tools.bash.env``), never copied from the server's: provider keys, auth tokens and
database URLs the server holds never reach a command or its output. A listed name that looks
like a secret (``SECRET_NAME``: ``VICTOR_*``, ``*_KEY``, ``*TOKEN*``, ...) is still left out.
``PATH`` loses empty and relative entries so a file the model wrote cannot shadow a program.

The command runs in the workspace with stdin closed, in its own process group so a timeout or
a cancelled turn kills everything it started. stdout and stderr are merged; output beyond
``max_output`` characters is dropped (the pipe is still drained so the command cannot block on
it). A non-zero exit or a timeout is an ``is_error`` result carrying the output so far.

A face may offer the editor's own terminal (``ToolContext.options["terminal"]``, ACP's
``terminal/*``): the same checked argv, working directory, environment, time limit and output
cap then run there, and the user watches the command in their editor.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
import shlex
import signal
from typing import Any

from victor_server.tools.base import ToolContext, ToolError, ToolResult, ToolSpec
from victor_server.tools.bash_command import CommandRefused, first_match, parse_argv
from victor_server.tools.workspace_paths import WorkspacePaths

logger = logging.getLogger(__name__)

CHILD_ENV_NAMES = ("PATH", "HOME", "LANG", "LANGUAGE", "TERM", "TZ", "USER", "LOGNAME",
                   "SHELL", "TMPDIR", "COLUMNS", "LINES", "NO_COLOR")
SECRET_NAME = re.compile(r"^(VICTOR_|ANTHROPIC_|OPENAI_|AWS_|PG)|KEY|TOKEN|SECRET|PASSW|"
                         r"CREDENTIAL|AUTH(?!OR)|DATABASE|_DSN$|_URL$|COOKIE|SESSION",
                         re.IGNORECASE)
_WARNED: set[str] = set()  # names already reported, so the log says it once
SEPARATORS = {";", "&&", "||", "|", "&", "|&", ";;", "(", ")"}
REDIRECTS = {">", ">>", "<", ">|", "&>", "&>>", "<>", ">&", "<&"}


def child_environment(extra_names: list[str], source: dict[str, str] | None = None,
                      ) -> dict[str, str]:
    """The environment a bash child gets: allow-listed names only, secrets never."""
    source = dict(os.environ) if source is None else source
    wanted = set(CHILD_ENV_NAMES) | {str(name) for name in extra_names}
    env: dict[str, str] = {}
    for name, value in source.items():
        if name not in wanted and not name.startswith("LC_"):
            continue
        if name not in CHILD_ENV_NAMES and SECRET_NAME.search(name):
            if name not in _WARNED:
                _WARNED.add(name)
                logger.warning("tools.bash.env: %s looks like a secret; not passed to "
                               "commands", name)
            continue
        env[name] = value
    path = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if os.path.isabs(p)]
    env["PATH"] = os.pathsep.join(path) or os.defpath
    return env


def redirect_targets(command: str) -> list[str]:
    """Best-effort list of redirection targets in a shell line (full-shell mode only)."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise CommandRefused(f"bash: cannot parse command: {exc}") from exc
    targets, pending = [], False
    for token in tokens:
        if pending:
            targets.append(token)
            pending = False
        elif token not in SEPARATORS and (token in REDIRECTS or set(token) <= set("<>&|")):
            pending = True
    return targets


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
        self.shell = bool(options.get("shell", False))
        self.env_names = [str(name) for name in options.get("env", [])]
        self.timeout = float(options.get("timeout", 30))
        self.max_output = int(options.get("max_output", 30000))
        if not self.shell:  # tell the model up front, so it does not learn by refusals
            self.spec = dataclasses.replace(self.spec, description=self.spec.description + (
                " It runs without a shell: one program and its arguments; pipes, redirects, "
                "`;`, `&&`, globs and `$VARS` are refused (quote such characters meant as "
                "text)."))

    def program(self, command: str, paths: WorkspacePaths) -> list[str]:
        """The argv to execute for ``command``; raises ``ToolError`` when it may not run."""
        if self.shell:
            for target in redirect_targets(command):
                if target.isdigit() or target in ("-", "/dev/null"):
                    continue  # 2>&1, >&-, discard
                paths.resolve(target, must_exist=False, purpose="write")
            return ["/bin/sh", "-c", command]
        argv = parse_argv(command)
        if first_match(self.allow, argv) is None:
            allowed = ", ".join(self.allow) or "nothing"
            raise ToolError(f"bash: {argv[0]!r} is not in the allow-list (allowed: {allowed}; "
                            "config tools.bash.allow)")
        return argv

    def precheck(self, tool_input: dict[str, Any], ctx: ToolContext) -> None:
        self.program(tool_input["command"], WorkspacePaths.for_context(ctx))

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        paths = WorkspacePaths.for_context(ctx)
        argv = self.program(tool_input["command"], paths)
        terminal = ctx.options.get("terminal")
        if terminal is not None:  # the editor's own terminal (ACP terminal/*)
            text, code, timed_out, truncated = await terminal.run(
                argv, str(paths.root), child_environment(self.env_names), self.timeout,
                self.max_output * 4, ctx.options.get("tool_use_id"))
            return self._result(text, code, timed_out, truncated)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=paths.root, env=child_environment(self.env_names),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        except OSError as exc:  # no such program, not executable
            raise ToolError(f"bash: cannot run {argv[0]!r}: {exc.strerror or exc}") from exc
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
        return self._result(text, proc.returncode, timed_out, dropped)

    def _result(self, text: str, code: int | None, timed_out: bool,
                truncated: bool) -> ToolResult:
        truncated = truncated or len(text) > self.max_output
        text = text[:self.max_output]
        if truncated:
            text += f"\n[... output truncated at {self.max_output} characters]"
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
