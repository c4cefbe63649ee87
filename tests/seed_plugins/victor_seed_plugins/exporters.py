# Example 5: custom analytics exporter
import asyncio
from typing import List
from victor_server.protocols import IAnalyticsExporter, ExportResult, AnalyticsEvent
from victor_server.protocols import BaseAnalyticsExporter

class WebhookAnalyticsExporter(BaseAnalyticsExporter):
    """Export analytics to a webhook endpoint."""

    def __init__(self, webhook_url: str, headers: dict = None):
        self.webhook_url = webhook_url
        self.headers = headers or {}

    async def export(self, events: List[AnalyticsEvent]) -> ExportResult:
        """Send events to webhook endpoint."""
        import httpx2 as httpx  # import line changed: httpx2 is the HTTP stack installed here

        try:
            payload = [e.model_dump() for e in events]

            async with httpx.AsyncClient() as client:
                response = await client.post(
                    self.webhook_url,
                    json=payload,
                    headers=self.headers,
                    timeout=30.0
                )
                response.raise_for_status()

            return ExportResult(
                success=True,
                exported_count=len(events)
            )
        except Exception as e:
            return ExportResult(
                success=False,
                error=str(e)
            )


# analytics_exporters.py (recipe 3)
from typing import List
from victor_server.protocols import IAnalyticsExporter, ExportResult, AnalyticsEvent
import asyncpg
import json  # the recipe calls json.dumps without importing json

class PostgreSQLAnalyticsExporter(BaseAnalyticsExporter):
    """Export analytics to PostgreSQL database."""

    def __init__(self, connection_string: str, batch_size: int = 100):
        """
        Args:
            connection_string: PostgreSQL connection string
            batch_size: Number of events to batch per insert
        """
        self.connection_string = connection_string
        self.batch_size = batch_size
        self._pool = None

    async def _get_pool(self):
        """Lazy-load connection pool."""
        if self._pool is None:
            self._pool = await asyncpg.create_pool(self.connection_string)
        return self._pool

    async def export(self, events: List[AnalyticsEvent]) -> ExportResult:
        """Export events to PostgreSQL."""
        if not events:
            return ExportResult(success=True, exported_count=0)

        try:
            pool = await self._get_pool()

            async with pool.acquire() as conn:
                # Batch insert events
                await conn.executemany(
                    """
                    INSERT INTO analytics_events
                    (session_id, event_type, event_data, timestamp, created_at)
                    VALUES ($1, $2, $3, $4, NOW())
                    ON CONFLICT (session_id, timestamp) DO NOTHING
                    """,
                    [
                        (
                            e.session_id,
                            e.type,
                            json.dumps(e.data),
                            e.timestamp
                        )
                        for e in events
                    ]
                )

            return ExportResult(
                success=True,
                exported_count=len(events)
            )
        except Exception as e:
            return ExportResult(
                success=False,
                error=str(e),
                exported_count=0
            )

    async def shutdown(self):
        """Close connection pool."""
        if self._pool:
            await self._pool.close()
