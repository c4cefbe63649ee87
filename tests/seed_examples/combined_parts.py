# ruff: noqa
"""The classes victor-ai's combined-coordinators example combines, as its config provider,
prompt contributor, compaction and exporter examples write them: class bodies unchanged, import
lines pointed at victor_server. The values the example leaves to its reader (``your_db``, ``style_guide``, ``pushgateway_url``, ``job_name``, ``provider``,
``model``) are made at the bottom from the environment the test gives."""

import asyncio
import os
from typing import Dict, List

from victor_server.api import IConfigProvider
from victor_server.api import EnvironmentConfigProvider
from victor_server.api import IPromptContributor, PromptContext
from victor_server.api import BasePromptContributor
from victor_server.api import Context
from victor_server.api import BaseCompactionStrategy
from victor_server.api import IAnalyticsExporter, ExportResult, AnalyticsEvent
from victor_server.api import BaseAnalyticsExporter
from victor_server.api import AnthropicProvider

class DatabaseConfigProvider(IConfigProvider):
    """Load configuration from a database."""

    def __init__(self, db_connection):
        self.db = db_connection

    def priority(self) -> int:
        """Higher priority = checked first."""
        return 100

    async def get_config(self, session_id: str) -> Dict:
        """Fetch configuration from database."""
        query = "SELECT config FROM sessions WHERE session_id = $1"
        result = await self.db.fetchrow(query, session_id)

        if result:
            return result["config"]
        return {}  # Empty config = let next provider try


class CompliancePromptContributor(BasePromptContributor):
    """Add compliance requirements to prompts."""

    def priority(self) -> int:
        return 80  # High priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Add compliance instructions if needed."""
        if context.get("requires_compliance"):
            return """

## Compliance Requirements
- Follow all regulatory requirements (GDPR, HIPAA, etc.)
- Do not include personal identifiable information (PII)
- Ensure data handling meets security standards
"""
        return ""


class CodeStylePromptContributor(BasePromptContributor):
    """Add code style guidelines to prompts."""

    def __init__(self, style_guide: dict):
        self.style_guide = style_guide

    def priority(self) -> int:
        return 60  # Medium priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Add code style instructions for coding tasks."""
        if context.get("task") == "code_generation":
            return f"""

## Code Style Guidelines
- Max line length: {self.style_guide['max_line_length']}
- Use {self.style_guide['indentation']} for indentation
- Follow {self.style_guide['naming_convention']} naming convention
- Type hints required for all functions
"""
        return ""


class MultilingualPromptContributor(BasePromptContributor):
    """Add language-specific instructions."""

    def priority(self) -> int:
        return 70  # Medium-high priority

    async def get_contribution(self, context: PromptContext) -> str:
        """Add language instructions based on user preference."""
        language = context.get("language", "en")

        instructions = {
            "en": "Respond in English.",
            "es": "Responde en español.",
            "fr": "Répondre en français.",
            "de": "Auf Deutsch antworten.",
            "ja": "日本語で回答してください。",
        }

        return f"\nLanguage: {instructions.get(language, instructions['en'])}"


class RecentMessagesCompactionStrategy(BaseCompactionStrategy):
    """Keep only the most recent N messages."""

    def __init__(self, keep_last_n: int = 10):
        self.keep_last_n = keep_last_n

    async def compact(self, context: Context) -> Context:
        """Compaction strategy: Keep only recent messages."""
        if len(context.messages) <= self.keep_last_n:
            return context  # No compaction needed

        # Keep system messages + recent messages
        system_messages = [m for m in context.messages if m.role == "system"]
        recent_messages = context.messages[-self.keep_last_n:]

        return Context(messages=system_messages + recent_messages)


class DatabaseAnalyticsExporter(BaseAnalyticsExporter):
    """Export analytics to a database."""

    def __init__(self, db_connection):
        self.db = db_connection

    async def export(self, events: List[AnalyticsEvent]) -> ExportResult:
        """Export events to database."""
        try:
            # Batch insert events
            query = """
                INSERT INTO analytics (session_id, event_type, event_data, timestamp)
                VALUES ($1, $2, $3, $4)
            """

            records = [
                (e.session_id, e.type, e.data, e.timestamp)
                for e in events
            ]

            await self.db.executemany(query, records)

            return ExportResult(
                success=True,
                exported_count=len(events)
            )
        except Exception as e:
            return ExportResult(
                success=False,
                error=str(e)
            )


class PrometheusMetricsExporter(BaseAnalyticsExporter):
    """Export analytics as Prometheus metrics."""

    def __init__(self, pushgateway_url: str, job_name: str):
        self.pushgateway_url = pushgateway_url
        self.job_name = job_name

    async def export(self, events: List[AnalyticsEvent]) -> ExportResult:
        """Export metrics to Prometheus Pushgateway."""
        from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

        try:
            registry = CollectorRegistry()

            # Create metrics from events
            event_types = {}
            for event in events:
                event_types[event.type] = event_types.get(event.type, 0) + 1

            # Create gauge for each event type
            for event_type, count in event_types.items():
                gauge = Gauge(
                    f'victor_analytics_{event_type}',
                    f'Number of {event_type} events',
                    registry=registry
                )
                gauge.set(count)

            # Push to Prometheus
            push_to_gateway(
                self.pushgateway_url,
                job=self.job_name,
                registry=registry
            )

            return ExportResult(
                success=True,
                exported_count=len(events)
            )
        except Exception as e:
            return ExportResult(
                success=False,
                error=str(e)
            )


# -- what example 6 leaves to its reader -------------------------------------------------------

class _Database:
    """An asyncpg pool opened on first use (in the event loop ``asyncio.run`` starts), JSONB
    read and written as Python objects."""

    def __init__(self, url):
        self.url = url
        self.pool = None

    async def _pool(self):
        import asyncpg
        import json

        async def init(connection):
            await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                                            schema="pg_catalog")

        if self.pool is None:
            self.pool = await asyncpg.create_pool(self.url, min_size=1, max_size=2, init=init)
        return self.pool

    async def fetchrow(self, query, *args):
        return await (await self._pool()).fetchrow(query, *args)

    async def executemany(self, query, records):
        return await (await self._pool()).executemany(query, records)


your_db = _Database(os.environ["EXAMPLE_DB_URL"])
style_guide = {"max_line_length": 100, "indentation": "4 spaces", "naming_convention": "PEP8"}
pushgateway_url = os.environ["EXAMPLE_PUSHGATEWAY_URL"]
job_name = "victor-example-6"
provider = AnthropicProvider(api_key="sk-ant-example", base_url=os.environ["EXAMPLE_API_URL"])
model = "claude-sonnet-4-5"
