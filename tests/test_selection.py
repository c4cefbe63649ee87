"""Tool selection: strategies, fallback, the embedding cache, plugins and errors."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import logging
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from victor_server.errors import InvalidParams
from victor_server.selection.coordinator import ToolSelectionCoordinator
from victor_server.selection.embedding import EmbeddingService, MemoryEmbeddingCache
from victor_server.selection.keyword import tokenize
from victor_server.selection.strategies import GROUP
from victor_server.tools.base import ToolSpec

TOOLS = [
    ToolSpec("read_file", "Read the contents of a text file from the workspace.",
             domain="filesystem"),
    ToolSpec("write_file", "Create or overwrite a file with the given text.", domain="filesystem"),
    ToolSpec("run_command", "Run a shell command and return its output and exit code.",
             cost_tier="low", domain="shell"),
    ToolSpec("web_search", "Search the internet and return result titles and links.",
             cost_tier="medium", domain="web"),
    ToolSpec("git_commit", "Record staged changes in the repository with a message.",
             domain="git"),
    ToolSpec("send_email", "Send an email message to one or more recipients.",
             cost_tier="low", domain="communication"),
    ToolSpec("deploy_app", "Deploy the application to the production environment.",
             cost_tier="high", domain="devops"),
]


class BagOfWordsEmbedder:
    """A deterministic stand-in model: hashed word counts, L2-normalised."""

    name = "bag-of-words"
    dimension = 64

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: list[str]) -> Any:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokenize(text):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dimension] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def fake_coordinator(strategy: str = "hybrid", store: Any = None,
                     **options: Any) -> ToolSelectionCoordinator:
    embedder = BagOfWordsEmbedder()
    return ToolSelectionCoordinator(strategy, options, store,
                                    embeddings=EmbeddingService(store, loader=lambda: embedder),
                                    wait_for_model=True)


def names(result: Any) -> list[str]:
    return [s.spec.name for s in result.tools]


async def test_keyword_ranks_the_matching_tool_first() -> None:
    coordinator = fake_coordinator("keyword")
    result = await coordinator.select("run this shell command for me", TOOLS, max_tools=3)
    assert result.strategy == "keyword"
    assert names(result)[0] == "run_command"
    assert len(result.tools) == 3
    assert result.tools[0].score > result.tools[1].score


async def test_max_tools_comes_from_options_when_not_given() -> None:
    result = await fake_coordinator(max_tools=2).select("send an email", TOOLS)
    assert names(result)[0] == "send_email"
    assert len(result.tools) == 2


async def test_cost_aware_drops_tools_above_the_tier() -> None:
    coordinator = fake_coordinator("cost_aware", max_cost_tier="low")
    result = await coordinator.select("deploy the application", TOOLS, max_tools=10)
    assert "deploy_app" not in names(result)
    assert "web_search" not in names(result)
    assert "run_command" in names(result)


async def test_domain_restricts_to_the_query_domain() -> None:
    result = await fake_coordinator("domain").select("commit my changes to the repository",
                                                     TOOLS, max_tools=5)
    assert names(result) == ["git_commit"]


async def test_all_returns_every_tool() -> None:
    result = await fake_coordinator().select("anything", TOOLS, max_tools=2, strategy="all")
    assert names(result) == [t.name for t in TOOLS]


async def test_unknown_strategy_is_invalid_params_listing_valid_names() -> None:
    with pytest.raises(InvalidParams) as caught:
        await fake_coordinator().select("x", TOOLS, strategy="psychic")
    assert caught.value.field == "strategy"
    assert caught.value.code == -32602
    for valid in ("keyword", "semantic", "hybrid", "cost_aware", "domain", "all"):
        assert valid in caught.value.message


async def test_model_that_cannot_load_falls_back_to_keyword_with_one_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Any:
        raise OSError("model.safetensors is missing")

    coordinator = ToolSelectionCoordinator(embeddings=EmbeddingService(loader=broken),
                                           wait_for_model=True)
    with caplog.at_level(logging.WARNING, logger="victor_server.selection"):
        first = await coordinator.select("run a shell command", TOOLS, max_tools=3)
        second = await coordinator.select("send an email message", TOOLS, max_tools=3,
                                          strategy="semantic")
    assert first.strategy == "hybrid" and first.fallback == "keyword"
    assert names(first)[0] == "run_command"
    assert names(second)[0] == "send_email" and second.fallback == "keyword"
    warnings = [r for r in caplog.records if "keyword" in r.getMessage()]
    assert len(warnings) == 1


async def test_second_coordinator_reads_tool_embeddings_from_the_store() -> None:
    store = MemoryEmbeddingCache()
    first = fake_coordinator(store=store)
    await first.select("read a file", TOOLS)
    # three texts per tool: "name: description", the name, the description
    assert first.embeddings.encoded_texts == 3 * len(TOOLS)
    assert len(store.rows) == 3 * len(TOOLS)

    second = fake_coordinator(store=store)
    result = await second.select("read a file", TOOLS)
    assert second.embeddings.encoded_texts == 0
    assert names(result)[0] == "read_file"


async def test_changed_description_is_re_embedded() -> None:
    store = MemoryEmbeddingCache()
    await fake_coordinator(store=store).select("q", TOOLS)
    changed = [*TOOLS[:-1], ToolSpec("deploy_app", "Ship the application to production.")]
    coordinator = fake_coordinator(store=store)
    await coordinator.select("q", changed)
    assert coordinator.embeddings.encoded_texts == 2  # "name: description" and the description


class ReverseAlphabetical:
    """Our protocol."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    async def select(self, query: str, tools: list[ToolSpec], scorer: Any,
                     max_tools: int) -> list[Any]:
        from victor_server.selection.coordinator import ScoredTool

        ordered = sorted(tools, key=lambda t: t.name, reverse=True)
        return [ScoredTool(t, float(self.options.get("score", 0.5))) for t in ordered]


