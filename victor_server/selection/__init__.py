"""Tool selection: which tools the model is offered for a query.

``ToolSelectionCoordinator.select(query, tools, max_tools, strategy)`` ranks tools with a strategy
(``keyword``, ``semantic``, ``hybrid`` (default), ``cost_aware``, ``domain``, ``all``, or a plugin
from the entry-point group ``victor_server.tool_selection_strategies``). Nothing here imports numpy
until a semantic ranking is first needed. Design notes: docs/selection.md.
"""

from victor_server.selection.coordinator import ToolSelectionCoordinator
from victor_server.selection.embedding import EmbeddingCache, EmbeddingService
from victor_server.selection.strategies import GROUP, strategy_names
from victor_server.selection.types import (
    ScoredTool,
    SelectionRequest,
    SelectionResult,
    SelectionStrategy,
)

__all__ = [
    "GROUP", "EmbeddingCache", "EmbeddingService", "ScoredTool", "SelectionRequest",
    "SelectionResult", "SelectionStrategy", "ToolSelectionCoordinator", "strategy_names",
]
