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
        import httpx

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
