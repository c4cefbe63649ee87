"""Analytics: events, the buffered coordinator, exporters, pricing and the live dashboard.

``AnalyticsCoordinator`` buffers events and flushes them to exporters (``exporters.py``,
``prometheus.py``); the store keeps them and answers summaries; ``dashboard.py`` serves the live
page. Only the coordinator and events load at server start; exporters import their HTTP and
WebSocket libraries when built.
"""

from victor_server.analytics.coordinator import AnalyticsCoordinator
from victor_server.analytics.events import EVENT_TYPES, AnalyticsEvent
from victor_server.analytics.exporters import create_exporters
from victor_server.analytics.protocol import (
    AnalyticsExporter,
    BaseAnalyticsExporter,
    ExportFailed,
    ExportResult,
)

__all__ = ["EVENT_TYPES", "AnalyticsCoordinator", "AnalyticsEvent", "AnalyticsExporter",
           "BaseAnalyticsExporter", "ExportFailed", "ExportResult", "create_exporters"]
