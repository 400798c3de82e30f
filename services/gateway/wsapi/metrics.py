"""The WebSocket API's metrics, on the gateway's registry (beside the REST metrics):

- `exchange_wsapi_requests_total{method, status}`: requests answered, by method name (`unknown`
  for a method the API does not have, `invalid` for a frame that is not a request) and answer
  status (200, 400, 429, ...);
- `exchange_wsapi_request_duration_seconds{method}`: time from reading a request to sending its
  answer;
- `exchange_wsapi_connections`: connections open now.

As gateway.telemetry.RequestMetrics: plain numbers added to on the event loop's thread, turned
into metric families at scrape time.
"""

from collections.abc import Iterable

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from exchange_core.telemetry import LoopHistogram
from gateway.telemetry import LATENCY_BUCKETS

UNKNOWN_METHOD = "unknown"
INVALID_FRAME = "invalid"


class WsApiMetrics(Collector):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._stats: dict[tuple[str, int], LoopHistogram] = {}
        self.connections = 0
        registry.register(self)

    def observe(self, method: str, status: int, seconds: float) -> None:
        key = (method, status)
        stats = self._stats.get(key)
        if stats is None:
            stats = self._stats[key] = LoopHistogram(LATENCY_BUCKETS)
        stats.observe(seconds)

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "exchange_wsapi_requests",
            "WebSocket API requests answered, by method and answer status.",
            labels=["method", "status"],
        )
        duration = HistogramMetricFamily(
            "exchange_wsapi_request_duration_seconds",
            "Time from reading a WebSocket API request to sending its answer, by method.",
            labels=["method"],
        )
        by_method: dict[str, LoopHistogram] = {}
        for (method, status), stats in list(self._stats.items()):
            requests.add_metric([method, str(status)], sum(stats.counts))
            by_method.setdefault(method, LoopHistogram(LATENCY_BUCKETS)).add(stats)
        for method, total in by_method.items():
            duration.add_metric([method], total.buckets(), total.sum)
        connections = GaugeMetricFamily("exchange_wsapi_connections", "WebSocket API connections open now.")
        connections.add_metric([], self.connections)
        yield requests
        yield duration
        yield connections
