"""Confining tool paths to the workspace, and opening them so a swap cannot redirect the call.

Every built-in tool turns the model's path into a real path through ``WorkspacePaths.resolve``,
which is the one place the confinement rules live:

- a path is taken relative to the workspace; an absolute path is accepted only when it already
  lies inside the workspace (models often echo back absolute paths they were shown);
- the path is resolved with symlinks followed, and the *result* must lie inside the workspace,
  so ``..``, absolute paths elsewhere and symlinks that leave the workspace are all refused by
  the same check; a symlink loop is refused;
- something that exists but is neither a regular file nor a directory (a device, a FIFO, a
  socket) is refused: reading ``/dev/zero``-like files never ends and a FIFO blocks;
- the resolved path goes through ``Protection`` (``.git``, ``.victor``, the store's files and
  ``tools.protected_paths``), for the purpose of the call: read, write or list.

Checking a path and then opening it by name would leave a window: a component swapped for a
symlink in between would send the open elsewhere. So files are opened by ``open_file`` and
directories by ``open_dir``, which walk the *resolved* path one component at a time from a
descriptor of the workspace root, ``openat``-style (``os.open(part, O_NOFOLLOW | ...,
dir_fd=parent)``): since the resolved path has no symlinks left in it, any symlink met on the
walk was swapped in after the check, and the open fails instead of following it. The final
file is then checked on its descriptor (``fstat``): a regular file, and for a write, one with a
single hard link, because writing through a second link would change a file that may lie
outside the workspace. The store's files are also refused by identity, so a hard link to the
database cannot be read. A write that goes through the editor's file system (ACP ``fs/*``)
cannot use the descriptor, so ``refuse_hard_linked`` applies the hard-link rule to it by path.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from victor_server.tools.protected_paths import PathRefused, Protection

__all__ = ["PathRefused", "WorkspacePaths"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class WorkspacePaths:
    def __init__(self, workspace: Path, protection: Protection | None = None) -> None:
        self.root = workspace.resolve()
        self.protection = protection or Protection(self.root)

    @classmethod
    def for_context(cls, ctx: Any) -> WorkspacePaths:
        """Paths for a tool call: the workspace and the protection rules the coordinator set."""
        return cls(ctx.workspace, getattr(ctx, "protection", None))

    def resolve(self, raw: str, *, kind: str = "any", must_exist: bool = True,
                purpose: str = "read") -> Path:
        """The real path for ``raw``; ``kind`` is "file", "dir" or "any"; ``purpose`` is
        "read", "write" or "list".

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
        self.protection.check(real, self.relative(real), purpose)
        return self._check_kind(raw, real, kind, must_exist)

    def relative(self, real: Path) -> str:
        """The workspace-relative spelling of a resolved path, for messages and results."""
        rel = real.relative_to(self.root).as_posix()
        return rel or "."

    def open_dir(self, real: Path, *, create: bool = False) -> int:
        """A descriptor for the resolved directory ``real``, walked without following links;
        ``create`` makes missing directories on the way (for a write's parents)."""
        shown = self.relative(real)
        fd = os.open(self.root, _DIR_FLAGS)
        try:
            for part in real.relative_to(self.root).parts:
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise PathRefused(f"{shown}: no such directory") from None
                    try:
                        os.mkdir(part, 0o777, dir_fd=fd)
                    except FileExistsError:
                        pass
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                os.close(fd)
                fd = child
        except BaseException as exc:
            os.close(fd)
            if isinstance(exc, OSError):
                raise _swapped(shown, exc) from exc
            raise
        return fd

    def open_file(self, real: Path, *, write: bool = False) -> int:
        """A descriptor for the resolved file ``real``: for reading, or for writing (created
        when missing, not truncated: the caller truncates once the checks pass)."""
        shown = self.relative(real)
        parent = self.open_dir(real.parent, create=write)
        flags = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # NONBLOCK: a FIFO must not hang
        flags |= (os.O_WRONLY | os.O_CREAT) if write else os.O_RDONLY
        try:
            fd = os.open(real.name, flags, 0o666, dir_fd=parent)
        except FileNotFoundError:
            raise PathRefused(f"{shown}: no such file") from None
        except OSError as exc:
            raise _swapped(shown, exc) from exc
        finally:
            os.close(parent)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise PathRefused(f"{shown}: not a regular file")
            if write and st.st_nlink > 1:
                raise _hard_linked(shown, st.st_nlink)
            if not write and (st.st_dev, st.st_ino) in self.protection.store_identities():
                raise PathRefused(f"read refused: `{shown}` is a hard link to the server's "
                                  "store")
            os.set_blocking(fd, True)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def refuse_hard_linked(self, real: Path) -> None:
        """For writes that go through the editor, not ``open_file``: the same hard-link rule."""
        try:
            st = os.lstat(real)
        except FileNotFoundError:
            return
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            raise _hard_linked(self.relative(real), st.st_nlink)

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


def _hard_linked(shown: str, links: int) -> PathRefused:
    return PathRefused(f"write refused: `{shown}` has {links} hard links; writing it would "
                       "change the other names too, which may lie outside the workspace")


def _swapped(shown: str, exc: OSError) -> PathRefused:
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return PathRefused(f"{shown}: a part of the path is a symlink or not a directory "
                           "(changed while the tool ran?); refused")
    return PathRefused(f"{shown}: {exc.strerror or exc}")
