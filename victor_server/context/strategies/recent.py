"""``recent``: the newest messages that fit the target (or the last ``keep_last_n``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from victor_server.context.strategies.base import KeepPlan, option
from victor_server.messages import Context


class RecentStrategy:
    name = "recent"

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        keep = option(options, kwargs, "keep_last_n", None)
        self.keep_last_n: int | None = int(keep) if keep is not None else None

    async def compact(self, context: Context) -> Context:
        plan = KeepPlan(context)
        if self.keep_last_n is None:
            plan.fill_recent(plan.target)
            return plan.result()
        first = max(len(plan.messages) - self.keep_last_n, 0)
        for k, unit in enumerate(plan.units):
            if unit.end > first:
                plan.force(k)
        return plan.result()
