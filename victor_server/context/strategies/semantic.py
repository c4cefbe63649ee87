"""``semantic``: one representative per cluster of similar messages, then the recent tail.

Units outside the protected set are embedded and clustered with k-means; k is how many units of
average size fit in half the remaining budget, at most ``max_clusters`` (128: k-means time grows
with k, and past that the clusters of a coding session are near-duplicates anyway). Each cluster
keeps the unit nearest its centroid, biggest clusters first, so every distinct subject of the
conversation keeps one voice; the other half of the budget goes to the newest units. Without an
embedder (or when embedding fails) the strategy is ``recent_important`` and the note says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from victor_server.context.embedding import kmeans
from victor_server.context.strategies.base import KeepPlan, option
from victor_server.context.strategies.recent_important import RecentImportantStrategy
from victor_server.messages import Context


class SemanticStrategy:
    name = "semantic"

    def __init__(self, options: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        self.embedder = option(options, kwargs, "embedder", None)
        self.max_clusters = int(option(options, kwargs, "max_clusters", 128))
        self.fallback = RecentImportantStrategy(options)
        self._vectors: dict[str, Any] = {}

    async def compact(self, context: Context) -> Context:
        embedder = self.embedder or context.metadata.get("embedder")
        if embedder is None:
            return await self._fall_back(context, "embeddings unavailable")
        plan = KeepPlan(context)
        candidates = [k for k in range(len(plan.units)) if k not in plan.kept]
        if not candidates:
            return plan.result()
        try:
            vectors = await self._embed(embedder, [plan.unit_text(k)[:2000] for k in candidates])
        except Exception as exc:  # a broken model must not break the turn
            return await self._fall_back(context, f"embedding failed ({exc})")
        self._keep_representatives(plan, candidates, vectors)
        plan.fill_recent(plan.target)
        return plan.result()

    async def _embed(self, embedder: Any, texts: list[str]) -> Any:
        """Embed only texts not seen before: old messages do not change between compactions,
        and a real model costs tens of milliseconds per text on a small machine."""
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            if len(self._vectors) + len(missing) > 50_000:
                self._vectors.clear()
            fresh = np.asarray(await embedder(missing), dtype=np.float32)
            self._vectors.update(zip(missing, fresh, strict=True))
        return np.stack([self._vectors[t] for t in texts])

    def _keep_representatives(self, plan: KeepPlan, candidates: list[int], vectors: Any) -> None:
        import numpy as np

        room = max(plan.target - plan.tokens, 0) // 2
        mean = max(sum(plan.unit_tokens[k] for k in candidates) / len(candidates), 1.0)
        k = min(len(candidates), self.max_clusters, max(1, int(room / mean)))
        labels, centroids = kmeans(vectors, k)
        x = np.asarray(vectors, dtype=np.float32)
        budget = plan.tokens + room
        for cluster in np.argsort(-np.bincount(labels, minlength=len(centroids))):
            members = np.flatnonzero(labels == cluster)
            if len(members):
                best = members[np.argmin(((x[members] - centroids[cluster]) ** 2).sum(axis=1))]
                plan.offer(candidates[int(best)], budget)

    async def _fall_back(self, context: Context, why: str) -> Context:
        result = await self.fallback.compact(context)
        result.metadata["note"] = f"{why}; fell back to recent_important"
        return result
