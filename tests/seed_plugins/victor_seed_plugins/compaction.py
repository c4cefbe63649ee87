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
