"""``recent_important`` (the default): pinned, then keyword-important, then recent.

Important messages are those whose text matches a keyword at a word start (default: error, bug,
fix, important, must). They are kept newest first up to ``limit_tokens`` (the coordinator puts
that just under the compaction threshold), so they survive even when they are old; ordinary
messages then fill the newest end up to ``target_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from victor_server.context.strategies.base import (
    DEFAULT_KEYWORDS,
    KeepPlan,
    keyword_pattern,
    option,
)
from victor_server.messages import Context


class RecentImportantStrategy:
    name = "recent_important"

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self.keywords = tuple(option(options, kwargs, "keywords", DEFAULT_KEYWORDS))
        self._pattern = keyword_pattern(self.keywords)

    def important_units(self, plan: KeepPlan) -> list[int]:
        return [k for k in range(len(plan.units)) if self._pattern.search(plan.unit_text(k))]

    async def compact(self, context: Context) -> Context:
        plan = KeepPlan(context)
        self.keep_important(plan)
        plan.fill_recent(plan.target)
        return plan.result()

    def keep_important(self, plan: KeepPlan) -> None:
        for k in reversed(self.important_units(plan)):
            plan.offer(k, plan.limit)  # skip one that does not fit; an older, smaller one may
