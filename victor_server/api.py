"""The Python API under the names victor-ai's coordinator examples import.

A script written against victor-ai's ``victor.agent.orchestrator``, ``victor.agent.coordinators``,
``victor.config.settings``, ``victor.providers.anthropic`` and ``victor.protocols`` runs here
with its import lines pointed at this module (``from victor_server.api import
AgentOrchestrator``); the code below them does not change.

The one difference from ``victor_server.orchestrator.AgentOrchestrator``: the orchestrator here
starts on first use, as victor-ai's does, so ``await orchestrator.chat(...)`` right after
construction works. Started that way, it is closed when the event loop ends (``asyncio.run``
cancels the tasks still pending as it finishes, and the orchestrator keeps one waiting for
that), or earlier by ``await orchestrator.close()``. ``async with`` works too and closes at
the end of the block. docs/python-api.md walks through it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from victor_server.analytics import AnalyticsCoordinator
from victor_server.config import ConfigCoordinator
from victor_server.config.providers import EnvironmentConfigProvider, FileConfigProvider
from victor_server.context import ContextCoordinator
from victor_server.orchestrator import AgentOrchestrator as _Orchestrator
from victor_server.orchestrator import NotStarted
from victor_server.prompts import PromptCoordinator
from victor_server.protocols import (
    AnalyticsEvent,
    AuthenticationError,
    BaseAnalyticsExporter,
    BaseCompactionStrategy,
    BasePromptContributor,
    Context,
    ExportResult,
    IAnalyticsExporter,
    IConfigProvider,
    IPromptContributor,
    IToolSelectionCoordinator,
    IToolSelectionStrategy,
    Message,
    PromptContext,
    Tool,
)
from victor_server.providers.anthropic import AnthropicProvider
from victor_server.providers.openai import OpenAIProvider
from victor_server.selection.coordinator import ToolSelectionCoordinator
from victor_server.settings import Settings
from victor_server.tools.coordinator import ToolCoordinator

# the methods that need a started orchestrator; each starts it first when it is not
_STARTING = ("chat", "build_prompt", "select_tools", "compact_context", "get_context",
             "get_config", "analytics_summary", "create_session", "get_session",
             "list_sessions", "delete_session")


class AgentOrchestrator(_Orchestrator):
    """``victor_server.orchestrator.AgentOrchestrator`` that starts on first use."""

    _starting: asyncio.Lock | None = None
    _closer: asyncio.Task[None] | None = None
    _closed = False

    async def start(self) -> AgentOrchestrator:
        self._closed = False
        await super().start()
        return self

    async def ensure_started(self) -> None:
        """Start now unless started; closed again when the running event loop finishes."""
        if self.started:
            return
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self.started:
                return
            await self.start()
            self._closer = asyncio.get_running_loop().create_task(
                self._close_with_the_loop(), name="victor-server: close with the event loop")

    async def _close_with_the_loop(self) -> None:
        try:
            await asyncio.get_running_loop().create_future()  # until cancelled
        finally:
            self._closer = None
            if not self._closed:
                await self.close()

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        closer, self._closer = self._closer, None
        if closer is not None and closer is not asyncio.current_task():
            closer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await closer
        await super().close()


def _starting(name: str) -> Any:
    method = getattr(_Orchestrator, name)

    async def started_first(self: AgentOrchestrator, *args: Any, **kwargs: Any) -> Any:
        await self.ensure_started()
        return await method(self, *args, **kwargs)

    started_first.__name__ = started_first.__qualname__ = name
    started_first.__doc__ = method.__doc__
    return started_first


for _name in _STARTING:
    setattr(AgentOrchestrator, _name, _starting(_name))

__all__ = [
    "AgentOrchestrator", "AnalyticsCoordinator", "AnalyticsEvent", "AnthropicProvider",
    "AuthenticationError", "BaseAnalyticsExporter", "BaseCompactionStrategy",
    "BasePromptContributor", "ConfigCoordinator", "Context", "ContextCoordinator",
    "EnvironmentConfigProvider", "ExportResult", "FileConfigProvider", "IAnalyticsExporter",
    "IConfigProvider", "IPromptContributor", "IToolSelectionCoordinator",
    "IToolSelectionStrategy", "Message", "NotStarted", "OpenAIProvider", "PromptContext",
    "PromptCoordinator", "Settings", "Tool", "ToolCoordinator", "ToolSelectionCoordinator",
]
