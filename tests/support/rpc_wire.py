"""A byte-level JSON-RPC client for the reliability, fuzz and security suites.

The protocol SDK clients used by the face tests (pytest-lsp, ``mcp.Client``, ``acp``) refuse to
send malformed frames, and they hide what the server wrote. This client spawns the real
``victor-server <face>`` as a subprocess and talks raw bytes over its stdio: ``send_raw`` writes
anything at all, ``send`` frames one message the face's way (``Content-Length`` headers for LSP,
one line of JSON for MCP and ACP), and a reader thread parses everything the server writes into
``messages``. It is synchronous on purpose, so hypothesis can drive it without an event loop,
and a test can ``kill -9`` the process at any point.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server_env import server_env

JSON = dict[str, Any]


def frame(face: str, body: bytes) -> bytes:
    if face == "lsp":
        return b"Content-Length: %d\r\n\r\n" % len(body) + body
    return body + b"\n"


class WireServer:
    """One ``victor-server <face>`` process and everything it has written to stdout."""

    def __init__(self, face: str, workspace: Path, env: dict[str, str] | None = None,
                 args: list[str] | None = None) -> None:
        self.face = face
        self.workspace = workspace
        self.stderr_path = workspace.parent / f"stderr-{face}-{os.getpid()}-{id(self)}.log"
        self._stderr = open(self.stderr_path, "wb")  # closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "victor_server", face, "--workspace", str(workspace),
             *(args or [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            env=server_env(env), cwd=str(workspace))
        self.messages: list[JSON] = []
        self.unparsed: list[bytes] = []
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self._eof = False
        self._reading = threading.Event()  # cleared: the client stops reading stdout
        self._reading.set()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- writing -----------------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, message: Any) -> None:
        self.send_raw(frame(self.face, json.dumps(message).encode()))

    def notify(self, method: str, params: Any = None) -> None:
        message: JSON = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def start_request(self, method: str, params: Any = None) -> int:
        rid = next(self._ids) + 1_000_000  # clear of ids a fuzz example might reuse
        message: JSON = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return rid

    def request(self, method: str, params: Any = None, timeout: float = 60) -> JSON:
        """Send a request and return its whole response (``result`` or ``error``)."""
        return self.response(self.start_request(method, params), timeout)

    def call(self, method: str, params: Any = None, timeout: float = 60) -> Any:
        response = self.request(method, params, timeout)
        assert "error" not in response, response
        return response["result"]

    # -- reading -----------------------------------------------------------------------------

    def response(self, rid: Any, timeout: float = 60) -> JSON:
        found = self.wait_for(lambda m: m.get("id") == rid and "method" not in m
                              and ("result" in m or "error" in m), timeout)
        assert found is not None, f"no response to {rid} in {timeout}s; {self.tail()}"
        return found

    def wait_for(self, match: Callable[[JSON], bool], timeout: float = 30,
                 start: int = 0) -> JSON | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.messages[start:]:
                    if match(message):
                        return message
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._eof:
                    return None
                self._cond.wait(min(remaining, 0.5))

    def notifications(self, method: str) -> list[JSON]:
        with self._cond:
            return [m for m in self.messages if m.get("method") == method and "id" not in m]

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        try:
            while True:
                self._reading.wait()
                body = self._read_lsp(stream) if self.face == "lsp" else stream.readline()
                if not body:
                    break
                try:
                    parsed = json.loads(body)
                except ValueError:
                    self.unparsed.append(body)
                    continue
                with self._cond:
                    items = parsed if isinstance(parsed, list) else [parsed]
                    self.messages.extend(m for m in items if isinstance(m, dict))
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._eof = True
                self._cond.notify_all()

    @staticmethod
    def _read_lsp(stream: Any) -> bytes:
        length = None
        while True:
            line = stream.readline()
            if not line:
                return b""
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        return stream.read(length) if length is not None else b"{}"

    def pause_reading(self) -> None:
        """Stop reading what the server writes (at most one more message is taken)."""
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    def rss_kib(self) -> int:
        """The server's resident memory now (Linux ``/proc``), in KiB."""
        with open(f"/proc/{self.proc.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc status")

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")[-chars:]

    def initialize(self, **options: Any) -> JSON:
        """The face's handshake, answered; returns the result."""
        if self.face == "lsp":
            result = self.call("initialize", {
                "processId": None, "rootUri": self.workspace.as_uri(), "capabilities": {},
                "initializationOptions": options or None})
            self.notify("initialized", {})
        elif self.face == "mcp":
            result = self.call("initialize", {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "wire", "version": "0"}})
            self.notify("notifications/initialized")
        else:
            result = self.call("initialize", {"protocolVersion": 1, "clientCapabilities": {},
                                              **({"_meta": options} if options else {})})
        return dict(result)

    def kill(self) -> None:
        if self.alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._stderr.close()

    def close(self, timeout: float = 20) -> int:
        """Close stdin (the client goes away) and wait for a clean exit; returns its code."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise
        finally:
            self._stderr.close()

    def __enter__(self) -> WireServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.alive:
            try:
                self.close(10)
            except subprocess.TimeoutExpired:
                pass
        elif not self._stderr.closed:
            self._stderr.close()
