"""``task_aware``: what shares words with the current task, then the recent tail.

The task is ``metadata["task"]`` and ``metadata["keywords"]`` (from the request ``context``)
plus the current request itself (the last human message), because a task label such as
``code_review`` says little on its own. Units are ranked by the share of task terms they contain,
most related first (newest first on ties), and fill three quarters of ``target_tokens``; the
newest units fill the rest. With no task terms at all it behaves as ``recent_important``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from victor_server.context.strategies.base import KeepPlan
from victor_server.context.strategies.recent_important import RecentImportantStrategy
from victor_server.context.units import is_human
from victor_server.messages import Context

_WORD = re.compile(r"[a-z0-9]{3,}")
_STOP = frozenset(
    "the and for with that this from have are was were will would should could what when where "
    "which while into onto about please can you your our their there here them then than also "
    "just like make sure need want".split())


def terms(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


class TaskAwareStrategy:
    name = "task_aware"

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self.fallback = RecentImportantStrategy(options)

    def task_terms(self, context: Context) -> set[str]:
        keywords = context.metadata.get("keywords") or []
        text = " ".join([str(context.metadata.get("task") or "").replace("_", " "),
                         keywords if isinstance(keywords, str) else " ".join(map(str, keywords))])
        humans = [m for m in context.messages if is_human(m)]
        if humans:
            text += " " + humans[-1].text()
        return terms(text)

    async def compact(self, context: Context) -> Context:
        wanted = self.task_terms(context)
        if not wanted:
            result = await self.fallback.compact(context)
            result.metadata["note"] = "no task terms; fell back to recent_important"
            return result
        plan = KeepPlan(context)
        scored = []
        for k in range(len(plan.units)):
            overlap = len(wanted & terms(plan.unit_text(k)))
            if overlap:
                scored.append((overlap, k))
        related_budget = plan.target - plan.target // 4  # a quarter stays for the recent tail
        for _, k in sorted(scored, reverse=True):
            plan.offer(k, related_budget)
        plan.fill_recent(plan.target)
        return plan.result()
