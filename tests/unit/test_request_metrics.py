"""The gateway's request metrics: labelled by route template, status and method; the histogram is
a valid Prometheus histogram; errors count as 500."""

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.telemetry import LATENCY_BUCKETS, RequestMetrics, TelemetryMiddleware


def app_with_metrics() -> tuple[FastAPI, CollectorRegistry]:
    app = FastAPI()
    registry = CollectorRegistry()
    app.add_middleware(TelemetryMiddleware, metrics=RequestMetrics(registry))

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        if item_id == 404:
            raise HTTPException(404)
        return {"id": item_id}

    @app.post("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    return app, registry


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def test_requests_are_counted_by_route_template_not_raw_path() -> None:
    app, registry = app_with_metrics()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for i in (1, 2, 3, 404):
            await client.get(f"/items/{i}")
        await client.get("/nowhere/at/all")
        assert (await client.post("/boom")).status_code == 500
    requests = "exchange_http_requests_total"
    assert sample(registry, requests, method="GET", route="/items/{item_id}", status="200") == 3
    assert sample(registry, requests, method="GET", route="/items/{item_id}", status="404") == 1
    assert sample(registry, requests, method="GET", route="unmatched", status="404") == 1
    assert sample(registry, requests, method="POST", route="/boom", status="500") == 1
    text = generate_latest(registry).decode()
    assert "/items/1" not in text and "/nowhere" not in text
    count = "exchange_http_request_duration_seconds_count"
    assert sample(registry, count, method="GET", route="/items/{item_id}") == 4


async def test_the_duration_histogram_is_cumulative_and_ends_with_inf() -> None:
    registry = CollectorRegistry()
    metrics = RequestMetrics(registry)
    for seconds in (0.0001, 0.0005, 0.003, 0.003, 99.0):
        metrics.observe("GET", "/x", 200, seconds)
    metrics.observe("GET", "/x", 503, 0.003)
    (family,) = [
        f
        for f in text_string_to_metric_families(generate_latest(registry).decode())
        if f.name == "exchange_http_request_duration_seconds"
    ]
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}
    assert buckets["0.0005"] == 2  # le is inclusive
    assert buckets["0.005"] == 5
    assert buckets["10.0"] == 5 and buckets["+Inf"] == 6
    assert len(buckets) == len(LATENCY_BUCKETS) + 1
    values = list(buckets.values())
    assert values == sorted(values)
    (total,) = [s.value for s in family.samples if s.name.endswith("_sum")]
    assert total == pytest.approx(0.0001 + 0.0005 + 0.003 * 3 + 99.0)
