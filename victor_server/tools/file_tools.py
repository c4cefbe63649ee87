"""The file built-ins: ``read``, ``write``, ``edit`` and ``ls``.

Each tool resolves its path through ``WorkspacePaths`` first (the confinement and
protected-path rules live there, for the call's purpose: reads, writes, listings) and raises
``ToolError`` for anything the model should hear about; the coordinator turns that into an
``is_error`` result. File text goes through ``TextFiles``, which uses the editor's file system
when the face offers one (ACP ``fs/read_text_file`` / ``fs/write_text_file``, so unsaved
buffers are seen and edits land in the editor) and the local disk otherwise. Local files are
opened through ``WorkspacePaths.open_file`` (no symlink followed, no second hard link written
through) and their bytes kept as they are, so an edit never rewrites a CRLF file's line
endings. Blocking disk work runs in a worker thread, never on the event loop.

``write`` and ``edit`` return ``data = {path, abs_path, old_text, new_text, diff}`` so a face can
show the change (ACP diff content) without reading the file again.
"""

from __future__ import annotations

import asyncio
import difflib
import os
from pathlib import Path
from typing import Any

from victor_server.tools.base import ToolContext, ToolError, ToolResult, ToolSpec
from victor_server.tools.workspace_paths import WorkspacePaths

READ_DEFAULT_LIMIT = 2000  # lines
READ_MAX_CHARS = 100_000  # what one read may put into the context
LOCAL_MAX_BYTES = 20 * 1024 * 1024
LS_MAX_ENTRIES = 1000


def _path_prop(what: str) -> dict[str, Any]:
    return {"type": "string", "description": f"{what}, relative to the workspace root"}


class TextFiles:
    """Reads and writes text through the editor's file system when given, else the disk."""

    def __init__(self, ctx: ToolContext, paths: WorkspacePaths) -> None:
        self.client_fs = ctx.client_fs
        self.paths = paths

    async def read(self, real: Path, shown: str, *, strict: bool = False) -> str:
        """The file's text; ``strict`` refuses non-UTF-8 files (an edit must not mangle them)."""
        if self.client_fs is not None:
            try:
                return str(await self.client_fs.read_text_file(str(real)))
            except Exception as exc:  # the editor's error text is the useful part
                raise ToolError(f"{shown}: editor could not read the file: {exc}") from exc
        return await asyncio.to_thread(_read_local, self.paths, real, shown, strict)

    async def write(self, real: Path, shown: str, content: str) -> None:
        if self.client_fs is not None:
            await asyncio.to_thread(self.paths.refuse_hard_linked, real)
            try:
                await self.client_fs.write_text_file(str(real), content)
            except Exception as exc:
                raise ToolError(f"{shown}: editor could not write the file: {exc}") from exc
            return
        await asyncio.to_thread(_write_local, self.paths, real, content)


