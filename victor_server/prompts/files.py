"""Reading instruction files with an mtime cache: a turn costs a ``stat``, not a read."""

from __future__ import annotations

import logging
from pathlib import Path

logger = logging.getLogger(__name__)


class CachedFileReader:
    def __init__(self) -> None:
        self._cache: dict[Path, tuple[int, int, str]] = {}

    def read(self, path: Path) -> str:
        try:
            stat = path.stat()
        except OSError:
            self._cache.pop(path, None)
            return ""
        cached = self._cache.get(path)
        if cached and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
            return cached[2]
        try:
            text = path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError as exc:
            logger.warning("cannot read %s: %s", path, exc)
            return ""
        self._cache[path] = (stat.st_mtime_ns, stat.st_size, text)
        return text
