from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_anthropic import FakeAnthropic


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / ".victor").mkdir(parents=True)
    return root


# Suites that start real outside clients or services (node, Neovim, Chromium, PostgreSQL, the MCP
# conformance suite) or load the real model: `make test-fast` (pytest -m "not slow") leaves them
# out. A test elsewhere can say the same with @pytest.mark.slow.
SLOW = ("test_acp_node.py", "test_mcp_node.py", "test_mcp_conformance.py",
        "test_nvim_plugin.py", "test_dashboard_chromium.py", "test_postgres_",
        "test_selection_model.py", "test_reliability_load.py", "test_reliability_crash.py",
        "test_fuzz_wire.py",
        "test_selection_loading.py::test_server_loads_the_model")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.nodeid.removeprefix("tests/")
        if where.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
