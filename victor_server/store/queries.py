"""Read-side shapes shared by both backends: session rows, their paging cursor and the
analytics summary's tally."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from victor_server.analytics.pricing import PriceTable, cost_summary, priced_model


@dataclass
class SessionRow:
    SELECT = ("SELECT s.id, s.tenant_id, s.title, s.created_at, s.updated_at, s.input_tokens, "
              "s.output_tokens, s.total_tokens, "
              "(SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS message_count "
              "FROM sessions s")

    session_id: str
    tenant_id: str | None
    title: str | None
    created_at: float
    updated_at: float
    input_tokens: int
    output_tokens: int
    total_tokens: int
    message_count: int

    @classmethod
    def from_row(cls, row: Any) -> SessionRow:
        return cls(*row)

    def to_json(self) -> dict[str, Any]:
        return {"sessionId": self.session_id, "tenantId": self.tenant_id, "title": self.title,
                "createdAt": self.created_at, "updatedAt": self.updated_at,
                "messageCount": self.message_count,
                "usage": {"inputTokens": self.input_tokens, "outputTokens": self.output_tokens,
                          "totalTokens": self.total_tokens}}


def parse_cursor(cursor: str) -> tuple[float, str]:
    """A ``victor/session/list`` cursor: ``updated_at|id`` of the last row of the page before
    (opaque to clients, the same on every store backend)."""
    updated, _, last_id = cursor.partition("|")
    return float(updated), last_id


def page(rows: list[SessionRow], limit: int) -> tuple[list[SessionRow], str | None]:
    """The first ``limit`` of ``limit + 1`` fetched rows, and the cursor for the next page."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, f"{rows[-1].updated_at!r}|{rows[-1].session_id}"


class Tally:
    """Counts folded from events one at a time (the summary never loads a table into memory).

    ``summary`` is the one shape every face and the dashboard return, on both backends:
    ``{events: {type: n}, tokens: {input, output, total, cacheRead, cacheWrite},
    toolCalls: {name: n}, sessions: n, models: {model: {input, output, cacheRead,
    cacheWrite}}, cost: {usd, byModel, unpriced}}`` plus ``variants`` when an A/B test
    tagged events. Tokens are the provider's own usage numbers as recorded in
    ``token_usage`` events: ``input`` excludes the cache reads and writes, ``total`` is
    input + output, and the cost prices each kind apart.
    """

    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.tools: Counter[str] = Counter()
        self.tokens = {"input": 0, "output": 0, "total": 0, "cacheRead": 0, "cacheWrite": 0}
        self.models: dict[str, dict[str, int]] = {}
        self.sessions: set[str] = set()
        self.variants: dict[str, dict[str, Any]] = {}

    def add(self, event_type: str, data: dict[str, Any], sid: str | None) -> None:
        self.events[event_type] += 1
        if sid:
            self.sessions.add(sid)
        variant = data.get("variant")
        bucket: dict[str, Any] | None = None
        if variant is not None:
            bucket = self.variants.setdefault(str(variant), {
                "sessions": set(), "tokens": 0, "errors": 0, "requests": 0,
                "responses": 0, "latency_total_ms": 0.0})
            bucket["sessions"].add(sid)
        if event_type == "token_usage":
            used_in = int(data.get("input_tokens") or 0)
            used_out = int(data.get("output_tokens") or 0)
            used = {"input": used_in, "output": used_out,
                    "cacheRead": int(data.get("cache_read_tokens") or 0),
                    "cacheWrite": int(data.get("cache_write_tokens") or 0)}
            model = self.models.setdefault(priced_model(data), dict.fromkeys(used, 0))
            for kind, count in used.items():
                self.tokens[kind] += count
                model[kind] += count
            if bucket is not None:
                bucket["tokens"] += used_in + used_out
        elif event_type == "tool_call":
            self.tools[str(data.get("name"))] += 1
        elif event_type == "error" and bucket is not None:
            bucket["errors"] += 1
        elif event_type == "chat_request" and bucket is not None:
            bucket["requests"] += 1
        elif event_type == "chat_response" and bucket is not None:  # A/B latency (tenancy)
            bucket["responses"] += 1
            bucket["latency_total_ms"] += float(data.get("duration_ms") or 0.0)

    def summary(self, prices: PriceTable | None) -> dict[str, Any]:
        self.tokens["total"] = self.tokens["input"] + self.tokens["output"]
        summary: dict[str, Any] = {
            "events": dict(self.events), "tokens": self.tokens, "toolCalls": dict(self.tools),
            "sessions": len(self.sessions), "models": self.models,
            "cost": cost_summary(self.models, prices)}
        if self.variants:
            summary["variants"] = {name: _variant_json(b) for name, b in self.variants.items()}
        return summary


def _variant_json(bucket: dict[str, Any]) -> dict[str, Any]:
    """One A/B arm: sessions, tokens, errors, requests and mean turn latency (``latencyMs``)."""
    arm = {k: v for k, v in bucket.items() if k != "latency_total_ms"}
    arm["sessions"] = len(bucket["sessions"])
    responses = bucket["responses"]
    arm["latencyMs"] = round(bucket["latency_total_ms"] / responses, 1) if responses else None
    return arm
