"""The analytics event (SPEC section 9): ``{id, session_id, tenant_id, type, data, timestamp}``.

The ``id`` is a UUID minted when the event is recorded, so a sink that receives a batch twice
(a retried webhook, a dead-letter replay) can drop the duplicate. It is a time-ordered UUIDv7
(RFC 9562: 48-bit milliseconds, then random bits), not a random UUIDv4: the store's primary-key
index then grows at its end instead of at random pages, which triples the sustained insert rate
once the table outgrows SQLite's page cache (bench/bench_analytics.py).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

EVENT_TYPES = ("session_start", "chat_request", "token_usage", "tool_call", "tool_selection",
               "compaction", "error", "ab_assignment",
               "chat_response")  # a turn's end: stop_reason, duration_ms (A/B latency)


def new_event_id() -> str:
    """A UUIDv7 as 32 hex digits."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return f"{value:032x}"


@dataclass
class AnalyticsEvent:
    type: str
    session_id: str | None = None
    tenant_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_event_id)
    timestamp: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    # the seed's exporters call ``model_dump()`` on events
    model_dump = to_json

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalyticsEvent:
        return cls(type=data["type"], session_id=data.get("session_id"),
                   tenant_id=data.get("tenant_id"), data=dict(data.get("data") or {}),
                   id=data["id"], timestamp=float(data["timestamp"]))
