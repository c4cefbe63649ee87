"""The Python API as victor-ai's examples use it: their classes handed to the
coordinators directly, ``async with`` around the orchestrator, the real Anthropic provider
against the loopback fake."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, text

from victor_server.analytics import AnalyticsCoordinator
from victor_server.config import ConfigCoordinator
from victor_server.context import ContextCoordinator
from victor_server.orchestrator import AgentOrchestrator, NotStarted
from victor_server.prompts import PromptCoordinator
from victor_server.protocols import (
    BaseAnalyticsExporter,
    BasePromptContributor,
    ExportResult,
    IConfigProvider,
)
from victor_server.providers.anthropic import AnthropicProvider
from victor_server.settings import Settings


class EnvironmentLikeProvider(IConfigProvider):
    def priority(self) -> int:
        return 10

    async def get_config(self, session_id: str) -> dict[str, Any]:
        return {"max_tokens": 222}


class CompliancePromptContributor(BasePromptContributor):
    def priority(self) -> int:
        return 80

    async def get_contribution(self, context: Any) -> str:
        return "## Compliance Requirements\n- No PII."


class ListExporter(BaseAnalyticsExporter):
    def __init__(self) -> None:
        self.events: list[Any] = []

    async def export(self, events: list[Any]) -> ExportResult:
        self.events += events
        return ExportResult(success=True, exported_count=len(events))


async def test_the_recipes_combined_coordinators(tmp_path: Path, fake: FakeAnthropic) -> None:
    exporter = ListExporter()
    analytics = AnalyticsCoordinator(exporters=[exporter])
    orchestrator = AgentOrchestrator(
        settings=Settings(enable_analytics=True, context_compaction_threshold=0.8),
        provider=AnthropicProvider(api_key="test", base_url=fake.base_url),
        model="claude-sonnet-4-5", workspace=tmp_path,
        _config_coordinator=ConfigCoordinator(providers=[EnvironmentLikeProvider()]),
        _prompt_coordinator=PromptCoordinator(contributors=[CompliancePromptContributor()]),
        _context_coordinator=ContextCoordinator(strategy="recent"),
        _analytics_coordinator=analytics)
    with pytest.raises(NotStarted, match="async with"):
        await orchestrator.chat("too early")
    fake.queue(text("Coordinators are parts."))
    async with orchestrator as agent:
        response = await agent.chat("Explain coordinators.")
        assert response.content == "Coordinators are parts."
        assert response.usage.total_tokens > 0
        result = await analytics.export_analytics()
        assert result.success
    body = fake.message_requests[-1].body
    assert body["max_tokens"] == 222 and "No PII." in json.dumps(body["system"])
    usage = [e for e in exporter.events if e.type == "token_usage"]
    assert usage and usage[0].data["total_tokens"] > 0
    assert usage[0].model_dump()["timestamp"].endswith("Z")
