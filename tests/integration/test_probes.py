"""The probe server of the services without an HTTP port: /metrics, /healthz, /readyz over real
HTTP, readiness from the real Redis (and from a Redis that is not there)."""

import httpx
from prometheus_client import Counter
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from exchange_core.telemetry import (
    AttributeCollector,
    Exported,
    ProbeServer,
    ProbeSettings,
    new_registry,
    redis_ready,
    serve_probes,
)
from launcher.stack import free_port


class Work:
    done = 0


async def test_probe_server_serves_metrics_health_and_readiness(redis_url: str) -> None:
    registry = new_registry()
    work = Work()
    registry.register(
        AttributeCollector([Exported("t_done", "counter", "Done.", lambda: work.done)], {"k": "v"})
    )
    refreshed = Counter("t_refreshes", "Refreshes.", registry=registry)

    async def refresh() -> None:
        refreshed.inc()

    up: Redis = Redis.from_url(redis_url)
    down: Redis = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    servers = [
        ProbeServer(registry, lambda: redis_ready(up), refresh),
        ProbeServer(registry, lambda: redis_ready(down)),
    ]
    ports = [await s.start("127.0.0.1", 0) for s in servers]
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            work.done = 7
            r = await http.get(f"http://127.0.0.1:{ports[0]}/metrics")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            samples = {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for f in text_string_to_metric_families(r.text)
                for s in f.samples
            }
            assert samples[("t_done_total", (("k", "v"),))] == 7
            assert samples[("t_refreshes_total", ())] == 1
            assert ("process_cpu_seconds_total", ()) in samples
            assert (await http.get(f"http://127.0.0.1:{ports[0]}/healthz")).status_code == 200
            assert (await http.get(f"http://127.0.0.1:{ports[0]}/readyz")).status_code == 200
            assert (await http.get(f"http://127.0.0.1:{ports[1]}/healthz")).status_code == 200
            assert (await http.get(f"http://127.0.0.1:{ports[1]}/readyz")).status_code == 503
            assert (await http.get(f"http://127.0.0.1:{ports[0]}/other")).status_code == 404
            assert (await http.post(f"http://127.0.0.1:{ports[0]}/metrics")).status_code == 405
            head = await http.head(f"http://127.0.0.1:{ports[0]}/healthz")
            assert head.status_code == 200 and head.content == b""
    finally:
        for server in servers:
            await server.stop()
        await up.aclose()
        await down.aclose()


async def test_serve_probes_is_off_without_a_port_and_survives_a_taken_one() -> None:
    registry = new_registry()

    async def ready() -> bool:
        return True

    assert await serve_probes(ProbeSettings(metrics_port=0), registry, ready) is None
    first = await serve_probes(ProbeSettings(metrics_port=free_port()), registry, ready)
    assert first is not None and first.server is not None
    taken = first.server.sockets[0].getsockname()[1]
    try:
        assert await serve_probes(ProbeSettings(metrics_port=taken), registry, ready) is None
    finally:
        await first.stop()
