# tool_selection.py (recipe 8): the domain-specific strategy. Its domain_classifier is configured
# as a mapping of domain -> words and arrives as an object with ``async classify(query)``.
from typing import List
from victor_server.protocols import IToolSelectionStrategy, Tool
from victor_server.protocols import IToolSelectionCoordinator

class DomainSpecificToolSelectionStrategy(IToolSelectionStrategy):
    """Select tools based on domain classification."""

    def __init__(self, domain_classifier):
        self.domain_classifier = domain_classifier

        self.domain_tool_mapping = {
            "coding": ["read", "write", "search", "bash"],
            "data_analysis": ["pandas_query", "visualization", "statistics"],
            "web": ["web_search", "web_scrape", "browse"],
        }

    async def select_tools(
        self,
        query: str,
        available_tools: List[Tool],
        selection_coordinator: IToolSelectionCoordinator
    ) -> List[Tool]:
        """Select tools based on domain."""
        # Classify query domain
        domain = await self.domain_classifier.classify(query)

        # Get allowed tools for domain
        allowed_tool_names = self.domain_tool_mapping.get(domain, [])

        # Filter available tools
        domain_tools = [
            tool for tool in available_tools
            if tool.name in allowed_tool_names
        ]

        return domain_tools
