"""A minimal synchronous LSP client over a subprocess's stdio (Content-Length framing), so the
benchmark measures the servers, not a client framework."""

from __future__ import annotations

import json
import subprocess
from typing import Any


class WireClient:
    def __init__(self, command: list[str], env: dict[str, str] | None = None,
                 cwd: str | None = None) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env, cwd=cwd)
        self._next = 0

    def send(self, method: str, params: Any, notify: bool = False) -> int:
        self._next += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            message["id"] = self._next
        body = json.dumps(message).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return self._next

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("server closed stdout")
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
            elif line in (b"\r\n", b"\n"):
                break
        result: dict[str, Any] = json.loads(self.proc.stdout.read(length))
        return result

    def request(self, method: str, params: Any) -> Any:
        request_id = self.send(method, params)
        while True:
            message = self.read()
            if message.get("id") == request_id and "method" not in message:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result")

    def initialize(self, root_uri: str | None = None) -> Any:
        result = self.request("initialize", {"processId": None, "rootUri": root_uri,
                                             "capabilities": {}})
        self.send("initialized", {}, notify=True)
        return result

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.send("exit", None, notify=True)
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
