"""Analytics: events, the buffered coordinator, and exporters."""

from victor_server.analytics.coordinator import AnalyticsCoordinator, AnalyticsExporter
from victor_server.analytics.events import EVENT_TYPES, AnalyticsEvent

__all__ = ["EVENT_TYPES", "AnalyticsCoordinator", "AnalyticsEvent", "AnalyticsExporter"]
