# compaction_strategies.py (recipe 4): semantic compaction by k-means over the messages'
# embeddings (scikit-learn). embedding_service is the server's embedding model, given to a
# constructor parameter of that name.
from typing import List
from victor_server.protocols import Context
from victor_server.protocols import BaseCompactionStrategy

class SemanticCompactionStrategy(BaseCompactionStrategy):
    """Use semantic similarity to preserve important messages."""

    def __init__(self, embedding_service, target_ratio: float = 0.5):
        """
        Args:
            embedding_service: Service for computing embeddings
            target_ratio: Target size ratio (0.5 = keep 50% of messages)
        """
        self.embedding_service = embedding_service
        self.target_ratio = target_ratio

    async def compact(self, context: Context) -> Context:
        """Compaction using semantic clustering."""
        messages = context.messages

        if len(messages) <= 10:
            return context  # No compaction needed

        # Always keep system messages
        system_messages = [m for m in messages if m.role == "system"]
        user_assistant_messages = [m for m in messages if m.role != "system"]

        # Calculate target count
        target_count = max(
            10,  # Keep at least 10 messages
            int(len(user_assistant_messages) * self.target_ratio)
        )

        # Compute embeddings
        embeddings = await self._compute_embeddings(user_assistant_messages)

        # Select diverse messages
        selected_indices = await self._select_diverse_messages(
            embeddings,
            target_count
        )

        selected_messages = [user_assistant_messages[i] for i in selected_indices]

        # Combine system + selected messages
        return Context(messages=system_messages + selected_messages)

    async def _compute_embeddings(self, messages: List) -> List[List[float]]:
        """Compute embeddings for messages."""
        texts = [m.content for m in messages]
        return await self.embedding_service.embed_batch(texts)

    async def _select_diverse_messages(
        self,
        embeddings: List[List[float]],
        target_count: int
    ) -> List[int]:
        """Select diverse messages using k-means clustering."""
        from sklearn.cluster import KMeans
        import numpy as np

        # Convert to numpy array
        embedding_array = np.array(embeddings)

        # Perform k-means clustering
        n_clusters = min(target_count, len(embeddings))
        kmeans = KMeans(n_clusters=n_clusters, random_state=42)
        labels = kmeans.fit_predict(embedding_array)

        # Select message closest to centroid for each cluster
        selected_indices = []
        for cluster_id in range(n_clusters):
            cluster_mask = labels == cluster_id
            cluster_embeddings = embedding_array[cluster_mask]

            # Find closest to centroid
            centroid = kmeans.cluster_centers_[cluster_id]
            distances = np.linalg.norm(cluster_embeddings - centroid, axis=1)
            closest_idx = np.argmin(distances)

            # Map back to original indices
            cluster_indices = np.where(cluster_mask)[0]
            selected_indices.append(cluster_indices[closest_idx])

        return sorted(selected_indices)
