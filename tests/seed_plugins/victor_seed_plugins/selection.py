# tool_selection.py (recipe 8)
from typing import List
from victor_server.protocols import IToolSelectionStrategy, Tool
from victor_server.protocols import IToolSelectionCoordinator

class CostAwareToolSelectionStrategy(IToolSelectionStrategy):
    """Select tools based on cost constraints."""

    def __init__(self, max_cost_per_call: float = 0.01):
        self.max_cost_per_call = max_cost_per_call

    async def select_tools(
        self,
        query: str,
        available_tools: List[Tool],
        selection_coordinator: IToolSelectionCoordinator
    ) -> List[Tool]:
        """Select tools within cost budget."""
        # Filter tools by cost
        affordable_tools = [
            tool for tool in available_tools
            if tool.cost_tier in ["free", "low"]
        ]

        # Use semantic selection on affordable tools
        return await selection_coordinator._semantic_selection(
            query,
            affordable_tools
        )
