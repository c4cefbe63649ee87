"""Start the real ``victor-server mcp`` (stdio or HTTP) and attach the Python ``mcp`` client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from server_env import server_env


def server_args(workspace: Path, db: Path, *more: str) -> list[str]:
    return ["-m", "victor_server", "mcp", "--workspace", str(workspace), "--db", str(db), *more]


@asynccontextmanager
async def mcp_client(workspace: Path, db: Path, env: dict[str, str] | None = None,
                     mode: str = "legacy") -> AsyncIterator[Client]:
    """A connected client; ``mode`` is ``legacy`` (initialize) or ``2026-07-28`` (stateless)."""
    params = StdioServerParameters(command=sys.executable, args=server_args(workspace, db),
                                   env=server_env(env), cwd=str(workspace))
    async with Client(params, mode=mode, read_timeout_seconds=60) as client:
        yield client


def structured(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content
    data = result.structured_content
    assert isinstance(data, dict)
    # The text block mirrors the structured content for clients without outputSchema support.
    assert json.loads(result.content[0].text) == data
    return data


def error_text(result: Any) -> str:
    assert result.is_error
    return " ".join(getattr(c, "text", "") for c in result.content)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_server(workspace: Path, db: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``victor-server mcp --http`` on a free loopback port; yields the endpoint URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, *server_args(workspace, db, "--http", "--port",
                                                          str(port))],
                            env=server_env(env), cwd=str(workspace),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}"
                                   if proc.stderr else "server exited")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
