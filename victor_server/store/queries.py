"""Read-side shapes shared by both backends: session rows, their paging cursor and the
analytics summary's tally."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from victor_server.analytics.ab_summary import TOKEN_KINDS, VariantTally
from victor_server.analytics.pricing import PriceTable, cost_summary, priced_model
from victor_server.api_models import AnalyticsSummary, TokenTotals


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


@dataclass
class MessageHit:
    """A stored message that full-text search found."""

    session_id: str
    seq: int
    snippet: str  # the matching text, the match in [brackets]


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

    ``summary`` is the one answer every face and the dashboard render, on both backends
    (``api_models.AnalyticsSummary``): ``events`` {type: n}, ``tokens`` (input, output, total,
    cache_read, cache_write), ``tool_calls`` {name: n}, ``sessions``, ``models`` {model:
    {input, output, cache_read, cache_write}}, ``cost`` (usd, by_model, unpriced), plus
    ``variants`` when an A/B test tagged events. Tokens are the provider's own usage numbers
    as recorded in ``token_usage`` events: ``input`` excludes the cache reads and writes,
    ``total`` is input + output, and the cost prices each kind apart.
    """

    def __init__(self) -> None:
        self.events: Counter[str] = Counter()
        self.tools: Counter[str] = Counter()
        self.tokens = dict.fromkeys(TOKEN_KINDS, 0)
        self.models: dict[str, dict[str, int]] = {}
        self.sessions: set[str] = set()
        self.variants = VariantTally()

    def add(self, event_type: str, data: dict[str, Any], sid: str | None) -> None:
        self.events[event_type] += 1
        if sid:
            self.sessions.add(sid)
        self.variants.add(event_type, data, sid)
        if event_type == "token_usage":
            used = {"input": int(data.get("input_tokens") or 0),
                    "output": int(data.get("output_tokens") or 0),
                    "cache_read": int(data.get("cache_read_tokens") or 0),
                    "cache_write": int(data.get("cache_write_tokens") or 0)}
            model = self.models.setdefault(priced_model(data), dict.fromkeys(used, 0))
            for kind, count in used.items():
                self.tokens[kind] += count
                model[kind] += count
        elif event_type == "tool_call":
            self.tools[str(data.get("name"))] += 1

    def summary(self, prices: PriceTable | None) -> AnalyticsSummary:
        tokens = self.tokens
        return AnalyticsSummary(
            events=dict(self.events),
            tokens=TokenTotals(input=tokens["input"], output=tokens["output"],
                               total=tokens["input"] + tokens["output"],
                               cache_read=tokens["cache_read"],
                               cache_write=tokens["cache_write"]),
            tool_calls=dict(self.tools), sessions=len(self.sessions), models=self.models,
            cost=cost_summary(self.models, prices),
            variants=self.variants.summary(prices) if self.variants.arms else None)
