"""Keep the store out of version control: ``.victor/`` also holds files a project commits
(``config.yml``, ``standards.md``), so the directory cannot simply be ignored as a whole.

When a store is created in a ``.victor`` directory, a ``.gitignore`` there lists the store's
files (the database and its WAL and shared-memory files). A ``.gitignore`` the user already
has is left exactly as it is.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

HEADER = "# victor-server's store: conversations and analytics, not for version control\n"


def ignore_store_files(db_path: Path) -> None:
    directory = db_path.parent
    if directory.name != ".victor":
        return  # a store elsewhere (--db) sits where the user put it; their ignore rules apply
    names = [db_path.name, f"{db_path.name}-wal", f"{db_path.name}-shm"]
    with contextlib.suppress(OSError):  # already there, or read-only: ours is a courtesy
        fd = os.open(directory / ".gitignore", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(HEADER + "".join(f"{name}\n" for name in names))
