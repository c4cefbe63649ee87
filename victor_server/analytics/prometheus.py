"""Prometheus metrics (all named ``victor_*``): pushed to a Pushgateway, served by the dashboard.

``MetricTotals`` holds the counters and is a prometheus-client *collector*: it is rendered with
``generate_latest`` into the text format, whether it was folded from events (the exporter) or
from a store summary (the dashboard's ``/metrics``, which covers every process writing the
store). Metrics:

* ``victor_events_total{type}``
* ``victor_tokens_total{model, direction="input"|"output"|"cache_read"|"cache_write"}``
* ``victor_tool_calls_total{tool}``
* ``victor_cost_usd_total{model}``

The exporter PUTs the whole registry to ``{pushgateway}/metrics/job/{job}`` with httpx2 (async,
so no thread per push as ``push_to_gateway`` would need). Counting is local and cannot fail;
only the push can. A batch that comes back from the dead-letter table is counted once because
the exporter remembers recently counted event ids.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Iterator
from typing import Any

from victor_server.analytics.events import AnalyticsEvent
from victor_server.analytics.pricing import TOKEN_KINDS, PriceTable, cost_usd, priced_model
from victor_server.analytics.protocol import ExportFailed
from victor_server.api_models import AnalyticsSummary


class MetricTotals:
    def __init__(self, prices: PriceTable | None = None) -> None:
        self.prices = prices
        self.events: Counter[str] = Counter()
        self.tokens: Counter[tuple[str, str]] = Counter()
        self.tool_calls: Counter[str] = Counter()
        self.cost: dict[str, float] = {}

    def add(self, event: AnalyticsEvent) -> None:
        self.events[event.type] += 1
        data = event.data
        if event.type == "token_usage":
            model = priced_model(data)
            used = {kind: int(data.get(f"{kind}_tokens") or 0)
                    for kind in ("input", "output", "cache_read", "cache_write")}
            for kind, count in used.items():
                self.tokens[(model, kind)] += count
            self.cost[model] = self.cost.get(model, 0.0) + (
                cost_usd(model, used["input"], used["output"], self.prices,
                         used["cache_read"], used["cache_write"]) or 0.0)
        elif event.type == "tool_call":
            self.tool_calls[str(data.get("name"))] += 1

    @classmethod
    def from_summary(cls, summary: AnalyticsSummary) -> MetricTotals:
        totals = cls()
        totals.events.update(summary.events)
        for model, counts in (summary.models or {}).items():
            for kind in TOKEN_KINDS:
                totals.tokens[(model, kind)] = int(counts.get(kind, 0))
        totals.tool_calls.update(summary.tool_calls)
        if summary.cost is not None:
            totals.cost.update(summary.cost.by_model)
        return totals

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily

        events = CounterMetricFamily("victor_events", "Analytics events recorded, by type.",
                                     labels=["type"])
        for name, count in sorted(self.events.items()):
            events.add_metric([name], count)
        tokens = CounterMetricFamily("victor_tokens", "Tokens the provider reported.",
                                     labels=["model", "direction"])
        for (model, direction), count in sorted(self.tokens.items()):
            tokens.add_metric([model, direction], count)
        tools = CounterMetricFamily("victor_tool_calls", "Tool calls, by tool.", labels=["tool"])
        for name, count in sorted(self.tool_calls.items()):
            tools.add_metric([name], count)
        cost = CounterMetricFamily("victor_cost_usd", "Estimated cost in USD, by model.",
                                   labels=["model"])
        for model, usd in sorted(self.cost.items()):
            cost.add_metric([model], usd)
        yield from (events, tokens, tools, cost)

    def render(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        registry = CollectorRegistry(auto_describe=False)
        registry.register(self)
        return bytes(generate_latest(registry))


class PrometheusExporter:
    name = "prometheus"
    REMEMBERED_IDS = 100_000

    def __init__(self, pushgateway: str = "http://127.0.0.1:9091", job: str = "victor",
                 grouping: dict[str, str] | None = None, timeout: float = 5.0,
                 prices: PriceTable | None = None) -> None:
        import httpx2

        path = f"/metrics/job/{job}" + "".join(
            f"/{key}/{value}" for key, value in (grouping or {}).items())
        self.url = pushgateway.rstrip("/") + path
        self.totals = MetricTotals(prices)
        self._counted: OrderedDict[str, None] = OrderedDict()
        self._client = httpx2.AsyncClient(timeout=timeout)

    async def export(self, events: list[AnalyticsEvent]) -> int:
        import httpx2
        from prometheus_client import CONTENT_TYPE_LATEST

        for event in events:
            if event.id in self._counted:
                continue
            self._counted[event.id] = None
            self.totals.add(event)
        while len(self._counted) > self.REMEMBERED_IDS:
            self._counted.popitem(last=False)
        try:
            response = await self._client.put(self.url, content=self.totals.render(),
                                              headers={"Content-Type": CONTENT_TYPE_LATEST})
        except httpx2.HTTPError as exc:
            raise ExportFailed(f"pushgateway {self.url}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise ExportFailed(f"pushgateway {self.url}: HTTP {response.status_code}")
        return len(events)

    async def close(self) -> None:
        await self._client.aclose()
