"""A minimal synchronous JSON-RPC client for newline-delimited stdio (MCP's and ACP's framing),
the counterpart of ``lsp_wire.WireClient``: the benchmarks time the servers, not a client SDK."""

from __future__ import annotations

import json
import subprocess
from typing import Any

MCP_INITIALIZE = {"protocolVersion": "2025-06-18", "capabilities": {},
                  "clientInfo": {"name": "bench", "version": "0"}}
ACP_INITIALIZE = {"protocolVersion": 1, "clientCapabilities": {}}


class NdjsonClient:
    def __init__(self, command: list[str], env: dict[str, str] | None = None,
                 cwd: str | None = None, stderr: Any = subprocess.DEVNULL) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=stderr, env=env, cwd=cwd)
        self._next = 0

    def send(self, method: str, params: Any, notify: bool = False,
             string_ids: bool = False) -> int | str:
        self._next += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        request_id: int | str = str(self._next) if string_ids else self._next
        if not notify:
            message["id"] = request_id
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()
        return request_id

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise EOFError("server closed stdout")
            if line.strip():
                result: dict[str, Any] = json.loads(line)
                return result

    def request(self, method: str, params: Any, string_ids: bool = False) -> Any:
        request_id = self.send(method, params, string_ids=string_ids)
        while True:
            message = self.read()
            if message.get("id") == request_id and "method" not in message:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result")

    def close(self) -> None:
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
