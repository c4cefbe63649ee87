"""Selection strategies: the built-ins and the loader for user strategies (entry points).

A strategy decides which tools the model is offered. It receives what it needs as arguments
and never calls the coordinator back: ``async choose(request: SelectionRequest)`` returning
``ScoredTool``s best first, where the request carries the query, the candidate tools, their
keyword and semantic scores, ``max_tools`` and the options (``SelectionStrategy`` in
``victor_server.selection.types``). A strategy may say which scores it needs (``scores``), ask
for the query's domain (``wants_domain``) and narrow the tools before they are scored
(``candidates``).

Two older shapes keep working, through an adapter in the coordinator that hands them a scorer
for the duration of the call:

- ``async select(query, tools, scorer, max_tools)`` returning ``ScoredTool``s, where
  ``scorer`` offers ``rank(query, tools, method)``, ``keyword_scores``, ``semantic_scores`` and
  ``classify_domain``;
- victor-ai's ``async select_tools(query, available_tools, selection_coordinator)`` returning
  tools, where the coordinator offers ``_semantic_selection(query, tools)``,
  ``_keyword_selection`` and ``_hybrid_selection`` (ranked ``ToolSpec`` lists).

Built-ins and user strategies (entry-point group ``victor_server.tool_selection_strategies``)
load through the plugin registry: the entry point names a class or factory, built with its
options as keywords (``plugins.<name>``, or ``tool_selection.strategy_options.<name>``), or an
object that already has one of the methods. The built-ins take the ``tool_selection`` options
as one dict.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from victor_server.errors import InvalidParams
from victor_server.plugins import REGISTRY, PluginNotFound
from victor_server.selection.types import ScoredTool, SelectionRequest, SelectionStrategy
from victor_server.tools.base import COST_TIERS, ToolSpec

log = logging.getLogger(__name__)

GROUP = "victor_server.tool_selection_strategies"
# the methods that make an object a strategy: ours, then the two older shapes (adapted)
STRATEGY_METHODS = ("choose", "select", "select_tools")


class KeywordStrategy:
    """BM25 over name + description."""

    scores = "keyword"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = options or {}

    async def choose(self, request: SelectionRequest) -> list[ScoredTool]:
        return request.ranked(self.scores)


class SemanticStrategy(KeywordStrategy):
    """Cosine similarity of query and tool embeddings."""

    scores = "semantic"


class HybridStrategy(KeywordStrategy):
    """``hybrid_alpha`` x semantic + (1 - ``hybrid_alpha``) x keyword (the default)."""

    scores = "hybrid"

    async def choose(self, request: SelectionRequest) -> list[ScoredTool]:
        alpha = self.options.get("hybrid_alpha")
        return request.ranked("hybrid", alpha=None if alpha is None else float(alpha))


class CostAwareStrategy(HybridStrategy):
    """Drops tools above ``max_cost_tier`` (default ``low``), then ranks the rest (hybrid)."""

    def candidates(self, query: str, tools: list[ToolSpec],
                   domain: str | None) -> list[ToolSpec]:
        tier = str(self.options.get("max_cost_tier", "low"))
        if tier not in COST_TIERS:
            raise InvalidParams("tool_selection.max_cost_tier",
                                f"{tier!r} is not one of {', '.join(COST_TIERS)}")
        ceiling = COST_TIERS.index(tier)
        return [t for t in tools if _tier_rank(t.cost_tier) <= ceiling]


class DomainStrategy(HybridStrategy):
    """Classifies the query into one of the tools' domains, then ranks only that domain's tools.

    The option ``domain`` pins the domain instead of classifying."""

    @property
    def wants_domain(self) -> bool:
        return not self.options.get("domain")

    def candidates(self, query: str, tools: list[ToolSpec],
                   domain: str | None) -> list[ToolSpec]:
        domain = self.options.get("domain") or domain
        return [t for t in tools if t.domain == domain] or tools


class AllStrategy(KeywordStrategy):
    """Every tool, in the order given (selection switched off; ``max_tools`` does not apply)."""

    scores = "none"

    async def choose(self, request: SelectionRequest) -> list[ScoredTool]:
        return [ScoredTool(t, 1.0) for t in request.tools]


BUILTIN: dict[str, type[KeywordStrategy]] = {
    "keyword": KeywordStrategy, "semantic": SemanticStrategy, "hybrid": HybridStrategy,
    "cost_aware": CostAwareStrategy, "domain": DomainStrategy, "all": AllStrategy,
}


def _tier_rank(tier: str) -> int:
    # An unknown tier counts as the most expensive: a budget is never exceeded by a typo.
    return COST_TIERS.index(tier) if tier in COST_TIERS else len(COST_TIERS)


def strategy_names() -> list[str]:
    """Built-in names, then installed plugin names."""
    names = REGISTRY.names(GROUP)
    return [n for n in BUILTIN if n in names] + [n for n in names if n not in BUILTIN]


def is_strategy(obj: object) -> bool:
    return any(inspect.iscoroutinefunction(getattr(obj, m, None)) for m in STRATEGY_METHODS)


def load_strategy(name: str, options: dict[str, Any],
                  disabled: list[str] | tuple[str, ...] = ()) -> object:
    """A strategy object for ``name``, built-in or installed.

    Raises ``InvalidParams("strategy", ...)`` listing the valid names when there is none, and
    ``PluginFailed`` (recorded in the registry, logged once) when it does not import or build
    or is not a strategy."""
    try:
        strategy = REGISTRY.create(GROUP, name, options,
                                   ready=lambda t: is_strategy(t) and not inspect.isclass(t),
                                   disabled=disabled)
    except PluginNotFound as exc:
        raise InvalidParams("strategy", f"unknown tool selection strategy {name!r}; "
                                        f"valid: {', '.join(strategy_names())}") from exc
    if not is_strategy(strategy):
        raise REGISTRY.failed((GROUP, name), "construction", TypeError(
            "it has none of async choose(), select() or select_tools()"))
    return strategy


__all__ = ["BUILTIN", "GROUP", "STRATEGY_METHODS", "AllStrategy", "CostAwareStrategy",
           "DomainStrategy", "HybridStrategy", "KeywordStrategy", "SelectionStrategy",
           "SemanticStrategy", "is_strategy", "load_strategy", "strategy_names"]
