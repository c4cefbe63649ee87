"""``victor-server analytics export``: stored events as CSV or JSON, and time-range parsing.

CSV has one row an event with fixed columns (``id, timestamp, time, type, session_id,
tenant_id, data``); ``data`` stays a JSON string, because event payloads differ by type and a
spreadsheet user filters on ``type`` first. JSON is an array of events in their
published shape, the same
objects the webhook exporter posts, so one consumer can read both.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from victor_server.analytics.events import AnalyticsEvent

CSV_COLUMNS = ("id", "timestamp", "time", "type", "session_id", "tenant_id", "data")
_AGE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_time(text: str, now: float | None = None) -> float:
    """Epoch seconds from ``1735689600``, ``2025-01-01``, ``2025-01-01T12:00`` or an age
    (``90m``, ``24h``, ``7d`` ago). Naive dates are UTC. Raises ValueError with the reason."""
    text = text.strip()
    now = time.time() if now is None else now
    age = _AGE.match(text)
    if age:
        return now - float(age.group(1)) * _UNIT[age.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not epoch seconds, an ISO date or an age like 24h") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def write_json(events: Iterable[AnalyticsEvent], out: TextIO) -> int:
    rows = [e.to_json() for e in events]
    json.dump(rows, out, indent=2)
    out.write("\n")
    return len(rows)


def write_csv(events: Iterable[AnalyticsEvent], out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for e in events:
        stamp = datetime.fromtimestamp(e.timestamp, UTC).isoformat(timespec="milliseconds")
        writer.writerow((e.id, f"{e.timestamp:.6f}", stamp, e.type, e.session_id or "",
                         e.tenant_id or "", json.dumps(e.data, separators=(",", ":"))))
        count += 1
    return count
