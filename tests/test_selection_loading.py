"""Selection while the model loads, keyword synonyms, tool documents and the query cache."""

from __future__ import annotations

import threading
from typing import Any

from test_selection import TOOLS, BagOfWordsEmbedder, names

from victor_server.selection.coordinator import ToolSelectionCoordinator
from victor_server.selection.embedding import EmbeddingService
from victor_server.selection.keyword import BM25Index, index_terms, tool_document
from victor_server.tools.base import ToolSpec


class GatedLoader:
    """A loader that blocks (in its worker thread) until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.embedder = BagOfWordsEmbedder()

    def __call__(self) -> Any:
        self.gate.wait(timeout=10)
        return self.embedder


async def test_selection_does_not_wait_for_a_loading_model() -> None:
    loader = GatedLoader()
    coordinator = ToolSelectionCoordinator(embeddings=EmbeddingService(loader=loader),
                                           model_grace_s=0.0)
    try:
        first = await coordinator.select("send an email message", TOOLS, max_tools=3)
        assert first.fallback == "keyword (model loading)"
        assert names(first)[0] == "send_email"
        again = await coordinator.select("run a shell command", TOOLS, max_tools=3)
        assert again.fallback == "keyword (model loading)"
    finally:
        loader.gate.set()
    assert await coordinator.warm_up(TOOLS)
    ready = await coordinator.select("send an email message", TOOLS, max_tools=3)
    assert ready.fallback is None
    assert names(ready)[0] == "send_email"


async def test_domain_strategy_classifies_by_keyword_while_loading() -> None:
    loader = GatedLoader()
    coordinator = ToolSelectionCoordinator("domain", embeddings=EmbeddingService(loader=loader),
                                           model_grace_s=0.0)
    try:
        result = await coordinator.select("commit my changes to the repository", TOOLS)
    finally:
        loader.gate.set()
    assert names(result) == ["git_commit"]
    assert result.fallback == "keyword (model loading)"


async def test_repeated_query_is_embedded_once() -> None:
    embedder = BagOfWordsEmbedder()
    service = EmbeddingService(loader=lambda: embedder)
    coordinator = ToolSelectionCoordinator(embeddings=service, wait_for_model=True)
    await coordinator.warm_up(TOOLS)
    calls = embedder.calls
    for _ in range(3):
        await coordinator.select("deploy the application", TOOLS, strategy="semantic")
    assert embedder.calls == calls + 1


def test_synonyms_match_words_the_tool_does_not_use() -> None:
    index = BM25Index([tool_document(t.name, t.description) for t in TOOLS])
    for query, expected in [("execute ls in bash", 2), ("show me setup.cfg", 0),
                            ("mail the report to alice", 5)]:
        scores = index.scores(query)
        assert max(scores, key=scores.__getitem__) == expected, (query, scores)
    plain = BM25Index([tool_document(t.name, t.description) for t in TOOLS], synonyms=False)
    assert plain.scores("execute ls in bash") == {}  # no shared word without synonyms
    # delete/remove/erase share a group token
    assert set(index_terms("erase")) & set(index_terms("delete")) == {"~3"}


def test_tool_document_includes_parameters_and_domain() -> None:
    spec = ToolSpec("fetchUrl", "Download a page.", domain="web", input_schema={
        "type": "object",
        "properties": {"target_url": {"type": "string", "description": "Address to retrieve"}}})
    text = tool_document(spec.name, spec.description, spec.input_schema, spec.domain)
    assert text.split()[:1] == ["fetchUrl"]
    for word in ("target url", "Address to retrieve", "web"):
        assert word in text
    terms = index_terms(text)
    assert "fetch" in terms and "url" in terms  # camelCase is split by the tokenizer
