# Example 4: the semantic and task-aware compaction strategies
import asyncio
from victor_server.protocols import Context
from victor_server.protocols import BaseCompactionStrategy

class SemanticCompactionStrategy(BaseCompactionStrategy):
    """Use semantic similarity to keep important messages."""

    def __init__(self, embedding_service):
        self.embedding_service = embedding_service

    async def compact(self, context: Context) -> Context:
        """Compaction strategy: Keep semantically diverse messages."""
        if len(context.messages) <= 10:
            return context

        # Compute embeddings for all messages
        embeddings = await self._compute_embeddings(context.messages)

        # Select diverse messages using clustering
        selected_indices = await self._select_diverse_messages(
            context.messages,
            embeddings,
            target_count=10
        )

        selected_messages = [context.messages[i] for i in selected_indices]
        return Context(messages=selected_messages)

    # the one change to a body: ``await``. The embedding service's ``embed`` is a coroutine (an
    # embedding model runs off the event loop), and the example calls it without awaiting, which
    # would make a list of never-awaited coroutines instead of vectors
    async def _compute_embeddings(self, messages):
        # Simplified: use actual embedding service in practice
        return [await self.embedding_service.embed(m.content) for m in messages]

    async def _select_diverse_messages(self, messages, embeddings, target_count):
        # Simplified: use k-means or similar in practice
        # For now, just return the last N messages
        return list(range(-target_count, 0))

class TaskAwareCompactionStrategy(BaseCompactionStrategy):
    """Keep messages relevant to the current task."""

    async def compact(self, context: Context) -> Context:
        """Compaction strategy: Keep task-relevant messages."""
        current_task = context.metadata.get("current_task")

        if not current_task:
            # No task identified, use default strategy
            return await self._default_compaction(context)

        # Keep task-relevant messages
        relevant_messages = [
            m for m in context.messages
            if self._is_relevant_to_task(m, current_task)
        ]

        # Always keep system messages
        system_messages = [m for m in context.messages if m.role == "system"]

        return Context(messages=system_messages + relevant_messages)

    def _is_relevant_to_task(self, message, task):
        """Check if message is relevant to the current task."""
        # Simplified: use keyword matching
        # In practice, use semantic similarity
        task_keywords = task.lower().split()
        message_content = message.content.lower()
        return any(keyword in message_content for keyword in task_keywords)

    async def _default_compaction(self, context):
        """Fallback to recent messages strategy."""
        if len(context.messages) <= 10:
            return context
        return Context(messages=context.messages[-10:])
