"""Built-in compaction strategies, by the names config uses.

The plugin registry lists these under the same names (``victor_server.plugins``), beside user
strategies from the ``victor_server.compaction_strategies`` entry-point group.
"""

from __future__ import annotations

from victor_server.context.strategies.base import (
    BaseCompactionStrategy,
    CompactionStrategy,
    EmbeddingService,
    KeepPlan,
)
from victor_server.context.strategies.recent import RecentStrategy
from victor_server.context.strategies.recent_important import RecentImportantStrategy
from victor_server.context.strategies.semantic import SemanticStrategy
from victor_server.context.strategies.summarize import SummarizeStrategy
from victor_server.context.strategies.task_aware import TaskAwareStrategy

BUILTIN_STRATEGIES: dict[str, type] = {
    "recent": RecentStrategy,
    "recent_important": RecentImportantStrategy,
    "semantic": SemanticStrategy,
    "task_aware": TaskAwareStrategy,
    "summarize": SummarizeStrategy,
}

__all__ = [
    "BUILTIN_STRATEGIES", "BaseCompactionStrategy", "CompactionStrategy", "EmbeddingService",
    "KeepPlan", "RecentImportantStrategy",
    "RecentStrategy", "SemanticStrategy", "SummarizeStrategy", "TaskAwareStrategy",
]
