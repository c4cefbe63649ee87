"""Broken disks for the storage-failure tests: a small tmpfs that can be made read-only or
filled up, and a way to make root obey file permissions.

Mounting needs root (or CAP_SYS_ADMIN); the ``tmpfs`` fixture skips, saying why, where the
mount is refused. Root ignores file modes, so ``as_unprivileged`` runs a command with
CAP_DAC_OVERRIDE and friends removed from its bounding set (``setpriv``): the same user, held
to the modes like anyone else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_env import server_env


class Tmpfs:
    def __init__(self, path: Path) -> None:
        self.path = path

    def remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True,
                       capture_output=True)

    def fill(self) -> Path:
        """Write a file until the file system is full; returns it (delete it to free space)."""
        filler = self.path / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        return filler


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Tmpfs]:
    mountpoint = tmp_path / "mnt"
    mountpoint.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield Tmpfs(mountpoint)
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, check=False)


def as_unprivileged(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: file modes cannot be enforced")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *argv]


def run_cli(workspace: Path, *args: str, env: dict[str, str] | None = None,
            unprivileged: bool = False) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "victor_server", "--workspace", str(workspace), *args]
    if unprivileged:
        argv = as_unprivileged(argv)
    # the offline provider: a chat gets as far as the store without an API key
    return subprocess.run(argv, capture_output=True, text=True,
                          env=server_env({"VICTOR_PROVIDER": "scripted", **(env or {})}),
                          timeout=60, check=False)


def assert_one_line_store_error(result: subprocess.CompletedProcess[str]) -> str:
    """Exit 1, nothing on stdout, one line on stderr naming -32005; returns the line."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "error -32005: store unavailable: " in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]
