"""The data tool selection passes around: a leaf module (it imports no other selection module).

A strategy gets a ``SelectionRequest``: the query, the candidate tools, the scores the
coordinator computed for them (BM25 as a fraction of the best possible, and the embedding
cosines when the model is ready) and its options. It returns ``ScoredTool``s best first; it
never calls the coordinator back. ``SelectionRequest.ranked`` blends the scores the way the
built-in strategies do.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from victor_server.tools.base import ToolSpec

# The scores a strategy asks the coordinator for (its ``scores`` attribute): "keyword" never
# loads the embedding model, "none" computes nothing (every score 0.0).
SCORE_KINDS = ("keyword", "semantic", "hybrid", "none")


@dataclass
class ScoredTool:
    spec: ToolSpec
    score: float


@dataclass
class SelectionResult:
    strategy: str
    tools: list[ScoredTool] = field(default_factory=list)
    # "keyword" when the embedding model is unavailable, "keyword (model loading)" while the
    # model loads or the tools are being embedded in the background.
    fallback: str | None = None


@dataclass(frozen=True)
class SelectionRequest:
    """One selection, with everything a strategy needs to rank.

    ``keyword[i]`` and ``semantic[i]`` score ``tools[i]``; ``semantic`` is None when no
    embedding model is ready (the result's ``fallback`` then says why) or when the strategy
    asked for keyword scores only. ``alpha`` is ``tool_selection.hybrid_alpha``."""

    query: str
    tools: list[ToolSpec]
    max_tools: int
    keyword: list[float]
    semantic: Any = None  # a float32 vector (numpy) with one cosine per tool, or None
    alpha: float = 0.6
    options: Mapping[str, Any] = field(default_factory=dict)
    domain: str | None = None  # the query's domain, when the strategy asked for it

    def ranked(self, method: str = "hybrid", alpha: float | None = None,
               max_tools: int | None = None) -> list[ScoredTool]:
        """The tools best first by ``method`` (keyword, semantic or hybrid); ties keep order.
        Without semantic scores every method ranks by keyword."""
        return rank_scores(self.tools, self.keyword,
                           None if method == "keyword" else self.semantic, method,
                           self.alpha if alpha is None else alpha,
                           self.max_tools if max_tools is None else max_tools)


def rank_scores(tools: list[ToolSpec], keyword: list[float], semantic: Any, method: str,
                alpha: float, max_tools: int | None) -> list[ScoredTool]:
    """``tools`` best first: by ``keyword`` when ``semantic`` is None, else by ``semantic``
    (method "semantic") or ``alpha * semantic + (1 - alpha) * keyword`` (hybrid)."""
    if not tools:
        return []
    count = len(tools) if max_tools is None else min(max_tools, len(tools))
    if semantic is None:  # pure Python: the keyword path never imports numpy
        best = heapq.nlargest(count, range(len(tools)), key=keyword.__getitem__)
        return [ScoredTool(tools[i], round(keyword[i], 6)) for i in best]
    import numpy as np

    blended = semantic
    if method != "semantic":
        blended = alpha * semantic + (1 - alpha) * np.asarray(keyword, dtype=np.float32)
    order = np.argsort(-blended, kind="stable")[:count].tolist()
    values = blended[order].tolist()
    return [ScoredTool(tools[i], round(v, 6)) for i, v in zip(order, values, strict=True)]


class SelectionStrategy(Protocol):
    """A tool selection strategy: ``async choose(request) -> list[ScoredTool]``, best first.

    Optional members the coordinator reads: ``scores`` (one of ``SCORE_KINDS``, default
    "hybrid": which scores the request carries), ``wants_domain`` (True: the request's
    ``domain`` is the query's classified domain) and ``candidates(query, tools, domain)`` (the
    tools to score, e.g. a cost or domain filter; default all of them). The two older shapes,
    ``select(query, tools, scorer, max_tools)`` and victor-ai's ``select_tools(query,
    available_tools, selection_coordinator)``, still work through an adapter."""

    async def choose(self, request: SelectionRequest) -> list[ScoredTool]: ...
