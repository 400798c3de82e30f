"""Metrics and health endpoints shared by every service.

Each service keeps its metrics in a registry of its own (`new_registry`), so that several
services (or several instances of one, in tests) live in one process without clashing. The
gateway and the WebSocket tier serve the three paths on their main port; the engine, settlement,
the DB processor and the market maker call `serve_probes`, a small HTTP server on METRICS_HOST:
METRICS_PORT (port 0: none):

- `/metrics`  the registry in the Prometheus text format (after the optional `refresh`, which
  reads values that are cheaper to ask for at scrape time than to keep up to date);
- `/healthz`  200 while the process and its event loop run (liveness);
- `/readyz`   200 when `ready()` is true, else 503 (readiness).

Counters that a hot loop already keeps as plain integers are exported by `AttributeCollector`,
which reads them at scrape time, so the loop pays nothing for them; its latencies and sizes go
into a `LoopHistogram` (a bucket increment, no lock).
"""

import asyncio
import contextlib
import logging
from bisect import bisect_left
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from redis.asyncio import Redis

from exchange_core.config import CommonSettings

log = logging.getLogger("telemetry")

METRICS_PATH = "/metrics"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
PROBE_PATHS = frozenset({METRICS_PATH, HEALTH_PATH, READY_PATH})
# Readiness checks give up after this long: a hung dependency is a failed one.
READY_TIMEOUT_S = 2.0

Ready = Callable[[], Awaitable[bool]]
Refresh = Callable[[], Awaitable[None]]


class ProbeSettings(CommonSettings):
    """METRICS_PORT (0: no probe server) and METRICS_HOST of a service without an HTTP port."""

    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0


def new_registry() -> CollectorRegistry:
    """A registry with the process, platform and garbage-collector metrics."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class LoopHistogram:
    """Observations counted per bucket (`bounds` ascending, inclusive upper bounds, plus +Inf),
    with their sum. No lock: observed and collected on one thread, the event loop's."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def add(self, other: "LoopHistogram") -> None:
        """Add the observations of `other` (same bounds)."""
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        self.sum += other.sum

    def buckets(self) -> list[tuple[str, float]]:
        """Cumulative (le, count) pairs, ending with +Inf, as HistogramMetricFamily takes them."""
        out, total = [], 0
        for bound, count in zip((*(repr(float(b)) for b in self.bounds), "+Inf"), self.counts, strict=True):
            total += count
            out.append((bound, float(total)))
        return out


@dataclass(frozen=True, slots=True)
class Exported:
    """One plain value exported by an AttributeCollector: the metric `name` (a counter's without
    `_total`), its help text, and a function reading the value (an integer count or level)."""

    name: str
    kind: Literal["counter", "gauge"]
    help: str
    read: Callable[[], float]


@dataclass(frozen=True, slots=True)
class ExportedHistogram:
    """A LoopHistogram exported by an AttributeCollector under `name`."""

    name: str
    help: str
    histogram: LoopHistogram


class AttributeCollector(Collector):
    """Exports values and histograms read at scrape time, with constant `labels` (e.g. the
    market's symbol)."""

    def __init__(
        self, values: Iterable[Exported | ExportedHistogram], labels: dict[str, str] | None = None
    ) -> None:
        self.values = list(values)
        self.labels = labels or {}

    def collect(self) -> Iterable[Metric]:
        names, values = list(self.labels), list(self.labels.values())
        for v in self.values:
            family: Metric
            if isinstance(v, ExportedHistogram):
                family = HistogramMetricFamily(v.name, v.help, labels=names)
                family.add_metric(values, v.histogram.buckets(), v.histogram.sum)
            elif v.kind == "counter":
                family = CounterMetricFamily(v.name, v.help, labels=names)
                family.add_metric(values, v.read())
            else:
                family = GaugeMetricFamily(v.name, v.help, labels=names)
                family.add_metric(values, v.read())
            yield family


async def within_timeout(check: Awaitable[object]) -> bool:
    """True when `check` completes without error within READY_TIMEOUT_S."""
    try:
        await asyncio.wait_for(check, READY_TIMEOUT_S)
    except Exception:
        return False
    return True


async def redis_ready(redis: Redis) -> bool:
    return await within_timeout(redis.ping())


def metrics_body(registry: CollectorRegistry) -> tuple[bytes, str]:
    """The registry's exposition and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST


async def probe_response(
    path: str, registry: CollectorRegistry, ready: Ready, refresh: Refresh | None = None
) -> tuple[int, bytes, str]:
    """(status, body, content type) for one of PROBE_PATHS; 404 for any other path."""
    if path == METRICS_PATH:
        if refresh is not None:
            try:
                await asyncio.wait_for(refresh(), READY_TIMEOUT_S)
            except Exception as exc:  # the other metrics are still worth serving
                log.warning("metrics refresh failed: %s: %s", type(exc).__name__, exc)
        body, content_type = metrics_body(registry)
        return 200, body, content_type
    if path == HEALTH_PATH:
        return 200, b"ok\n", "text/plain; charset=utf-8"
    if path == READY_PATH:
        ok = await ready()
        return (200, b"ready\n", "text/plain; charset=utf-8") if ok else (503, b"not ready\n", "text/plain")
    return 404, b"not found\n", "text/plain; charset=utf-8"


_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}


class ProbeServer:
    """A minimal HTTP/1.1 server for PROBE_PATHS (GET and HEAD; one request per connection)."""

    def __init__(self, registry: CollectorRegistry, ready: Ready, refresh: Refresh | None = None) -> None:
        self.registry = registry
        self.ready = ready
        self.refresh = refresh
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on host:port; returns the port (useful with port 0 in tests)."""
        self.server = await asyncio.start_server(self._handle, host, port)
        bound: int = self.server.sockets[0].getsockname()[1]
        return bound

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.wait_closed(), 1.0)
            self.server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            method, target = _request_line(request)
            if method not in ("GET", "HEAD"):
                status, body, content_type = 405, b"", "text/plain"
            else:
                path = target.split("?", 1)[0]
                answer = await probe_response(path, self.registry, self.ready, self.refresh)
                status, body, content_type = answer
            head = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode() + (b"" if method == "HEAD" else body))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def _request_line(request: bytes) -> tuple[str, str]:
    parts = request.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
    return (parts[0], parts[1]) if len(parts) >= 2 else ("", "")


async def serve_probes(
    settings: ProbeSettings, registry: CollectorRegistry, ready: Ready, refresh: Refresh | None = None
) -> ProbeServer | None:
    """Start the probe server on METRICS_HOST:METRICS_PORT; None when METRICS_PORT is 0 or the
    port cannot be had (logged as an error: the service's own work goes on without metrics)."""
    if not settings.metrics_port:
        return None
    server = ProbeServer(registry, ready, refresh)
    try:
        port = await server.start(settings.metrics_host, settings.metrics_port)
    except OSError as exc:
        where = f"{settings.metrics_host}:{settings.metrics_port}"
        log.error("no /metrics: cannot listen on %s (%s)", where, exc)
        return None
    log.info("metrics and probes on http://%s:%d%s", settings.metrics_host, port, METRICS_PATH)
    return server
