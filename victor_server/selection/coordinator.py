"""ToolSelectionCoordinator: which tools (at most ``max_tools``) the model is offered for a query.

The coordinator owns the scoring machinery and a strategy decides how to use it (see
``strategies``). Per distinct tool set it keeps a ``_ToolIndex``: the BM25 index, the tool
embedding matrix and the domain classifier, built on first use and reused while the tool set is
unchanged, so a selection costs one query embedding, one matrix-vector product and a BM25 lookup.

Hybrid score: ``alpha * cosine + (1 - alpha) * bm25 / best_possible_bm25(query)``. Cosines of
this model live in about [0, 1] for related text; BM25 is unbounded, so it is divided by the score
a tool matching every query word at its best weight would get. Dividing by the best match instead
(min-max) turned one shared generic verb ("show", "open") into a full-weight signal and cost
hybrid recall on the benchmark (docs/selection.md). When no embedding model loads, semantic and
hybrid ranking use keyword scores and the result says ``fallback="keyword"``.

The seed recipe's strategies call ``_semantic_selection`` / ``_keyword_selection`` and get plain
tool lists back; the scores they computed are remembered for the duration of the ``select`` call
(a context variable, so concurrent selections do not mix) and attached to what the strategy
returns.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from victor_server.errors import InvalidParams
from victor_server.selection.domain import DomainClassifier
from victor_server.selection.embedding import EmbeddingCache, EmbeddingService
from victor_server.selection.keyword import BM25Index, tool_document
from victor_server.selection.strategies import load_strategy
from victor_server.tools.base import ToolSpec

if TYPE_CHECKING:
    from victor_server.selection.embedding import Matrix

_INDEXES_KEPT = 16  # distinct tool sets (the full set, cost and domain subsets, ...)


@dataclass
class ScoredTool:
    spec: ToolSpec
    score: float


@dataclass
class SelectionResult:
    strategy: str
    tools: list[ScoredTool] = field(default_factory=list)
    fallback: str | None = None  # "keyword" when the embedding model was unavailable


@dataclass
class _CallState:
    scores: dict[str, float] = field(default_factory=dict)
    fell_back: bool = False


_call: ContextVar[_CallState | None] = ContextVar("victor_selection_call", default=None)


class _ToolIndex:
    def __init__(self, tools: list[ToolSpec]) -> None:
        self.tools = tools
        self.texts = [f"{t.name.replace('_', ' ')}: {t.description}" for t in tools]
        self.bm25 = BM25Index([tool_document(t.name, t.description) for t in tools])
        self.vectors: Matrix | None = None
        self.domains: DomainClassifier | None = None


class ToolSelectionCoordinator:
    def __init__(self, strategy: str = "hybrid", options: dict[str, Any] | None = None,
                 store: Any = None, embeddings: EmbeddingService | None = None) -> None:
        self.strategy = strategy
        self.options = dict(options or {})
        self.store = store
        cache = store if isinstance(store, EmbeddingCache) else None
        self.embeddings = embeddings or EmbeddingService(cache)
        self._indexes: OrderedDict[tuple[tuple[str, str], ...], _ToolIndex] = OrderedDict()
        self._strategies: dict[str, object] = {}

    # -- the public entry point ------------------------------------------------------------

    async def select(self, query: str, tools: list[ToolSpec], max_tools: int | None = None,
                     strategy: str | None = None) -> SelectionResult:
        name = strategy or self.strategy
        limit = int(max_tools if max_tools is not None else self.options.get("max_tools", 8))
        if limit < 1:
            raise InvalidParams("maxTools", "must be at least 1")
        impl = self._strategy(name)
        state = _CallState()
        token = _call.set(state)
        try:
            if inspect_has(impl, "select_tools"):
                chosen = self._attach_scores(
                    await impl.select_tools(query, list(tools), self), tools, state)
            else:
                chosen = await impl.select(query, list(tools), self, limit)
        finally:
            _call.reset(token)
        if name != "all":
            chosen = chosen[:limit]
        return SelectionResult(name, chosen, "keyword" if state.fell_back else None)

    def _strategy(self, name: str) -> Any:
        if name not in self._strategies:
            per_name = self.options.get("strategy_options", {}).get(name, {})
            options = {**self.options, **per_name} if name in _BUILTIN_NAMES else dict(per_name)
            self._strategies[name] = load_strategy(name, options)
        return self._strategies[name]

    @staticmethod
    def _attach_scores(returned: Any, tools: list[ToolSpec],
                       state: _CallState) -> list[ScoredTool]:
        by_name = {t.name: t for t in tools}
        chosen: list[ScoredTool] = []
        items = list(returned or [])
        for position, item in enumerate(items):
            if isinstance(item, ScoredTool):
                chosen.append(item)
                continue
            if isinstance(item, tuple):
                item, score = item[0], float(item[1])
            else:  # a bare tool: its score from this call's ranking, else from its position
                score = state.scores.get(getattr(item, "name", ""), 1.0 - position / len(items))
            spec = by_name.get(getattr(item, "name", ""))
            if spec is not None:
                chosen.append(ScoredTool(spec, score))
        return chosen

    # -- scoring, used by strategies ---------------------------------------------------------

    async def rank(self, query: str, tools: list[ToolSpec], method: str = "hybrid",
                   max_tools: int | None = None, alpha: float | None = None) -> list[ScoredTool]:
        """``tools`` best first by ``method`` (keyword, semantic or hybrid); ties keep order."""
        if not tools:
            return []
        index = self._index(tools)
        keyword = self._keyword_scores(index, query)
        scores = keyword
        if method != "keyword":
            semantic = await self._semantic_scores(index, query)
            if semantic is None:
                self._note_fallback()
            elif method == "semantic":
                scores = semantic
            else:
                a = float(self.options.get("hybrid_alpha", 0.7)) if alpha is None else alpha
                scores = [a * s + (1 - a) * k for s, k in zip(semantic, keyword, strict=True)]
        count = len(tools) if max_tools is None else min(max_tools, len(tools))
        best = heapq.nlargest(count, range(len(tools)), key=scores.__getitem__)
        ranked = [ScoredTool(tools[i], round(scores[i], 6)) for i in best]
        state = _call.get()
        if state is not None:
            state.scores.update((s.spec.name, s.score) for s in ranked)
        return ranked

    async def keyword_scores(self, query: str, tools: list[ToolSpec]) -> list[float]:
        """BM25 per tool as a fraction of the best score the query could get (0.0 = no match)."""
        return self._keyword_scores(self._index(tools), query)

    async def semantic_scores(self, query: str, tools: list[ToolSpec]) -> list[float] | None:
        """Cosine similarity per tool, or None when no embedding model is available."""
        return await self._semantic_scores(self._index(tools), query)

    async def classify_domain(self, query: str, tools: list[ToolSpec]) -> str | None:
        index = self._index(tools)
        query_vector = None
        if index.domains is None:
            vectors = await self._vectors(index)
            hints = None
            if vectors is not None:
                hints = await self.embeddings.embed_tools(DomainClassifier.hint_texts(tools))
            index.domains = DomainClassifier(tools, vectors, hints)
        if index.vectors is not None:
            query_vector = await self.embeddings.embed_query(query)
        return index.domains.classify(query, query_vector)

    # The seed recipe's coordinator interface: ranked tool lists.
    async def _semantic_selection(self, query: str, tools: list[ToolSpec]) -> list[ToolSpec]:
        return [s.spec for s in await self.rank(query, list(tools), "semantic")]

    async def _keyword_selection(self, query: str, tools: list[ToolSpec]) -> list[ToolSpec]:
        return [s.spec for s in await self.rank(query, list(tools), "keyword")]

    async def _hybrid_selection(self, query: str, tools: list[ToolSpec]) -> list[ToolSpec]:
        return [s.spec for s in await self.rank(query, list(tools), "hybrid")]

    async def warm_up(self, tools: list[ToolSpec]) -> bool:
        """Load the model and embed ``tools`` now (e.g. at session start); False if no model."""
        return await self._vectors(self._index(tools)) is not None

    # -- internals -------------------------------------------------------------------------

    def _index(self, tools: list[ToolSpec]) -> _ToolIndex:
        key = tuple((t.name, t.description) for t in tools)
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes[key] = _ToolIndex(list(tools))
            while len(self._indexes) > _INDEXES_KEPT:
                self._indexes.popitem(last=False)
        else:
            self._indexes.move_to_end(key)
        return index

    @staticmethod
    def _keyword_scores(index: _ToolIndex, query: str) -> list[float]:
        scores = [0.0] * len(index.tools)
        sparse = index.bm25.scores(query)
        if sparse:
            ceiling = index.bm25.best_possible(query)
            for i, score in sparse.items():
                scores[i] = score / ceiling
        return scores

    async def _vectors(self, index: _ToolIndex) -> Matrix | None:
        if index.vectors is None:
            index.vectors = await self.embeddings.embed_tools(index.texts)
        return index.vectors

    async def _semantic_scores(self, index: _ToolIndex, query: str) -> list[float] | None:
        vectors = await self._vectors(index)
        if vectors is None:
            return None
        query_vector = await self.embeddings.embed_query(query)
        if query_vector is None:
            return None
        result: list[float] = (vectors @ query_vector).tolist()
        return result

    @staticmethod
    def _note_fallback() -> None:
        state = _call.get()
        if state is not None:
            state.fell_back = True


_BUILTIN_NAMES = frozenset({"keyword", "semantic", "hybrid", "cost_aware", "domain", "all"})


def inspect_has(obj: object, method: str) -> bool:
    return callable(getattr(obj, method, None))
