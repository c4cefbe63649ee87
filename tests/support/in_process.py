"""The core without a face or a process: ``AgentOrchestrator`` and the ``Application`` every
face calls (middleware chain, method table, core functions), started in the test's own event
loop, on a SQLite store in the workspace.

The configuration comes only from the project file written here and the ``environ`` given (not
the test process's own ``VICTOR_*`` variables), so a test sees exactly the config it wrote. The
Anthropic provider reads ``ANTHROPIC_BASE_URL``/``ANTHROPIC_API_KEY`` from the process
environment: point it at the fake with ``monkeypatch.setenv`` over ``fake.env()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from victor_server.app import Application
from victor_server.config import ConfigCoordinator, EnvironmentConfigProvider, FileConfigProvider
from victor_server.orchestrator import AgentOrchestrator

# keyword ranking: the default (hybrid) would start loading the embedding model
FAST = "tool_selection:\n  strategy: keyword\n"


@asynccontextmanager
async def core(workspace: Path, config: str = "",
               environ: dict[str, str] | None = None) -> AsyncIterator[Application]:
    """The application over a started orchestrator; ``config`` is YAML added after
    ``FAST`` in ``.victor/config.yml``."""
    (workspace / ".victor").mkdir(parents=True, exist_ok=True)
    (workspace / ".victor" / "config.yml").write_text(FAST + config)
    coordinator = ConfigCoordinator([EnvironmentConfigProvider(environ or {}),
                                     FileConfigProvider(workspace=workspace)])
    orchestrator = AgentOrchestrator(workspace=workspace, config_coordinator=coordinator)
    async with orchestrator:
        yield Application(orchestrator, "cli")
