"""A loopback HTTP receiver standing in for a webhook endpoint and a Prometheus Pushgateway.

It records every request (method, path, headers, body) and answers with ``status`` (change it to
make the sink fail, then recover). Served from a daemon thread so sync and async tests and
subprocess servers can all reach it.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpSink:
    def __init__(self) -> None:
        self.status = 200
        self.received: list[Received] = []
        self.attempts = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with sink._lock:
                    sink.attempts += 1
                    status = sink.status
                    if status < 300:
                        sink.received.append(Received(self.command, self.path,
                                                      dict(self.headers.items()), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = _record

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HttpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def event_ids(self) -> list[str]:
        """Ids of every event POSTed as a JSON array (the webhook's payload)."""
        with self._lock:
            return [e["id"] for r in self.received if r.method == "POST" for e in r.json()]