def _read_local(paths: WorkspacePaths, real: Path, shown: str, strict: bool) -> str:
    fd = paths.open_file(real)
    try:
        with open(fd, "rb", closefd=False) as fh:
            size = os.fstat(fd).st_size
            if size > LOCAL_MAX_BYTES:
                raise ToolError(f"{shown}: file is larger than {LOCAL_MAX_BYTES} bytes")
            raw = fh.read(size + 1)  # sized to the file: a cap-sized buffer costs
    except OSError as exc:
        raise ToolError(f"{shown}: cannot read: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if b"\x00" in raw[:8192]:
        raise ToolError(f"{shown}: binary file, not shown")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if strict:
            raise ToolError(f"{shown}: not valid UTF-8; refusing to rewrite it") from None
        return raw.decode("utf-8", errors="replace")


def _write_local(paths: WorkspacePaths, real: Path, content: str) -> None:
    fd = paths.open_file(real, write=True)
    try:
        os.ftruncate(fd, 0)
        with open(fd, "wb", closefd=False) as fh:
            fh.write(content.encode("utf-8"))
    except OSError as exc:
        raise ToolError(f"{paths.relative(real)}: cannot write: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)


def unified_diff(old: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 f"a/{path}", f"b/{path}")
    # difflib leaves a last line without "\n" glued to the next one; mark it as git does
    return "".join(ln if ln.endswith("\n") else ln + "\n\\ No newline at end of file\n"
                   for ln in lines)


def _replace_once(before: str, old: str, new: str, shown: str) -> tuple[str, str]:
    """The text with ``old`` replaced, and the diff; ``old`` must occur exactly once."""
    count = before.count(old)
    if count == 0:
        raise ToolError(f"{shown}: `old` text not found (it must match exactly, "
                        "whitespace included); read the file and retry")
    if count > 1:
        raise ToolError(f"{shown}: `old` text occurs {count} times; include more "
                        "surrounding lines so it matches once")
    after = before.replace(old, new, 1)
    return after, unified_diff(before, after, shown)


def _local_lines(paths: WorkspacePaths, raw: str) -> tuple[Path, list[str]]:
    real = paths.resolve(raw, kind="file")
    text = _read_local(paths, real, paths.relative(real), False)
    return real, text.splitlines(keepends=True)


def _list_dir(paths: WorkspacePaths, raw: str) -> tuple[Path, list[str]]:
    """The directory's entries, the store's files left out; opened without following links."""
    real = paths.resolve(raw, kind="dir", purpose="list")
    hidden = {p.name for p in paths.protection.store_files if p.parent == real}
    fd = paths.open_dir(real)
    try:
        with os.scandir(fd) as it:
            return real, sorted(e.name + ("/" if e.is_dir(follow_symlinks=False) else "")
                                for e in it if e.name not in hidden)
    finally:
        os.close(fd)


class ReadTool:
    spec = ToolSpec(
        name="read",
        description=("Read a text file in the workspace. Optional offset (1-based first line) "
                     "and limit (number of lines) read part of a long file."),
        input_schema={"type": "object", "properties": {
            "path": _path_prop("File to read"),
            "offset": {"type": "integer", "minimum": 1, "description": "First line, 1-based"},
            "limit": {"type": "integer", "minimum": 1, "description": "Number of lines"},
        }, "required": ["path"], "additionalProperties": False},
        cost_tier="free", domain="coding",
        keywords=("read", "open", "view", "show", "cat", "contents", "look at", "print"),
        examples=("show me what's in setup.cfg", "open src/app.py", "cat the README",
                  "what does config.yaml say?", "lines 40-80 of models.py"))

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        paths = WorkspacePaths.for_context(ctx)
        if ctx.client_fs is None:  # one trip to the worker thread for the blocking part
            real, lines = await asyncio.to_thread(_local_lines, paths, tool_input["path"])
            shown = paths.relative(real)
        else:
            real = await asyncio.to_thread(paths.resolve, tool_input["path"], kind="file",
                                           must_exist=False)
            shown = paths.relative(real)
            text = await TextFiles(ctx, paths).read(real, shown)
            lines = await asyncio.to_thread(str.splitlines, text, True)
        first = int(tool_input.get("offset", 1))
        limit = int(tool_input.get("limit", READ_DEFAULT_LIMIT))
        if lines and first > len(lines):
            raise ToolError(f"{shown}: offset {first} is past the end ({len(lines)} lines)")
        picked: list[str] = []
        chars = 0
        for line in lines[first - 1:first - 1 + limit]:
            if chars + len(line) > READ_MAX_CHARS and picked:
                break
            picked.append(line)
            chars += len(line)
        last = first - 1 + len(picked)
        text = "".join(picked)
        if last < len(lines):
            text += (f"\n[... showing lines {first}-{last} of {len(lines)}; "
                     f"read with offset={last + 1} to continue]")
        return ToolResult(text, data={"path": shown, "first_line": first, "last_line": last,
                                      "total_lines": len(lines)})


class WriteTool:
    spec = ToolSpec(
        name="write",
        description=("Create or overwrite a text file in the workspace with the given content. "
                     "Parent directories are created."),
        input_schema={"type": "object", "properties": {
            "path": _path_prop("File to write"),
            "content": {"type": "string", "description": "The whole new content of the file"},
        }, "required": ["path", "content"], "additionalProperties": False},
        cost_tier="low", domain="coding", writes=True,
        keywords=("write", "create", "new file", "save", "overwrite", "generate", "scaffold"),
        examples=("create notes.md with a summary", "save this script as tools/run.sh",
                  "make a Dockerfile for the app", "write the fixture to tests/data.json"))

    def precheck(self, tool_input: dict[str, Any], ctx: ToolContext) -> None:
        WorkspacePaths.for_context(ctx).resolve(tool_input["path"], kind="file",
                                                must_exist=False, purpose="write")

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        paths = WorkspacePaths.for_context(ctx)
        real = await asyncio.to_thread(paths.resolve, tool_input["path"], kind="file",
                                       must_exist=False, purpose="write")
        shown = paths.relative(real)
        files = TextFiles(ctx, paths)
        old: str | None = None
        if ctx.client_fs is not None or await asyncio.to_thread(real.exists):
            try:
                old = await files.read(real, shown)
            except ToolError:
                old = None  # a new file, or one we cannot show: the write still goes ahead
        content = tool_input["content"]
        await files.write(real, shown, content)
        verb = "created" if old is None else "wrote"
        diff = await asyncio.to_thread(unified_diff, old or "", content, shown)
        return ToolResult(f"{verb} {shown} ({len(content.encode())} bytes)",
                          data={"path": shown, "abs_path": str(real), "old_text": old,
                                "new_text": content, "diff": diff})


class EditTool:
    spec = ToolSpec(
        name="edit",
        description=("Replace one exact occurrence of `old` with `new` in a workspace file. "
                     "`old` must match the file text exactly (whitespace included) and occur "
                     "once; include surrounding lines to make it unique. Returns a diff."),
        input_schema={"type": "object", "properties": {
            "path": _path_prop("File to edit"),
            "old": {"type": "string", "minLength": 1, "description": "Exact text to replace"},
            "new": {"type": "string", "description": "Replacement text"},
        }, "required": ["path", "old", "new"], "additionalProperties": False},
        cost_tier="low", domain="coding", writes=True,
        keywords=("edit", "change", "replace", "fix", "modify", "rename", "tweak", "patch"),
        examples=("change the port from 8080 to 9090 in server.py",
                  "fix the typo in the docstring of utils.py",
                  "rename the variable cnt to count in main.py",
                  "bump the timeout to 60 in settings.py"))

    def precheck(self, tool_input: dict[str, Any], ctx: ToolContext) -> None:
        WorkspacePaths.for_context(ctx).resolve(tool_input["path"], kind="file",
                                                must_exist=ctx.client_fs is None,
                                                purpose="write")

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        paths = WorkspacePaths.for_context(ctx)
        real = await asyncio.to_thread(paths.resolve, tool_input["path"], kind="file",
                                       must_exist=ctx.client_fs is None, purpose="write")
        shown = paths.relative(real)
        old_snippet, new_snippet = tool_input["old"], tool_input["new"]
        files = TextFiles(ctx, paths)
        before = await files.read(real, shown, strict=True)
        after, diff = await asyncio.to_thread(_replace_once, before, old_snippet, new_snippet,
                                              shown)
        await files.write(real, shown, after)
        return ToolResult(f"edited {shown}\n{diff}",
                          data={"path": shown, "abs_path": str(real), "old_text": before,
                                "new_text": after, "diff": diff})


class LsTool:
    spec = ToolSpec(
        name="ls",
        description=("List a directory in the workspace (default: the root). Directories end "
                     "with '/'."),
        input_schema={"type": "object", "properties": {
            "path": _path_prop("Directory to list (default '.')"),
        }, "additionalProperties": False},
        cost_tier="free", domain="coding",
        keywords=("list", "ls", "directory", "folder", "files", "tree", "contents of"),
        examples=("what's in the src folder?", "list the files under tests/",
                  "show me the project layout", "which files are in docs?"))

    async def run(self, tool_input: dict[str, Any], ctx: ToolContext) -> ToolResult:
        paths = WorkspacePaths.for_context(ctx)
        real, entries = await asyncio.to_thread(_list_dir, paths, tool_input.get("path") or ".")
        shown = paths.relative(real)
        more = len(entries) - LS_MAX_ENTRIES
        text = "\n".join(entries[:LS_MAX_ENTRIES]) if entries else "(empty directory)"
        if more > 0:
            text += f"\n[... {more} more entries]"
        return ToolResult(text, data={"path": shown, "entries": len(entries)})