class SeedCostAware:
    """victor-ai's shape, as written there."""

    def __init__(self, max_cost_per_call: Any = 0.01) -> None:
        self.max_cost_per_call = max_cost_per_call

    async def select_tools(self, query: str, available_tools: list[Any],
                           selection_coordinator: Any) -> list[Any]:
        affordable = [t for t in available_tools if t.cost_tier in ["free", "low"]]
        result: list[Any] = await selection_coordinator._semantic_selection(query, affordable)
        return result


class WritesLast:
    """The current shape: scores arrive in the request; nothing is called back."""

    scores = "keyword"
    seen: list[Any] = []

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options

    def candidates(self, query: str, tools: list[ToolSpec], domain: str | None) -> list[ToolSpec]:
        return [t for t in tools if t.cost_tier != "high"]

    async def choose(self, request: Any) -> list[Any]:
        WritesLast.seen.append(request)
        ranked = request.ranked("keyword", max_tools=len(request.tools))
        return sorted(ranked, key=lambda s: s.spec.name.startswith("write"))


class FakeEntryPoint:
    def __init__(self, name: str, target: Any) -> None:
        self.name, self.value, self.group, self._target = name, f"tests:{name}", GROUP, target

    def load(self) -> Any:
        if isinstance(self._target, Exception):
            raise self._target
        return self._target


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    points = [FakeEntryPoint("reverse", ReverseAlphabetical),
              FakeEntryPoint("writes_last", WritesLast),
              FakeEntryPoint("seed_cost", SeedCostAware),
              FakeEntryPoint("broken", ImportError("no module named nowhere"))]

    def entry_points(**kwargs: Any) -> list[Any]:
        return points if kwargs.get("group") == GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


@pytest.mark.usefixtures("plugins")
async def test_entry_point_strategy_with_our_protocol_gets_its_options() -> None:
    coordinator = fake_coordinator(strategy_options={"reverse": {"score": 0.25}})
    result = await coordinator.select("anything", TOOLS, max_tools=2, strategy="reverse")
    assert result.strategy == "reverse"
    assert names(result) == ["write_file", "web_search"]
    assert result.tools[0].score == 0.25


