"""Confining tool paths to the workspace.

Every built-in tool turns the model's path into a real path through ``WorkspacePaths.resolve``,
which is the one place the confinement rules live:

- a path is taken relative to the workspace; an absolute path is accepted only when it already
  lies inside the workspace (models often echo back absolute paths they were shown);
- the path is resolved with symlinks followed, and the *result* must lie inside the workspace,
  so ``..``, absolute paths elsewhere and symlinks that leave the workspace are all refused by
  the same check; a symlink loop is refused;
- something that exists but is neither a regular file nor a directory (a device, a FIFO, a
  socket) is refused: reading ``/dev/zero``-like files never ends and a FIFO blocks.

The check runs before every open. A symlink swapped in between the check and the open could
still redirect one call; closing that race needs ``openat2(RESOLVE_BENEATH)``, which Python does
not offer portably, and the workspace belongs to the user who started the server anyway.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from victor_server.tools.base import ToolError


class PathRefused(ToolError):
    """A path the tools will not touch; the message is written for the model."""


class WorkspacePaths:
    def __init__(self, workspace: Path) -> None:
        self.root = workspace.resolve()

    def resolve(self, raw: str, *, kind: str = "any", must_exist: bool = True) -> Path:
        """The real path for ``raw``; ``kind`` is "file", "dir" or "any".

        Raises ``PathRefused`` with a message naming ``raw`` and the reason.
        """
        if not isinstance(raw, str) or not raw.strip():
            raise PathRefused("path must be a non-empty string")
        if "\x00" in raw:
            raise PathRefused(f"{raw!r}: path contains a NUL byte")
        candidate = Path(raw)
        if not candidate.is_absolute():
            candidate = self.root / candidate
        try:
            real = candidate.resolve(strict=False)
        except (RuntimeError, OSError) as exc:  # 3.11 raises RuntimeError on a symlink loop
            raise PathRefused(f"{raw}: cannot resolve path ({exc})") from exc
        if not real.is_relative_to(self.root):
            raise PathRefused(f"{raw}: path is outside the workspace")
        return self._check_kind(raw, real, kind, must_exist)

    def relative(self, real: Path) -> str:
        """The workspace-relative spelling of a resolved path, for messages and results."""
        rel = real.relative_to(self.root).as_posix()
        return rel or "."

    def _check_kind(self, raw: str, real: Path, kind: str, must_exist: bool) -> Path:
        try:
            mode = os.stat(real).st_mode
        except FileNotFoundError:
            if os.path.lexists(real):  # a dangling symlink inside the workspace
                raise PathRefused(f"{raw}: broken symlink") from None
            if must_exist:
                raise PathRefused(f"{raw}: no such file or directory") from None
            return real
        except OSError as exc:  # ELOOP, EACCES, ENOTDIR ...
            raise PathRefused(f"{raw}: {exc.strerror or exc}") from exc
        if stat.S_ISDIR(mode):
            if kind == "file":
                raise PathRefused(f"{raw}: is a directory, not a file")
        elif stat.S_ISREG(mode):
            if kind == "dir":
                raise PathRefused(f"{raw}: is a file, not a directory")
        else:
            raise PathRefused(f"{raw}: not a regular file or directory (device, FIFO or socket)")
        return real
