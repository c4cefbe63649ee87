"""Tool and query embeddings: the model behind a lock, and a two-level cache for tool vectors.

Tool vectors are keyed by a hash of the text embedded (a tool's name and description), so a
tool whose description changes is re-embedded and one that does not is never embedded twice:
first from an in-process dictionary, then from the store (``EmbeddingCache``, the
``tool_embeddings`` table), and only then by running the model. A restart with the same store
therefore embeds nothing.

The model loads on first use, in a worker thread (``asyncio.to_thread``), as does every batch of
embedding work, so the event loop never waits on numpy. If the model cannot load, ``available``
becomes False, one warning is logged, and callers rank by keyword instead.

Query vectors are kept in a small LRU (``_QUERIES_KEPT``): a retried turn, the ``domain``
strategy (classify, then rank) and ``victor/selectTools`` followed by the turn itself embed the
same text once.

numpy is imported only inside functions: the server's startup path imports this module.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]

log = logging.getLogger(__name__)

_QUERIES_KEPT = 256


@runtime_checkable
class EmbeddingCache(Protocol):
    """Where tool embeddings persist (the store implements it: table ``tool_embeddings``)."""

    async def get_embeddings(self, model: str, keys: list[str]) -> dict[str, bytes]: ...

    async def put_embeddings(self, model: str, items: dict[str, bytes]) -> None: ...


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows (so a dot product is a cosine)."""

    name: str
    dimension: int

    def encode(self, texts: list[str]) -> Matrix: ...


def _encode_query(embedder: Embedder, text: str) -> Matrix:
    """The embedder's query path when it has one (the int8 graph), else ``encode``."""
    encode_query = getattr(embedder, "encode_query", None)
    if encode_query is not None:
        row: Matrix = encode_query(text)
        return row
    first: Matrix = embedder.encode([text])[0]
    return first


SEMANTIC_EXTRA_HINT = "install the semantic extra: pip install -e '.[semantic]'"


def _load_default() -> Embedder:
    try:
        from victor_server.selection.minilm import load_minilm
    except ImportError as exc:  # numpy, which the minimal install leaves out
        raise ImportError(f"{exc}; {SEMANTIC_EXTRA_HINT}") from exc
    model = load_minilm()
    _release_freed_memory()  # the weights file's arrays, read and copied, are garbage now
    return model


def _release_freed_memory() -> None:
    """Give the C heap's free pages back to the system: about 20 MB of resident memory after the
    model loads (see ``minilm_model.release_freed_memory``)."""
    from victor_server.selection.minilm_model import release_freed_memory

    release_freed_memory()


_shared: dict[str, Embedder] = {}
_shared_lock = threading.Lock()


def shared_default_embedder() -> Embedder:
    """The process-wide default model: ~90 MB of weights are loaded once, not per coordinator."""
    with _shared_lock:
        if "default" not in _shared:
            _shared["default"] = _load_default()
        return _shared["default"]


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class EmbeddingService:
    """Loads an embedder lazily and embeds queries and (cached) tool texts off the event loop."""

    def __init__(self, cache: EmbeddingCache | None = None,
                 loader: Callable[[], Embedder] = shared_default_embedder) -> None:
        self._cache = cache
        self._loader = loader
        self._embedder: Embedder | None = None
        self._failed = False
        self._lock = asyncio.Lock()
        self._memory: dict[str, bytes] = {}
        self._queries: OrderedDict[str, Matrix] = OrderedDict()
        self.encoded_texts = 0  # how many texts the model has embedded (tests and benchmarks)

    @property
    def available(self) -> bool:
        """False once the model has failed to load (then it is never retried)."""
        return not self._failed

    @property
    def ready(self) -> bool:
        """True once the model is loaded (embedding no longer waits for it)."""
        return self._embedder is not None

    async def embedder(self) -> Embedder | None:
        if self._embedder is not None or self._failed:
            return self._embedder
        async with self._lock:
            if self._embedder is None and not self._failed:
                try:
                    self._embedder = await asyncio.to_thread(self._loader)
                except Exception as exc:  # any load failure means "no semantic ranking"
                    self._failed = True
                    log.warning("embedding model unavailable, selecting tools by keyword: %s",
                                exc)
        return self._embedder

    def forget_queries(self) -> None:
        """Empty the query-vector LRU (benchmarks time uncached queries)."""
        self._queries.clear()

    async def embed_query(self, text: str) -> Matrix | None:
        cached = self._queries.get(text)
        if cached is not None:
            self._queries.move_to_end(text)
            return cached
        embedder = await self.embedder()
        if embedder is None:
            return None
        row = await asyncio.to_thread(_encode_query, embedder, text)
        self._queries[text] = row
        while len(self._queries) > _QUERIES_KEPT:
            self._queries.popitem(last=False)
        return row

    async def embed_tools(self, texts: list[str]) -> Matrix | None:
        """Rows for ``texts``, from the memory cache, then the store, then the model."""
        embedder = await self.embedder()
        if embedder is None:
            return None
        import numpy as np

        keys = [text_key(t) for t in texts]
        missing = [k for k in dict.fromkeys(keys) if k not in self._memory]
        if missing and self._cache is not None:
            self._memory.update(await self._cache.get_embeddings(embedder.name, missing))
            missing = [k for k in missing if k not in self._memory]
        if missing:
            wanted = set(missing)
            todo = list({k: t for k, t in zip(keys, texts, strict=True) if k in wanted}.items())
            rows = await asyncio.to_thread(embedder.encode, [t for _, t in todo])
            self.encoded_texts += len(todo)
            fresh = {k: rows[i].astype(np.float32).tobytes() for i, (k, _) in enumerate(todo)}
            self._memory.update(fresh)
            if self._cache is not None:
                await self._cache.put_embeddings(embedder.name, fresh)
        matrix = np.empty((len(texts), embedder.dimension), dtype=np.float32)
        for row, key in enumerate(keys):
            matrix[row] = np.frombuffer(self._memory[key], dtype=np.float32)
        return matrix


class MemoryEmbeddingCache:
    """An ``EmbeddingCache`` in a dictionary: for tests, benchmarks and store-less use."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], bytes] = {}
        self.reads = 0

    async def get_embeddings(self, model: str, keys: list[str]) -> dict[str, bytes]:
        self.reads += 1
        return {k: self.rows[(model, k)] for k in keys if (model, k) in self.rows}

    async def put_embeddings(self, model: str, items: dict[str, bytes]) -> None:
        self.rows.update({(model, k): v for k, v in items.items()})
