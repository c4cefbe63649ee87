"""Answer MCP ``initialize`` before the SDK has finished importing.

``import mcp.server.mcpserver`` costs about a second, and a client waits for its ``initialize``
answer before anything else. That answer depends only on the SDK's version, ours, and the
protocol version the client asks for, so it is cached: the first start lets the SDK answer and
records the result; later starts read the first frame while the SDK imports in a thread, write
the recorded answer at once, and then hand the same frame to the SDK so its connection state is
exactly as if it had answered. Its own answer to that frame is then dropped, after checking it
against ours (a mismatch is logged and re-recorded, so it cannot persist past one start).

Only a well-formed ``initialize`` with a cached protocol version takes the fast path; every other
first frame (the 2026 ``server/discover``, garbage, an unknown version, a frame nested deeper
than the wire limit, which is never parsed here) goes to the SDK's reader as it is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from victor_server import __version__
from victor_server.adapters.wire_guard import WireLimits, nesting_deeper_than

logger = logging.getLogger(__name__)


@dataclass
class FirstFrame:
    raw: bytes  # the line as read, handed to the SDK afterwards
    request_id: Any = None
    answered: dict[str, Any] | None = None  # the result we sent, when we answered
    protocol_version: str | None = None  # set for an initialize, answered or not


def cache_path() -> Path:
    """Keyed by our version, the SDK's, and the face's own source files: an edited server
    (new instructions or capabilities) never gets an answer recorded before the edit."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    try:
        sdk = version("mcp")
    except PackageNotFoundError:
        sdk = "unknown"
    here = Path(__file__).parent
    stamp = hashlib.sha256()
    for name in ("mcp.py", "common.py"):
        try:
            info = (here / name).stat()
            stamp.update(f"{name}:{info.st_size}:{info.st_mtime_ns};".encode())
        except OSError:
            stamp.update(name.encode())
    key = stamp.hexdigest()[:12]
    return Path(base) / "victor-server" / f"mcp-initialize-{__version__}-sdk{sdk}-{key}.json"


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def remember(protocol_version: str, result: dict[str, Any], path: Path | None = None) -> None:
    """Record the SDK's answer for this protocol version (best effort: it is only a cache)."""
    path = path or cache_path()
    answers = _load(path)
    if answers.get(protocol_version) == result:
        return
    answers[protocol_version] = result
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(answers), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        logger.debug("initialize cache not written: %s", exc)


def read_line(fd: int, limit: int = 1 << 20) -> bytes:
    """One line from a file descriptor, a byte at a time: nothing past the newline is consumed,
    so the SDK's own reader (a new file object on the same descriptor) sees the rest."""
    line = bytearray()
    while len(line) < limit:
        byte = os.read(fd, 1)
        if not byte:
            break
        line += byte
        if byte == b"\n":
            break
    return bytes(line)


def read_first_frame(stdin_fd: int, stdout_fd: int, path: Path | None = None) -> FirstFrame:
    """Read the client's first line; answer it from the cache when it is a known initialize."""
    raw = read_line(stdin_fd)
    frame = FirstFrame(raw)
    if not raw.endswith(b"\n") or nesting_deeper_than(
            raw, WireLimits.process().max_depth):
        return frame  # cut short, or too deep to parse here: the SDK's reader answers it
    try:
        message = json.loads(raw)
    except (ValueError, RecursionError):
        return frame
    if not (isinstance(message, dict) and message.get("method") == "initialize"
            and "id" in message and isinstance(message.get("params"), dict)):
        return frame
    requested = message["params"].get("protocolVersion")
    if not isinstance(requested, str):
        return frame
    frame.request_id, frame.protocol_version = message["id"], requested
    result = _load(path or cache_path()).get(requested)
    if isinstance(result, dict):
        answer = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        data = json.dumps(answer, separators=(",", ":")).encode() + b"\n"
        while data:
            data = data[os.write(stdout_fd, data):]
        frame.answered = result
        logger.info("initialize (protocol %s) answered from the start-up cache", requested)
    return frame


def start_reading() -> FirstFrame:
    """For ``victor-server mcp`` over stdio: the first frame, answered when we can."""
    sys.stdout.flush()
    return read_first_frame(sys.stdin.fileno(), sys.stdout.fileno())
