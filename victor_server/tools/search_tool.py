"""The ``search`` built-in: a regex (or literal text) across the workspace, ``.gitignore`` aware.

Matching runs on RE2 (``google-re2``), whose time is linear in the text for every pattern: a
pattern such as ``(a+)+$`` that makes a backtracking engine (Python's ``re``) take time doubling
with each character cannot freeze a search. ``bench/bench_search_engines.py`` compared it with
``regex`` under a timeout (the stdlib ``re`` has none) and with ripgrep; RE2 needs no
subprocess or extra binary and keeps per-line semantics. RE2 has no backreferences or
lookaround: a pattern that uses them is an ``is_error`` result saying so, while a pattern that
is not a regex at all (``foo(``) is searched as literal text, since models often mean the text.

The walk is ``os.fwalk`` top-down from a descriptor of the start directory, with directories
pruned as soon as they are ignored, so an ignored ``node_modules/`` is never entered. Ignore
rules come from every ``.gitignore`` met on the way (and those above the start directory, up to
the workspace root), each applied relative to its own directory through
``pathspec.GitIgnoreSpec``; as in git, the deepest file with a matching pattern decides, so a
nested ``!keep.log`` re-includes what a parent ignored. ``.git`` is always skipped, and so are
the server's store files. Symlinked directories are not followed (no loops, no escapes); files
are opened relative to their directory's descriptor without following links, and a symlinked
file is searched only when it resolves inside the workspace (then opened through
``WorkspacePaths.open_file``). Binary and very large files are skipped, and the work is bounded
(``MAX_FILES``, ``MAX_TOTAL_BYTES``, ``MAX_MATCHES``).

The walk and the matching run in a worker thread, never on the event loop, so other requests
and ``$/cancelRequest`` are answered while a search runs; a cancelled call sets a flag the
worker checks between files and between matches, so the thread stops soon after.
"""

from __future__ import annotations

import asyncio
import os
import re
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from victor_server.tools.base import ToolContext, ToolError, ToolResult, ToolSpec
from victor_server.tools.workspace_paths import PathRefused, WorkspacePaths

MAX_MATCHES = 200
MAX_LINE_CHARS = 300
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_FILES = 20_000
MAX_TOTAL_BYTES = 256 * 1024 * 1024
CANCEL_CHECK_MATCHES = 16
RE2_MAX_MEM = 64 * 1024 * 1024
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class SearchCancelled(Exception):
    """The call was cancelled; the worker thread stops at its next check."""


def compile_pattern(pattern: str) -> tuple[Any, bool]:
    """(compiled RE2 pattern, searched as literal text); raises ``ToolError`` for a valid
    Python regex RE2 cannot run (backreferences, lookaround)."""
    import re2  # lazy: only searching needs it

    options = re2.Options()
    options.log_errors = False  # its own stderr logging; the error text comes back to us
    options.max_mem = RE2_MAX_MEM
    options.never_nl = True  # a match stays on one line, as in a per-line search
    try:
        return re2.compile("(?m)" + pattern, options), False
    except re2.error as exc:
        try:
            re.compile(pattern)
        except re.error:  # not a regex at all: the model meant the text
            return re2.compile(re2.escape(pattern), options), True
        reason = exc.args[0].decode(errors="replace") if exc.args and \
            isinstance(exc.args[0], bytes) else str(exc)
        raise ToolError(f"search: the pattern uses a feature the linear-time regex engine "
                        f"(RE2) does not support, such as backreferences or lookaround "
                        f"({reason}); rewrite it without them") from exc


