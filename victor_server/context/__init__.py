"""Context management: token accounting and compaction.

``ContextCoordinator`` is the one entry point the orchestrator uses; strategies live in
``strategies/``, the rules every compaction keeps in ``invariants``/``units``, counting in
``tokens``. Heavy imports (numpy, tiktoken) happen inside functions only.
"""

from victor_server.context.coordinator import CompactionResult, ContextCoordinator, ContextView
from victor_server.context.strategies import BUILTIN_STRATEGIES, CompactionStrategy
from victor_server.context.tokens import TokenCounter, estimate_tokens

__all__ = [
    "BUILTIN_STRATEGIES", "CompactionResult", "CompactionStrategy", "ContextCoordinator",
    "ContextView", "TokenCounter", "estimate_tokens",
]
