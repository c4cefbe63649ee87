"""The ``search`` built-in: a regex (or literal text) across the workspace, ``.gitignore`` aware.

The walk is ``os.walk`` top-down with directories pruned as soon as they are ignored, so an
ignored ``node_modules/`` is never entered. Ignore rules come from every ``.gitignore`` met on
the way (and those above the start directory, up to the workspace root), each applied relative
to its own directory through ``pathspec.GitIgnoreSpec``; as in git, the deepest file with a
matching pattern decides, so a nested ``!keep.log`` re-includes what a parent ignored. ``.git``
is always skipped. Symlinked directories are not followed (no loops, no escapes); a symlinked
file is searched only when it resolves inside the workspace. Binary and very large files are
skipped.

A pattern that is not a valid Python regex is searched as literal text, and the result says so:
models often pass ``foo(`` meaning the text.

The walk is blocking file I/O, so it runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from victor_server.tools.base import ToolContext, ToolError, ToolResult, ToolSpec
from victor_server.tools.workspace_paths import WorkspacePaths

MAX_MATCHES = 200
MAX_LINE_CHARS = 300
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass
class _SearchRun:
    root: Path
    regex: re.Pattern[str]
    matches: list[str] = field(default_factory=list)
    files_searched: int = 0
    truncated: bool = False
    ignores: dict[str, Any] = field(default_factory=dict)  # dir relative to root -> GitIgnoreSpec

    def load_gitignore(self, directory: Path) -> None:
        import pathspec  # lazy: only searching needs it

        rel = directory.relative_to(self.root).as_posix()
        rel = "" if rel == "." else rel
        if rel in self.ignores:
            return
        try:
            lines = (directory / ".gitignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            self.ignores[rel] = None
            return
        self.ignores[rel] = pathspec.GitIgnoreSpec.from_lines(lines.splitlines())

    def ignored(self, rel_path: str, is_dir: bool) -> bool:
        verdict: bool | None = None
        for base, spec in self.ignores.items():  # insertion order: shallower files first
            if spec is None or (base and not rel_path.startswith(base + "/")):
                continue
            sub = rel_path[len(base) + 1:] if base else rel_path
            include = spec.check_file(sub + "/" if is_dir else sub).include
            if include is not None:
                verdict = include
        return bool(verdict)

    def search_file(self, path: Path) -> None:
        try:
            st = os.stat(path)  # follows a symlink; the target was checked by the caller
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                return
            raw = path.read_bytes()
        except OSError:
            return
        if b"\x00" in raw[:8192]:
            return
        self.files_searched += 1
        shown = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) \
            else str(path)
        for lineno, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
            if self.regex.search(line):
                if len(self.matches) >= MAX_MATCHES:
                    self.truncated = True
                    return
                self.matches.append(f"{shown}:{lineno}: {line[:MAX_LINE_CHARS]}")

    def walk(self, start: Path) -> None:
        directory = self.root
        for part in start.relative_to(self.root).parts:  # rules above the start apply too
            self.load_gitignore(directory)
            directory = directory / part
        for dirpath, dirnames, filenames in os.walk(start):
            here = Path(dirpath)
            self.load_gitignore(here)
            rel_here = here.relative_to(self.root).as_posix()
            prefix = "" if rel_here == "." else rel_here + "/"
            dirnames[:] = sorted(d for d in dirnames
                                 if d != ".git" and not self.ignored(prefix + d, True))
            for name in sorted(filenames):
                if self.truncated:
                    return
                if self.ignored(prefix + name, False):
                    continue
                path = here / name
                if path.is_symlink():
                    try:
                        target = path.resolve(strict=True)
                    except (OSError, RuntimeError):
                        continue
                    if not target.is_relative_to(self.root):
                        continue
                self.search_file(path)


class SearchTool:
    spec = ToolSpec(
        name="search",
        description=("Search file contents in the workspace for a regular expression (Python "
                     "syntax; invalid patterns are matched as plain text). Honours .gitignore. "
                     "Returns 'path:line: text' for each matching line."),
        input_schema={"type": "object", "properties": {
            "pattern": {"type": "string", "minLength": 1,
                        "description": "Regular expression or literal text"},
            "path": {"type": "string",
                     "description": "File or directory to search, relative to the workspace "
                                    "root (default: the whole workspace)"},
        }, "required": ["pattern"], "additionalProperties": False},
        cost_tier="low", domain="coding",
        keywords=("search", "grep", "find", "where", "occurrences", "usages", "regex",
                  "mentions"),
        examples=("where is parse_config used?", "find every TODO in the repo",
                  "grep for 'api_key' across the code", "which files mention Redis?"))

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        paths = WorkspacePaths(ctx.workspace)
        start = paths.resolve(tool_input.get("path") or ".", kind="any")
        pattern = tool_input["pattern"]
        literal = False
        try:
            regex = re.compile(pattern)
        except re.error:
            regex, literal = re.compile(re.escape(pattern)), True
        run = _SearchRun(paths.root, regex)
        if start.is_dir():
            await asyncio.to_thread(run.walk, start)
        else:
            await asyncio.to_thread(run.search_file, start)
        shown = paths.relative(start)
        note = " (not a valid regex: searched as literal text)" if literal else ""
        if not run.matches:
            if run.files_searched == 0 and not start.is_dir():
                raise ToolError(f"{shown}: binary or too large to search")
            text = f"no matches for {pattern!r} in {shown}{note}"
        else:
            text = "\n".join(run.matches)
            if run.truncated:
                text += f"\n[... stopped after {MAX_MATCHES} matches; narrow the pattern or path]"
            if note:
                text = note.strip(" ()") + "\n" + text
        return ToolResult(text, data={"matches": len(run.matches), "files": run.files_searched,
                                      "truncated": run.truncated, "literal": literal})
