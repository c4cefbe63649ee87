"""The analytics event (SPEC section 9): ``{id, session_id, tenant_id, type, data, timestamp}``.

The ``id`` is a UUID minted when the event is recorded, so a sink that receives a batch twice
(a retried webhook, a dead-letter replay) can drop the duplicate.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

EVENT_TYPES = ("session_start", "chat_request", "token_usage", "tool_call", "tool_selection",
               "compaction", "error", "ab_assignment",
               "chat_response")  # a turn's end: stop_reason, duration_ms (A/B latency)


@dataclass
class AnalyticsEvent:
    type: str
    session_id: str | None = None
    tenant_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
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
