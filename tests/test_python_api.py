"""The Python API as victor-ai's examples use it: their classes handed to the
coordinators directly, ``async with`` around the orchestrator, the real Anthropic provider
against the loopback fake; and victor-ai's basic-chat and combined-coordinators examples run as
scripts with only their import lines changed (``tests/seed_examples``), against the fake,
PostgreSQL and a loopback Pushgateway."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from analytics_sink import HttpSink
from fake_anthropic import FakeAnthropic, text
from server_env import server_env

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
from victor_server.store import SqliteStore


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
        # the protocol methods answer with typed results; render("camel") is the wire's JSON
        session = await agent.get_session(response.session_id)
        assert session.session_id == response.session_id and session.message_count == 2
        assert [m.role for m in session.messages] == ["user", "assistant"]
        assert session.render("camel")["messageCount"] == 2
        listed = await agent.list_sessions()
        assert [s.session_id for s in listed.sessions] == [response.session_id]
        context = await agent.get_context(response.session_id)
        assert context.context_window > 0 and len(context.messages) == 2
        summary = await agent.analytics_summary(response.session_id)
        assert summary.tool_calls == {} and summary.tokens.total > 0
        assert summary.render("camel")["toolCalls"] == {}
    body = fake.message_requests[-1].body
    assert body["max_tokens"] == 222 and "No PII." in json.dumps(body["system"])
    usage = [e for e in exporter.events if e.type == "token_usage"]
    assert usage and usage[0].data["total_tokens"] > 0
    assert usage[0].model_dump()["timestamp"].endswith("Z")


# -- victor-ai's examples, run as scripts with only their import lines changed ----------------

EXAMPLES = Path(__file__).parent / "seed_examples"


def run_example(name: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / name)], cwd=cwd, capture_output=True, text=True,
        timeout=120, env=server_env({**env, "PYTHONPATH": os.pathsep.join(
            filter(None, [str(EXAMPLES.parent), str(EXAMPLES.parent / "seed_recipes"),
                          str(EXAMPLES.parent / "seed_plugins"),
                          os.environ.get("PYTHONPATH")]))}))


async def test_the_basic_chat_example_runs_as_written(workspace: Path,
                                                    fake: FakeAnthropic) -> None:
    fake.queue(text("Coordinators each handle one part of a turn.", input_tokens=120,
                    output_tokens=30))
    # the example makes its provider with a placeholder key and no URL: the SDK's variable
    done = await asyncio.to_thread(run_example, "basic_chat.py", workspace,
                                   {"ANTHROPIC_BASE_URL": fake.base_url})
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("Response: Coordinators each handle one part of a turn.\n"
                           "Tokens used: 150\n")
    assert "Traceback" not in done.stderr and "never retrieved" not in done.stderr
    assert fake.message_requests[-1].body["model"] == "claude-sonnet-4-5"
    assert "was destroyed but it is pending" not in done.stderr
    # started on first use and closed with the event loop: the turn is stored and its
    # analytics flushed by the close
    store = SqliteStore(workspace / ".victor" / "victor.db")
    await store.open()
    try:
        sessions, _ = await store.list_sessions(all_tenants=True)
        assert len(sessions) == 1 and sessions[0].total_tokens == 150
        summary = await store.event_summary(all_tenants=True)
        assert summary.events["token_usage"] == 1 and summary.tokens.total == 150
    finally:
        await store.close()


COMBINED_TABLES = """
CREATE TABLE sessions (session_id TEXT PRIMARY KEY, config JSONB);
CREATE TABLE analytics (session_id TEXT, event_type TEXT, event_data JSONB,
                        timestamp TIMESTAMP);
"""


@pytest.mark.slow
async def test_the_combined_coordinators_example_runs_as_written(
        workspace: Path, fake: FakeAnthropic,
        pg_cluster: Any) -> None:
    import asyncpg

    url = pg_cluster.new_database("combined")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(COMBINED_TABLES)
        fake.queue(text("def add(a: int, b: int) -> int:\n    return a + b"))
        with HttpSink() as pushgateway:
            done = await asyncio.to_thread(run_example, "combined_coordinators.py", workspace, {
                "EXAMPLE_DB_URL": url, "EXAMPLE_PUSHGATEWAY_URL": pushgateway.url,
                "EXAMPLE_API_URL": fake.base_url})
            assert done.returncode == 0, done.stderr
            assert done.stdout == "def add(a: int, b: int) -> int:\n    return a + b\n"
            assert "Traceback" not in done.stderr
            # the multilingual contributor's default reached the system prompt
            system = json.dumps(fake.message_requests[-1].body["system"])
            assert "Respond in English." in system
            # both exporters got the turn's events when the loop ended
            pushed = [r for r in pushgateway.received if r.method == "PUT"]
            assert pushed and all(r.path == "/metrics/job/victor-example-6" for r in pushed)
            assert any(b"victor_analytics_token_usage" in r.body for r in pushed)
        rows = await connection.fetch("SELECT event_type, event_data::text AS data, "
                                      "timestamp FROM analytics")
        usage = [r for r in rows if r["event_type"] == "token_usage"]
        assert usage and json.loads(usage[0]["data"])["total_tokens"] > 0
        assert all(r["timestamp"] is not None for r in rows)
    finally:
        await connection.close()
