# Example 5: the database and Prometheus exporters. db_connection is configured as a
# postgresql:// URL and arrives as a connection with asyncpg's executemany (a dict written to a
# JSONB column is encoded as JSON).
import asyncio
from typing import List
from victor_server.protocols import IAnalyticsExporter, ExportResult, AnalyticsEvent
from victor_server.protocols import BaseAnalyticsExporter

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
