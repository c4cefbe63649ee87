"""The analytics event: ``{id, session_id, tenant_id, type, data, timestamp}``.

Inside the server ``timestamp`` is epoch seconds (the store indexes and partitions on it). What
leaves the server (webhook and WebSocket batches, JSONL lines, installed exporters, dead
letters) is the published shape, ``published()`` / ``to_json()``, whose JSON Schema ships as
``victor_server/analytics/event.schema.json`` (docs/analytics.md): ``timestamp`` is an ISO 8601
date-time (UTC) a consumer can use as a date (on the object, a UTC ``datetime``), ``epoch``
keeps the seconds, ``tenant`` and ``variant`` are top-level, and ``data`` gains
``total_tokens`` on ``token_usage`` and ``tool`` (the tool's name, also under ``name``) on
``tool_call``. Fields are only ever added.

The ``id`` is a UUID minted when the event is recorded, so a sink that receives a batch twice
(a retried webhook, a dead-letter replay) can drop the duplicate. It is a time-ordered UUIDv7
(RFC 9562: 48-bit milliseconds, then random bits), not a random UUIDv4: the store's primary-key
index then grows at its end instead of at random pages, which triples the sustained insert rate
once the table outgrows SQLite's page cache (bench/bench_analytics.py).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
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

    def published(self) -> PublishedEvent:
        data = dict(self.data)
        if self.type == "token_usage" and "total_tokens" not in data:
            data["total_tokens"] = int(data.get("input_tokens") or 0) + \
                int(data.get("output_tokens") or 0)
        if self.type == "tool_call" and "tool" not in data and "name" in data:
            data["tool"] = data["name"]
        when = datetime.fromtimestamp(self.timestamp, UTC).replace(tzinfo=None)
        return PublishedEvent(self.id, self.type, self.session_id, self.tenant_id,
                              self.tenant_id, data.get("variant"), data, when, self.timestamp)

    def to_json(self) -> dict[str, Any]:
        return self.published().model_dump()

    # victor-ai's exporters call ``model_dump()`` on events
    model_dump = to_json

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnalyticsEvent:
        """From the published shape, or the older one whose ``timestamp`` was epoch seconds."""
        epoch = data.get("epoch")
        if epoch is None:
            epoch = data["timestamp"]
        return cls(type=data["type"], session_id=data.get("session_id"),
                   tenant_id=data.get("tenant_id"), data=dict(data.get("data") or {}),
                   id=data["id"], timestamp=float(epoch))


@dataclass
class PublishedEvent:
    """An event as consumers outside the server see it (the attributes of victor-ai's
    ``AnalyticsEvent``)."""

    id: str
    type: str
    session_id: str | None
    tenant_id: str | None
    tenant: str | None
    variant: str | None
    data: dict[str, Any]
    # UTC, without tzinfo: what a PostgreSQL TIMESTAMP column takes through asyncpg (an aware
    # datetime is refused there); ``model_dump()`` gives it as ISO 8601 ending in Z
    timestamp: datetime
    epoch: float  # the same instant in seconds since 1970

    def model_dump(self) -> dict[str, Any]:
        iso = self.timestamp.isoformat(timespec="microseconds") + "Z"
        return {"id": self.id, "type": self.type, "session_id": self.session_id,
                "tenant_id": self.tenant_id, "tenant": self.tenant, "variant": self.variant,
                "data": dict(self.data), "timestamp": iso, "epoch": self.epoch}

    to_json = model_dump
