"""Read-side shapes and queries: session rows and the analytics summary."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiosqlite


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


class EventQueries:
    db: aiosqlite.Connection

    async def event_summary(self, session_id: str | None = None, tenant_id: str | None = None,
                            since: float | None = None, all_tenants: bool = False,
                            until: float | None = None) -> dict[str, Any]:
        """The one summary shape (SPEC section 9) every face and the dashboard return."""
        clauses, args = [], []
        if session_id is not None:
            clauses.append("session_id = ?")
            args.append(session_id)
        if not all_tenants:
            clauses.append("tenant_id IS ?")
            args.append(tenant_id)
        if since is not None:
            clauses.append("timestamp >= ?")
            args.append(since)
        if until is not None:
            clauses.append("timestamp <= ?")
            args.append(until)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        events: Counter[str] = Counter()
        tools: Counter[str] = Counter()
        tokens = {"input": 0, "output": 0, "total": 0}
        sessions: set[str] = set()
        variants: dict[str, dict[str, Any]] = {}
        async with self.db.execute(
                f"SELECT type, data, session_id FROM analytics_events{where}", args) as cursor:
            async for event_type, raw, sid in cursor:
                events[event_type] += 1
                if sid:
                    sessions.add(sid)
                data = json.loads(raw)
                variant = data.get("variant")
                if variant is not None:
                    bucket = variants.setdefault(str(variant), {"sessions": set(), "tokens": 0,
                                                                 "errors": 0, "requests": 0})
                    bucket["sessions"].add(sid)
                if event_type == "token_usage":
                    tokens["input"] += int(data.get("input_tokens", 0))
                    tokens["output"] += int(data.get("output_tokens", 0))
                    if variant is not None:
                        bucket["tokens"] += int(data.get("input_tokens", 0)) + int(
                            data.get("output_tokens", 0))
                elif event_type == "tool_call":
                    tools[str(data.get("name"))] += 1
                elif event_type == "error" and variant is not None:
                    bucket["errors"] += 1
                elif event_type == "chat_request" and variant is not None:
                    bucket["requests"] += 1
        tokens["total"] = tokens["input"] + tokens["output"]
        summary: dict[str, Any] = {"events": dict(events), "tokens": tokens,
                                   "toolCalls": dict(tools), "sessions": len(sessions)}
        if variants:
            summary["variants"] = {name: {**b, "sessions": len(b["sessions"])}
                                   for name, b in variants.items()}
        return summary