def matching_lines(regex: Any, data: bytes) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each line of ``data`` the pattern matches.

    One RE2 search over the whole file instead of one per line: the pattern is compiled with
    ``never_nl`` and multi-line anchors, so a match never spans lines and the lines found are
    those a per-line search finds, without a Python call (and a UTF-8 encode) per line.
    """
    pos, lineno, counted = 0, 1, 0
    while pos < len(data):
        found = regex.search(data, pos)
        if found is None:
            return
        start = found.start()
        lineno += data.count(b"\n", counted, start)
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", start)
        line_end = len(data) if line_end < 0 else line_end
        yield lineno, data[line_start:line_end]
        pos = counted = line_end + 1
        lineno += 1


@dataclass
class _SearchRun:
    paths: WorkspacePaths
    regex: Any
    cancelled: threading.Event = field(default_factory=threading.Event)
    matches: list[str] = field(default_factory=list)
    files_searched: int = 0
    bytes_searched: int = 0
    truncated: bool = False
    store_ids: set[tuple[int, int]] = field(default_factory=set)  # the store's (dev, inode)
    ignores: dict[str, Any] = field(default_factory=dict)  # dir relative to root -> GitIgnoreSpec

    @property
    def root(self) -> Path:
        return self.paths.root

    def load_gitignore(self, directory: Path) -> None:
        import pathspec  # lazy: only searching needs it

        rel = directory.relative_to(self.root).as_posix()
        rel = "" if rel == "." else rel
        if rel in self.ignores:
            return
        try:
            fd = self.paths.open_file(directory / ".gitignore")
        except (PathRefused, OSError):
            self.ignores[rel] = None
            return
        with open(fd, "rb") as fh:
            lines = fh.read(MAX_FILE_BYTES).decode("utf-8", errors="replace")
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

    def search_fd(self, fd: int, shown: str) -> None:
        """Search one open file (the descriptor is closed here)."""
        with open(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
                return
            if (st.st_dev, st.st_ino) in self.store_ids:
                return
            raw = fh.read(st.st_size + 1)  # sized to the file: a cap-sized buffer costs
        if b"\x00" in raw[:8192]:
            return
        self.files_searched += 1
        self.bytes_searched += len(raw)
        for lineno, line in matching_lines(self.regex, raw):
            if len(self.matches) >= MAX_MATCHES:
                self.truncated = True
                return
            if len(self.matches) % CANCEL_CHECK_MATCHES == 0 and self.cancelled.is_set():
                raise SearchCancelled
            text = line.decode("utf-8", errors="replace").rstrip("\r")
            self.matches.append(f"{shown}:{lineno}: {text[:MAX_LINE_CHARS]}")

    def run(self, raw_path: str, pattern: str) -> tuple[Path, bool, bool]:
        """Resolve, compile and search: (start, is a directory, searched as literal text)."""
        start = self.paths.resolve(raw_path, kind="any")
        self.regex, literal = compile_pattern(pattern)
        is_dir = start.is_dir()
        if is_dir:
            self.walk(start)
        else:
            self.search_path(start)
        return start, is_dir, literal

    def search_path(self, real: Path) -> None:
        """Search one resolved file, opened without following links."""
        self.store_ids = self.paths.protection.store_identities()
        self.search_fd(self.paths.open_file(real), self.paths.relative(real))

    def walk(self, start: Path) -> None:
        self.store_ids = self.paths.protection.store_identities()
        directory = self.root
        for part in start.relative_to(self.root).parts:  # rules above the start apply too
            self.load_gitignore(directory)
            directory = directory / part
        start_fd = self.paths.open_dir(start)
        try:
            for dirpath, dirnames, filenames, dirfd in os.fwalk(".", dir_fd=start_fd):
                here = Path(os.path.normpath(start / dirpath))
                self.load_gitignore(here)
                rel_here = here.relative_to(self.root).as_posix()
                prefix = "" if rel_here == "." else rel_here + "/"
                hidden = {p.name for p in self.paths.protection.store_files if p.parent == here}
                dirnames[:] = sorted(d for d in dirnames
                                     if d != ".git" and not self.ignored(prefix + d, True))
                for name in sorted(filenames):
                    if self.cancelled.is_set():
                        raise SearchCancelled
                    if self.truncated or self.files_searched >= MAX_FILES or \
                            self.bytes_searched >= MAX_TOTAL_BYTES:
                        self.truncated = True
                        return
                    if name in hidden or self.ignored(prefix + name, False):
                        continue
                    self.search_entry(dirfd, name, prefix + name)
        finally:
            os.close(start_fd)

    def search_entry(self, dirfd: int, name: str, shown: str) -> None:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=dirfd)
        except OSError:  # a symlink (ELOOP), or gone: follow only one that stays inside
            try:
                real = self.paths.resolve(shown, kind="file")
                fd = self.paths.open_file(real)
            except (PathRefused, OSError):
                return
        try:
            self.search_fd(fd, shown)
        except OSError:
            return


class SearchTool:
    spec = ToolSpec(
        name="search",
        description=("Search file contents in the workspace for a regular expression (RE2 "
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
        paths = WorkspacePaths.for_context(ctx)
        pattern = tool_input["pattern"]
        run = _SearchRun(paths, None)
        try:  # one trip to the worker thread: resolving, compiling and searching all block
            start, is_dir, literal = await asyncio.to_thread(
                run.run, tool_input.get("path") or ".", pattern)
        except asyncio.CancelledError:
            run.cancelled.set()  # the worker thread stops at its next check
            raise
        except SearchCancelled:
            raise ToolError("search cancelled") from None
        shown = paths.relative(start)
        note = " (not a valid regex: searched as literal text)" if literal else ""
        if not run.matches:
            if run.files_searched == 0 and not is_dir:
                raise ToolError(f"{shown}: binary or too large to search")
            text = f"no matches for {pattern!r} in {shown}{note}"
            if run.truncated:
                text += f" (stopped after {run.files_searched} files; narrow the path)"
        else:
            text = "\n".join(run.matches)
            if run.truncated:
                text += (f"\n[... stopped after {len(run.matches)} matches in "
                         f"{run.files_searched} files; narrow the pattern or path]")
            if note:
                text = note.strip(" ()") + "\n" + text
        return ToolResult(text, data={"matches": len(run.matches), "files": run.files_searched,
                                      "truncated": run.truncated, "literal": literal})
