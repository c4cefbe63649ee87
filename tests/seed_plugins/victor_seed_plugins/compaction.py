# Example 4: custom compaction strategy
import asyncio
from victor_server.protocols import Context
from victor_server.protocols import BaseCompactionStrategy

class RecentMessagesCompactionStrategy(BaseCompactionStrategy):
    """Keep only the most recent N messages."""

    def __init__(self, keep_last_n: int = 10):
        self.keep_last_n = keep_last_n

    async def compact(self, context: Context) -> Context:
        """Compaction strategy: Keep only recent messages."""
        if len(context.messages) <= self.keep_last_n:
            return context  # No compaction needed

        # Keep system messages + recent messages
        system_messages = [m for m in context.messages if m.role == "system"]
        recent_messages = context.messages[-self.keep_last_n:]

        return Context(messages=system_messages + recent_messages)


# compaction_strategies.py (recipe 4)
from typing import List

class RecentImportantCompactionStrategy(BaseCompactionStrategy):
    """Keep recent messages and important keywords."""

    def __init__(self, keep_last_n: int = 10, keywords: List[str] = None):
        self.keep_last_n = keep_last_n
        self.keywords = keywords or ["error", "bug", "issue", "fix", "important"]

    async def compact(self, context: Context) -> Context:
        """Keep recent messages + keyword matches."""
        messages = context.messages

        if len(messages) <= self.keep_last_n:
            return context

        # Always keep system messages
        system_messages = [m for m in messages if m.role == "system"]
        user_assistant_messages = [m for m in messages if m.role != "system"]

        # Keep messages with keywords
        keyword_messages = [
            m for m in user_assistant_messages
            if any(kw in m.content.lower() for kw in self.keywords)
        ]

        # Keep recent messages
        recent_messages = user_assistant_messages[-self.keep_last_n:]

        # Combine and deduplicate
        all_messages = keyword_messages + recent_messages
        unique_messages = list({id(m): m for m in all_messages}.values())

        # Sort by original order
        message_order = {m: i for i, m in enumerate(user_assistant_messages)}
        unique_messages.sort(key=lambda m: message_order.get(m, float('inf')))

        return Context(messages=system_messages + unique_messages)
