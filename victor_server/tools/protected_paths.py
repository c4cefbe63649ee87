"""Paths the model may never change: the server's own state and the repository's machinery.

The file tools run with the user's rights inside the workspace, and some files there are not
the user's code: ``.victor/`` holds the store, the config (a rewritten provider or base URL
takes effect mid-session) and the standards file that feeds every system prompt; ``.git/``
holds hooks (code that runs on the user's next commit) and config. So every tool write, and
every redirect target of a full-shell ``bash`` line, is checked here first.

Rules are gitignore lines (``pathspec.GitIgnoreSpec``) matched against the workspace-relative
path: ``DEFAULT_PROTECTED`` (``.git`` and ``.victor`` at any depth, file or directory, so a
nested repository and a worktree's ``.git`` file count too), then the standards file wherever
``prompts.standards_file`` puts it (it feeds every system prompt), then the config list
``tools.protected_paths``. As in a ``.gitignore`` the last matching line decides, so a user opts
a path back in with a negated line: ``tools.protected_paths: ["!.victor/standards.md"]`` lets
the model edit the standards file. Matching ignores case, because on a case-insensitive file
system (macOS) ``.GIT/hooks`` is ``.git/hooks``. Reads stay allowed for everything but the
store.

The store's files (the SQLite database, default ``.victor/victor.db``, or wherever ``--db``
points inside the workspace, with its ``-wal``, ``-shm`` and ``-journal`` files) can be neither
read nor written, and no negated line opens them: they hold every session and tenant, and a
write through the tools would corrupt what the server holds open. They are recognised by path
and, for reads, by identity (device and inode), so a hard link to the database elsewhere in the
workspace is refused too. Listing and search leave them out.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from victor_server.tools.base import ToolError

DEFAULT_PROTECTED = (".git", ".victor")
STORE_SUFFIXES = ("", "-wal", "-shm", "-journal")
SEE_ALSO = "tools.protected_paths; see docs/security.md"


class PathRefused(ToolError):
    """A path the tools will not touch; the message is written for the model."""


class Protection:
    def __init__(self, root: Path, patterns: list[str] | None = None,
                 store_path: Path | str | None = None,
                 standards_file: Path | str | None = None) -> None:
        self.root = root.resolve()
        own = [*DEFAULT_PROTECTED, *self._anchored(standards_file)]
        # blank lines and comments dropped, so a match's index names its line
        self.lines = [line for line in (*own, *(str(p) for p in patterns or []))
                      if line.strip() and not line.startswith("#")]
        self._spec: Any = None
        store = Path(store_path) if store_path else self.root / ".victor" / "victor.db"
        if not store.is_absolute():
            store = self.root / store
        self.store_files = {Path(str(store.resolve()) + suffix) for suffix in STORE_SUFFIXES}

    @classmethod
    def from_options(cls, root: Path, options: dict[str, Any]) -> Protection:
        """From the ``tools`` config section plus ``store_path`` (the server's database) and
        ``standards_file`` (the prompt's standards file), which the server adds."""
        patterns = options.get("protected_paths") or []
        if isinstance(patterns, str):
            patterns = [patterns]
        return cls(root, list(patterns), options.get("store_path"),
                   options.get("standards_file"))

    def _anchored(self, path: Path | str | None) -> list[str]:
        """A gitignore line for exactly ``path`` when it lies in the workspace, else none."""
        if not path:
            return []
        full = Path(path) if Path(path).is_absolute() else self.root / path
        real = full.resolve()
        if not real.is_relative_to(self.root) or real == self.root:
            return []
        return ["/" + real.relative_to(self.root).as_posix()]

    def is_store_file(self, real: Path) -> bool:
        return real in self.store_files

    def store_identities(self) -> set[tuple[int, int]]:
        """(device, inode) of the store files that exist now: a hard link has the same."""
        found: set[tuple[int, int]] = set()
        for path in self.store_files:
            try:
                st = os.stat(path)
            except OSError:
                continue
            found.add((st.st_dev, st.st_ino))
        return found

    def check(self, real: Path, shown: str, purpose: str) -> None:
        """Raise ``PathRefused`` when ``purpose`` ("read", "write", "list") may not use ``real``."""
        if self.is_store_file(real):
            raise PathRefused(f"{purpose} refused: `{shown}` is the server's store "
                              f"(its database files are never read or written by tools)")
        if purpose != "write" or not real.is_relative_to(self.root):
            return
        rel = real.relative_to(self.root).as_posix()
        rule = self.rule_for(rel)
        if rule is not None:
            raise PathRefused(f"write refused: `{rel}` is protected by `{rule}` ({SEE_ALSO})")

    def rule_for(self, rel: str) -> str | None:
        """The protecting line for a workspace-relative path, or None when writes may go."""
        if rel in ("", "."):
            return None
        if self._spec is None:
            import pathspec  # lazy: the first tool call pays for it, not the start

            self._spec = pathspec.GitIgnoreSpec.from_lines(
                [line.casefold() for line in self.lines])
        result = self._spec.check_file(rel.casefold())
        if not result.include or result.index is None:
            return None
        line = self.lines[result.index]
        return f"{line}/" if line in DEFAULT_PROTECTED else line