@pytest.mark.usefixtures("plugins")
async def test_entry_point_strategy_in_the_seed_shape_uses_semantic_selection() -> None:
    result = await fake_coordinator("seed_cost").select("send an email message", TOOLS,
                                                        max_tools=3)
    assert names(result)[0] == "send_email"
    assert "deploy_app" not in names(result) and "web_search" not in names(result)
    assert result.tools[0].score > result.tools[-1].score  # scores from the ranking, attached


@pytest.mark.usefixtures("plugins")
async def test_strategy_in_the_current_shape_gets_its_candidates_scored() -> None:
    WritesLast.seen.clear()
    coordinator = fake_coordinator()
    result = await coordinator.select("write the file", TOOLS, max_tools=3,
                                      strategy="writes_last")
    request = WritesLast.seen[0]
    high = {t.name for t in TOOLS if t.cost_tier == "high"}
    assert high and not high & {t.name for t in request.tools}  # its candidates() applied
    assert request.query == "write the file" and request.max_tools == 3
    assert request.semantic is None  # it asked for keyword scores only
    assert request.keyword == await coordinator.keyword_scores("write the file", request.tools)
    assert len(result.tools) == 3 and "write_file" not in names(result)
    assert result.fallback is None


async def test_a_subclass_of_a_built_in_overriding_the_earlier_select_gets_its_select() -> None:
    from victor_server.selection.strategies import HybridStrategy

    class NoWrites(HybridStrategy):
        async def select(self, query: str, tools: list[ToolSpec], scorer: Any,
                         max_tools: int) -> list[Any]:
            return list(await scorer.rank(query, [t for t in tools if t.name != "write_file"],
                                          "hybrid", max_tools=max_tools))

    coordinator = ToolSelectionCoordinator(
        embeddings=EmbeddingService(loader=BagOfWordsEmbedder), wait_for_model=True,
        default_strategy=NoWrites({}))
    result = await coordinator.select("write a file", TOOLS, max_tools=3)
    assert result.strategy == "NoWrites" and len(result.tools) == 3
    assert "write_file" not in names(result)


async def test_concurrent_selections_keep_their_own_fallback_and_scores() -> None:
    # one coordinator, two selections at once: the seed-shape one on a model that is loading,
    # the other on keyword only; each result says only what happened to it
    gate = asyncio.Event()
    embedder = BagOfWordsEmbedder()

    coordinator = ToolSelectionCoordinator(
        "hybrid", {}, embeddings=EmbeddingService(loader=lambda: embedder), model_grace_s=0.0)
    original = coordinator.embeddings.embed_tools

    async def held(texts: list[str]) -> Any:
        await gate.wait()
        return await original(texts)

    coordinator.embeddings.embed_tools = held  # type: ignore[method-assign]
    loading, keyword = await asyncio.gather(
        coordinator.select("send an email message", TOOLS, max_tools=2),
        coordinator.select("run a shell command", TOOLS, max_tools=2, strategy="keyword"))
    gate.set()
    assert await coordinator.warm_up(TOOLS)  # the held embedding finishes
    assert loading.fallback == "keyword (model loading)"
    assert keyword.fallback is None and names(keyword)[0] == "run_command"


@pytest.mark.usefixtures("plugins")
async def test_broken_plugin_is_logged_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    # a strategy that cannot load never costs the caller the answer: keyword ranking, saying why
    with caplog.at_level(logging.WARNING):
        result = await fake_coordinator().select("x", TOOLS, strategy="broken")
    assert result.strategy == "broken" and result.tools
    assert result.fallback is not None and result.fallback.startswith("keyword (")
    assert "failed at import" in result.fallback and "no module named nowhere" in result.fallback
    assert any("broken" in r.getMessage() for r in caplog.records)


@pytest.mark.usefixtures("plugins")
async def test_unknown_name_lists_installed_plugins_too() -> None:
    with pytest.raises(InvalidParams) as caught:
        await fake_coordinator().select("x", TOOLS, strategy="nope")
    assert "reverse" in caught.value.message and "seed_cost" in caught.value.message


def test_importing_the_coordinator_does_not_import_numpy() -> None:
    code = ("import sys, victor_server.selection.coordinator, victor_server.selection; "
            "print(sorted(m for m in ('numpy', 'tokenizers', 'safetensors') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
