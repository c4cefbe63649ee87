"""``summarize``: keep what ``recent_important`` keeps in a smaller budget, and replace the rest
with a summary written by the model.

The summarizer is an async ``(messages) -> str`` (the coordinator's, wired to the provider). The
summary goes in front as a user message starting ``[Summary of earlier conversation]``; the
coordinator's repair merges it with a following user message so roles still alternate. Any
failure (no summarizer, an exception, a timeout, an empty answer) falls back to
``recent_important`` with the whole budget, and the note says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from victor_server.context.strategies.base import KeepPlan, option
from victor_server.context.strategies.recent_important import RecentImportantStrategy
from victor_server.context.tokens import CHARS_PER_TOKEN
from victor_server.messages import Context, Message

SUMMARY_PREFIX = "[Summary of earlier conversation]"


class SummarizeStrategy:
    name = "summarize"

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self.summarizer = option(options, kwargs, "summarizer", None)
        self.summary_tokens = int(option(options, kwargs, "summary_tokens", 1024))
        self.timeout = float(option(options, kwargs, "timeout", 120.0))
        self.fallback = RecentImportantStrategy(options)

    async def compact(self, context: Context) -> Context:
        summarizer = self.summarizer or context.metadata.get("summarizer")
        if summarizer is None:
            return await self._fall_back(context, "no summarizer configured")
        plan = KeepPlan(context)
        reserve = min(self.summary_tokens, plan.target // 4)
        plan.target -= reserve
        plan.limit = max(plan.limit - reserve, plan.target)
        self.fallback.keep_important(plan)
        plan.fill_recent(plan.target)
        kept = {i for k in plan.kept for i in plan.units[k].indices()}
        dropped = [m for i, m in enumerate(plan.messages) if i not in kept and m.role != "system"]
        if not dropped:
            return plan.result()
        try:
            summary = await asyncio.wait_for(summarizer(dropped), self.timeout)
        except Exception as exc:  # includes TimeoutError; cancellation still propagates
            return await self._fall_back(context, f"summarize failed ({exc!r})")
        if not isinstance(summary, str) or not summary.strip():
            return await self._fall_back(context, "summarize failed (empty summary)")
        text = summary.strip()[: int(reserve * CHARS_PER_TOKEN)]
        message = Message("user", f"{SUMMARY_PREFIX} {text}")
        return plan.result(note=f"summarized {len(dropped)} messages", prefix=[message])

    async def _fall_back(self, context: Context, why: str) -> Context:
        result = await self.fallback.compact(context)
        result.metadata["note"] = f"{why}; fell back to recent_important"
        return result
