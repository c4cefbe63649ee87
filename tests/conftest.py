"""Fixtures every suite may use, and the markers that sort the suites.

The fakes and harnesses live in tests/support/ (the loopback fake Anthropic and OpenAI APIs,
the LSP, MCP and raw JSON-RPC harnesses, the throwaway PostgreSQL cluster, ...). That folder is
put on ``sys.path`` here, so a test imports them by module name:
``from fake_anthropic import FakeAnthropic``.

Markers (registered in pyproject.toml):

- ``slow``: starts outside clients or services, starts many real servers, or loads the model.
  ``make test-fast`` (``pytest -m "not slow"``) leaves these out.
- ``postgres``: needs a PostgreSQL cluster: every test that uses the ``pg_cluster`` fixture, and
  those in test_postgres_*.py except their SQLite variants (the same contract run on SQLite).
- ``node``: drives the server with a node client (the MCP and ACP SDKs, the MCP conformance
  suite).
- ``nvim``: drives the Neovim plugin in a real Neovim.

``postgres``, ``node`` and ``nvim`` tests are ``slow`` too.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

SUPPORT = Path(__file__).parent / "support"
sys.path.insert(0, str(SUPPORT))

from fake_anthropic import FakeAnthropic  # noqa: E402

if TYPE_CHECKING:
    from lsp_harness import VictorClient
    from pg_cluster import PgCluster


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    """The loopback fake of the Anthropic Messages API; ``fake.env()`` points a server at it."""
    with FakeAnthropic() as server:
        yield server


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty project folder with its ``.victor`` directory."""
    root = tmp_path / "project"
    (root / ".victor").mkdir(parents=True)
    return root


LspFactory = Callable[..., AbstractAsyncContextManager["VictorClient"]]


@pytest.fixture
def lsp(workspace: Path) -> LspFactory:
    """Starts the real ``victor-server lsp`` over stdio in ``workspace``:
    ``async with lsp(fake.env()) as server: await server.request(...)``. Keyword arguments
    (``args``, ``init_options``, ``workspace``) are passed to ``lsp_harness.lsp_server``."""
    from lsp_harness import lsp_server  # the LSP client stack, only for tests that use it

    def start(env: dict[str, str] | None = None, **options: Any) \
            -> AbstractAsyncContextManager[VictorClient]:
        return lsp_server(options.pop("workspace", workspace), env, **options)

    return start


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway PostgreSQL cluster for the whole session; each test makes its own
    database with ``pg_cluster.new_database()``. Skips, saying why, without PostgreSQL."""
    import pg_cluster as pg

    reason = pg.unavailable()
    if reason:
        pytest.skip(reason)
    cluster = pg.start_cluster()
    assert cluster is not None
    try:
        yield cluster
    finally:
        pg.remove_cluster(cluster)


# The unit-level suites: they start no server process (a test may run a quick ``python -c`` to
# check what an import loads). Every other suite starts ``victor-server`` (or an outside client
# or service) and is ``slow``, a new one included until it is listed here.
UNIT_SUITES = (
    "test_acp_updates.py", "test_analytics.py", "test_approvals_policy.py",
    "test_context_strategies.py", "test_extras.py", "test_import_graph.py",
    "test_method_table.py", "test_middleware.py", "test_parallel_tools.py",
    "test_plugin_registry.py", "test_provider_openai.py", "test_selection.py",
    "test_sqlite_store_lock.py", "test_sticky_tools.py", "test_store_contract.py",
    "test_tools_builtin.py", "test_unit_config.py", "test_unit_prompts.py",
    "test_unit_service.py",
)


def _is_server_suite(name: str) -> bool:
    return name.startswith("test_") and name.endswith(".py") and name not in UNIT_SUITES


# By file (or test) name; a test elsewhere can say the same with @pytest.mark.<name>.
MARKED_FILES: dict[str, tuple[str, ...]] = {
    "node": ("test_acp_node.py", "test_mcp_node.py", "test_mcp_conformance.py"),
    "nvim": ("test_nvim_plugin.py",),
    # Chromium, the real model, long runs (the server suites are slow by ``UNIT_SUITES``: each
    # start imports the server and its protocol stack, a second or more per test here)
    "slow": ("test_dashboard_chromium.py", "test_selection_model.py",
             "test_reliability_load.py", "test_reliability_crash.py", "test_fuzz_wire.py"),
}
IMPLY_SLOW = ("node", "nvim", "postgres")


def _file_markers(name: str) -> set[str]:
    """The markers a whole file gets by name (entries naming one test are left out)."""
    found = {marker for marker, prefixes in MARKED_FILES.items()
             if any(name.startswith(p) for p in prefixes if "::" not in p)}
    if _is_server_suite(name):
        found.add("slow")
    if found & set(IMPLY_SLOW):
        found.add("slow")
    return found


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under ``-m``, a file whose every test would be deselected is not even imported: the
    server suites import the protocol SDKs, which is most of a ``-m "not slow"`` run's
    collection time. Whatever other markers a test in it has (both extremes are tried)."""
    expression = config.getoption("markexpr", "")
    if not expression or not collection_path.name.startswith("test_"):
        return None
    from _pytest.mark.expression import Expression

    marked = _file_markers(collection_path.name)
    if not marked:
        return None
    compiled = Expression.compile(expression)
    if any(compiled.evaluate(lambda name, others=others: name in marked or others)
           for others in (False, True)):
        return None
    return True


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        where = item.nodeid.removeprefix("tests/")
        for marker, prefixes in MARKED_FILES.items():
            if where.startswith(prefixes):
                item.add_marker(getattr(pytest.mark, marker))
        if _is_server_suite(where.split("::")[0]):
            item.add_marker(pytest.mark.slow)
        if _needs_postgres(item, where) and item.get_closest_marker("postgres") is None:
            item.add_marker(pytest.mark.postgres)
        if item.get_closest_marker("slow") is None \
                and any(item.get_closest_marker(m) for m in IMPLY_SLOW):
            item.add_marker(pytest.mark.slow)


def _needs_postgres(item: pytest.Item, where: str) -> bool:
    if "pg_cluster" in getattr(item, "fixturenames", ()):
        return True
    if not where.startswith("test_postgres_"):
        return False
    params = getattr(getattr(item, "callspec", None), "params", {})
    return "sqlite" not in params.values()
