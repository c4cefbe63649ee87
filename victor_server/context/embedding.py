"""Embeddings and k-means for the ``semantic`` strategy, numpy only and imported lazily.

The real embedder is injected (``ContextCoordinator(embedder=...)``: an async
``(texts) -> ndarray`` of shape ``(n, d)``); ``shared_embedder`` adapts the tool-selection
module's all-MiniLM embedder when that module provides one, so the process loads one model.
``HashingEmbedder`` is a deterministic lexical stand-in (word and bigram feature hashing): no model
file, no download, used by the benchmark and the tests to exercise clustering. It measures word
overlap, not meaning, so it is never picked silently: with no embedder the ``semantic`` strategy
falls back to ``recent_important`` and says so.

``kmeans`` is a small Lloyd's k-means with k-means++ seeding (sklearn would be a heavy
dependency for ~30 lines); the seed is fixed so compaction is reproducible.
"""

from __future__ import annotations

import itertools
import logging
import re
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Embedder = Callable[[list[str]], Awaitable[Any]]
_WORD = re.compile(r"[a-z0-9_]{2,}")


class HashingEmbedder:
    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    async def __call__(self, texts: list[str]) -> Any:
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower()[:4000])
            for feature in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
                h = zlib.crc32(feature.encode())
                out[row, h % self.dim] += 1.0 if h & 0x80000000 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)


def shared_embedder() -> Embedder | None:
    """An async adapter over the selection module's process-wide MiniLM embedder, or None when
    that module is absent. The model loads on the first call, in a worker thread; if it cannot
    load, the call raises and ``semantic`` falls back with a note."""
    try:
        from victor_server.selection import embedding as selection_embedding
    except ImportError:
        return None
    load = getattr(selection_embedding, "shared_default_embedder", None)
    if load is None:
        return None

    async def embed(texts: list[str]) -> Any:
        import asyncio

        model = await asyncio.to_thread(load)
        return await asyncio.to_thread(model.encode, texts)

    return embed


def kmeans(vectors: Any, k: int, iterations: int = 12, seed: int = 7) -> tuple[Any, Any]:
    """(labels, centroids) of k-means over the rows of ``vectors``."""
    import numpy as np

    x = np.asarray(vectors, dtype=np.float32)
    n = len(x)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centroids = np.empty((k, x.shape[1]), dtype=np.float32)
    centroids[0] = x[rng.integers(n)]
    nearest = ((x - centroids[0]) ** 2).sum(axis=1)
    for c in range(1, k):  # k-means++: far points are likelier seeds
        total = float(nearest.sum())
        pick = int(rng.choice(n, p=nearest / total)) if total > 0 else int(rng.integers(n))
        centroids[c] = x[pick]
        nearest = np.minimum(nearest, ((x - centroids[c]) ** 2).sum(axis=1))
    sq = (x ** 2).sum(axis=1)[:, None]
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(iterations):
        distances = sq - 2 * x @ centroids.T + (centroids ** 2).sum(axis=1)[None, :]
        new_labels = distances.argmin(axis=1)
        if _ > 0 and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        for c in range(k):
            members = x[labels == c]
            if len(members):
                centroids[c] = members.mean(axis=0)
    return labels, centroids
