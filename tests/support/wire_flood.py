"""A client that writes requests and reads none of the answers, for the flood test and the
reliability benchmark.

``flood_unread`` writes ``count`` requests from a thread while the ``WireServer``'s reader is
paused, sampling the server's resident memory (``/proc/<pid>/status`` VmRSS) as it goes. A
server that pushes back stops reading stdin, the pipe fills, and the writer blocks in its own
write: the flood then *stalls* short of ``count``. The stall is recognised as no progress for
``stall_seconds`` (which can only make a slow server look as if it pushed back, never the other
way round), and the caller then resumes reading and checks every request is answered.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rpc_wire import WireServer


@dataclass
class Flood:
    count: int
    baseline_kib: int
    peak_kib: int = 0
    sent: int = 0
    stalled: bool = False
    taken: int = 0  # requests written when the flood ended (stalled, or all of them)
    first_id: int = 50_000_000
    writer: threading.Thread | None = field(default=None, repr=False)

    @property
    def growth_mib(self) -> float:
        return (self.peak_kib - self.baseline_kib) / 1024


def flood_unread(server: WireServer, count: int, method: str, params: Any,
                 stall_seconds: float = 3.0, max_seconds: float = 300.0,
                 settle_seconds: float = 0.0) -> Flood:
    """``settle_seconds``: after a writer that was never stopped has finished, go on sampling
    while the server works through what it took (a server without pushback peaks then)."""
    flood = Flood(count, server.rss_kib())
    flood.peak_kib = flood.baseline_kib
    server.pause_reading()

    def write() -> None:
        try:
            for i in range(count):
                server.send({"jsonrpc": "2.0", "id": flood.first_id + i, "method": method,
                             "params": params})
                flood.sent += 1
        except (BrokenPipeError, OSError, ValueError):
            pass

    flood.writer = threading.Thread(target=write, name="flood-writer", daemon=True)
    flood.writer.start()
    last, still_since, started = -1, time.monotonic(), time.monotonic()
    while flood.writer.is_alive() and time.monotonic() - started < max_seconds:
        flood.peak_kib = max(flood.peak_kib, server.rss_kib())
        now = time.monotonic()
        if flood.sent != last:
            last, still_since = flood.sent, now
        elif now - still_since > stall_seconds:
            break
        time.sleep(0.05)
    flood.stalled = flood.writer.is_alive()
    flood.taken = flood.sent
    settled = time.monotonic() + (0.0 if flood.stalled else settle_seconds)
    while True:
        flood.peak_kib = max(flood.peak_kib, server.rss_kib())
        if time.monotonic() >= settled:
            return flood
        time.sleep(0.05)


def drain(server: WireServer, flood: Flood, timeout: float = 600.0) -> set[int]:
    """Read again until every flooded request is answered (or ``timeout``); the ids answered."""
    server.resume_reading()
    wanted = range(flood.first_id, flood.first_id + flood.count)
    deadline = time.monotonic() + timeout
    answered: set[int] = set()
    seen = 0
    while time.monotonic() < deadline:
        messages = server.messages[seen:]
        seen += len(messages)
        answered.update(m["id"] for m in messages
                        if isinstance(m.get("id"), int) and m["id"] in wanted and "method" not in m)
        if len(answered) == flood.count or not server.alive:
            break
        time.sleep(0.2)
    if flood.writer is not None:
        flood.writer.join(10)
    return answered
