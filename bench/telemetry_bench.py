"""What the gateway's request-metrics middleware costs per request: a trivial ASGI app called
directly, bare and wrapped in TelemetryMiddleware (tracing off), the scope carrying a matched
route as the router leaves it. Budget: well under 20 us per request. Also the cost of the
tracing-off checks on the order path (`tracing.carrier()` in encode_command), and of the
engine's metrics per batch."""

import asyncio
import time
from typing import Any

from prometheus_client import CollectorRegistry

from engine.telemetry import EngineMetrics
from exchange_core import tracing
from gateway.telemetry import RequestMetrics, TelemetryMiddleware

START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
BODY = {"type": "http.response.body", "body": b"{}"}


class _Route:
    path = "/api/v3/order"


ROUTE = _Route()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    scope["route"] = ROUTE
    await send(START)
    await send(BODY)


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: dict[str, Any]) -> None:
    return None


async def per_request_us(target: Any, n: int) -> float:
    scope = {"type": "http", "method": "POST", "path": "/api/v3/order", "headers": []}
    start = time.perf_counter()
    for _ in range(n):
        await target(dict(scope), receive, send)
    return (time.perf_counter() - start) / n * 1e6


async def run(n: int, rounds: int) -> dict[str, float]:
    registry = CollectorRegistry()
    metrics = RequestMetrics(registry)
    wrapped = TelemetryMiddleware(app, metrics)
    bare_runs, wrapped_runs = [], []
    for _ in range(rounds):
        bare_runs.append(await per_request_us(app, n))
        wrapped_runs.append(await per_request_us(wrapped, n))
    counted = registry.get_sample_value(
        "exchange_http_requests_total", {"method": "POST", "route": "/api/v3/order", "status": "200"}
    )
    assert counted == n * rounds, counted
    bare, with_metrics = min(bare_runs), min(wrapped_runs)
    return {"bare_us": bare, "wrapped_us": with_metrics, "overhead_us": with_metrics - bare}


def engine_batch_us(n: int) -> float:
    """What the engine's loop adds per batch: two histogram observations and a gauge."""
    metrics = EngineMetrics("BTCUSDT", lambda: (0, 0, 0, 0))
    newest = int(time.time() * 1000)
    start = time.perf_counter()
    for i in range(n):
        metrics.batch_done(i % 1000 + 1, 0.002, newest)
    elapsed = (time.perf_counter() - start) / n * 1e6
    assert (
        metrics.registry.get_sample_value("exchange_engine_batch_commands_count", {"symbol": "BTCUSDT"}) == n
    )
    return elapsed


def carrier_ns(n: int) -> float:
    assert not tracing.ENABLED
    start = time.perf_counter()
    for _ in range(n):
        tracing.carrier()
    return (time.perf_counter() - start) / n * 1e9


def main(n: int = 100_000, rounds: int = 5) -> dict[str, float]:
    result = asyncio.run(run(n, rounds))
    result["carrier_off_ns"] = carrier_ns(n)
    result["engine_batch_us"] = engine_batch_us(n // 10)
    print(f"== gateway request metrics middleware (tracing off), best of {rounds} x {n:,} requests")
    print(
        f"   bare app {result['bare_us']:.2f} us, with metrics {result['wrapped_us']:.2f} us: "
        f"{result['overhead_us']:.2f} us per request (budget < 20 us)"
    )
    print(f"   tracing off: the order path's trace-context check costs {result['carrier_off_ns']:.0f} ns")
    print(f"   engine: {result['engine_batch_us']:.2f} us of metrics per batch (of up to 1,000 commands)")
    return result
