"""The gateway's request metrics and traces: one pure ASGI middleware around the whole app.

Per HTTP request it counts `exchange_http_requests_total{method, route, status}` and observes
`exchange_http_request_duration_seconds{method, route}`, where `route` is the matched route's
template (`/api/v3/order`, never the raw path; `unmatched` for a path no route serves), so
the label sets stay few. A request costs two clock reads, one dictionary look-up and one
LoopHistogram observation; the metric families are built from them at scrape time. With
tracing on, each request is also a server span (the client's `traceparent` header, if any, is
its parent); the order path puts the span's context into the command
(exchange_core.protocol.encode_command).
"""

import time
from collections.abc import Awaitable, Iterable

from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_core import tracing
from exchange_core.telemetry import LoopHistogram

UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics(Collector):
    """The RED metrics of the HTTP API, registered in `registry`: a request adds to plain
    numbers (no lock: requests and scrapes run on the one event loop thread), turned into
    `exchange_http_requests_total` and `exchange_http_request_duration_seconds` at scrape time."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._stats: dict[tuple[str, str, int], LoopHistogram] = {}
        registry.register(self)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        stats = self._stats.get(key)
        if stats is None:
            stats = self._stats[key] = LoopHistogram(LATENCY_BUCKETS)
        stats.observe(seconds)

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "exchange_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            labels=["method", "route", "status"],
        )
        duration = HistogramMetricFamily(
            "exchange_http_request_duration_seconds",
            "Time from receiving an HTTP request to its last response byte, by method and route.",
            labels=["method", "route"],
        )
        by_route: dict[tuple[str, str], LoopHistogram] = {}
        for (method, path, status), stats in list(self._stats.items()):
            label = method if method in _METHODS else "OTHER"
            requests.add_metric([label, path, str(status)], sum(stats.counts))
            by_route.setdefault((label, path), LoopHistogram(LATENCY_BUCKETS)).add(stats)
        for labels, total in by_route.items():
            duration.add_metric(list(labels), total.buckets(), total.sum)
        yield requests
        yield duration


class _StatusRecorder:
    """Wraps `send`: remembers the response's status code."""

    __slots__ = ("send", "status")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status = 500

    def __call__(self, message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        return self.send(message)


class TelemetryMiddleware:
    """Pure ASGI middleware: request metrics always, a server span when tracing is on.

    A request's route is the template of the route the router matched; `direct_routes` are
    paths that `app` may answer before any router (a fast path): they are their own template.
    """

    def __init__(self, app: ASGIApp, metrics: RequestMetrics, direct_routes: Iterable[str] = ()) -> None:
        self.app = app
        self.metrics = metrics
        self.direct_routes = frozenset(direct_routes)

    def route(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is not None:
            return str(route.path)
        path: str = scope["path"]
        return path if path in self.direct_routes else UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if tracing.ENABLED:
            await self._traced(scope, receive, send)
            return
        recorder = _StatusRecorder(send)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, recorder)
        finally:
            seconds = time.perf_counter() - start
            self.metrics.observe(scope["method"], self.route(scope), recorder.status, seconds)

    async def _traced(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", ())}
        method = scope["method"]
        recorder = _StatusRecorder(send)
        start = time.perf_counter()
        with tracing.tracer("gateway").start_as_current_span(
            f"gateway {method}", context=tracing.parent(headers), kind=SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, recorder)
            finally:
                template = self.route(scope)
                self.metrics.observe(method, template, recorder.status, time.perf_counter() - start)
                span.update_name(f"gateway {method} {template}")
                span.set_attribute("http.request.method", method)
                span.set_attribute("http.route", template)
                span.set_attribute("http.response.status_code", recorder.status)
                if recorder.status >= 500:
                    span.set_status(StatusCode.ERROR)
