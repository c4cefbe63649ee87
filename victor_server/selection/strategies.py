"""Selection strategies: the built-ins and the loader for user strategies (entry points).

A strategy decides which tools the model is offered. Two shapes are accepted:

- ours, ``SelectionStrategy``: ``async select(query, tools, scorer, max_tools)`` returning
  ``ScoredTool``s, where ``scorer`` (the coordinator) offers ``rank(query, tools, method)``,
  ``keyword_scores``, ``semantic_scores`` and ``classify_domain``;
- victor-ai's: ``async select_tools(query, available_tools, selection_coordinator)``
  returning tools, where the coordinator offers ``_semantic_selection(query, tools)`` and
  ``_keyword_selection(query, tools)`` (ranked ``ToolSpec`` lists).

Built-ins and user strategies (entry-point group ``victor_server.tool_selection_strategies``)
load through the plugin registry: the entry point names a class or factory, built with its
options as keywords (``plugins.<name>``, or ``tool_selection.strategy_options.<name>``), or an
object that already has one of the two methods. The built-ins take the ``tool_selection``
options as one dict.
"""

from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any, Protocol

from victor_server.errors import InvalidParams
from victor_server.plugins import REGISTRY, PluginNotFound
from victor_server.tools.base import COST_TIERS, ToolSpec

if TYPE_CHECKING:
    from victor_server.selection.coordinator import ScoredTool, ToolSelectionCoordinator

log = logging.getLogger(__name__)

GROUP = "victor_server.tool_selection_strategies"


class SelectionStrategy(Protocol):
    async def select(self, query: str, tools: list[ToolSpec], scorer: ToolSelectionCoordinator,
                     max_tools: int) -> list[ScoredTool]: ...


class KeywordStrategy:
    """BM25 over name + description."""

    method = "keyword"

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        self.options = options or {}

    async def select(self, query: str, tools: list[ToolSpec], scorer: ToolSelectionCoordinator,
                     max_tools: int) -> list[ScoredTool]:
        return await scorer.rank(query, tools, self.method, max_tools=max_tools)


class SemanticStrategy(KeywordStrategy):
    """Cosine similarity of query and tool embeddings."""

    method = "semantic"


class HybridStrategy(KeywordStrategy):
    """``hybrid_alpha`` x semantic + (1 - ``hybrid_alpha``) x keyword (the default)."""

    method = "hybrid"

    async def select(self, query: str, tools: list[ToolSpec], scorer: ToolSelectionCoordinator,
                     max_tools: int) -> list[ScoredTool]:
        alpha = self.options.get("hybrid_alpha")
        return await scorer.rank(query, tools, "hybrid", max_tools=max_tools,
                                 alpha=None if alpha is None else float(alpha))


class CostAwareStrategy(HybridStrategy):
    """Drops tools above ``max_cost_tier`` (default ``low``), then ranks the rest (hybrid)."""

    async def select(self, query: str, tools: list[ToolSpec], scorer: ToolSelectionCoordinator,
                     max_tools: int) -> list[ScoredTool]:
        tier = str(self.options.get("max_cost_tier", "low"))
        if tier not in COST_TIERS:
            raise InvalidParams("tool_selection.max_cost_tier",
                                f"{tier!r} is not one of {', '.join(COST_TIERS)}")
        ceiling = COST_TIERS.index(tier)
        affordable = [t for t in tools if _tier_rank(t.cost_tier) <= ceiling]
        return await super().select(query, affordable, scorer, max_tools)


class DomainStrategy(HybridStrategy):
    """Classifies the query into one of the tools' domains, then ranks only that domain's tools.

    The option ``domain`` pins the domain instead of classifying."""

    async def select(self, query: str, tools: list[ToolSpec], scorer: ToolSelectionCoordinator,
                     max_tools: int) -> list[ScoredTool]:
        domain = self.options.get("domain") or await scorer.classify_domain(query, tools)
        in_domain = [t for t in tools if t.domain == domain]
        return await super().select(query, in_domain or tools, scorer, max_tools)


class AllStrategy(KeywordStrategy):
    """Every tool, in the order given (selection switched off; ``max_tools`` does not apply)."""

    async def select(self, query: str, tools: list[ToolSpec], scorer: ToolSelectionCoordinator,
                     max_tools: int) -> list[ScoredTool]:
        from victor_server.selection.coordinator import ScoredTool

        return [ScoredTool(t, 1.0) for t in tools]


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
    return any(inspect.iscoroutinefunction(getattr(obj, m, None))
               for m in ("select", "select_tools"))


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
            "it has neither async select() nor async select_tools()"))
    return strategy
