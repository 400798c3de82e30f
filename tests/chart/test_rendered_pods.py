"""The chart's pods, run as local processes with exactly the commands and environment the chart
renders (tests/chart/pods.py), against the real Redis and PostgreSQL: the bootstrap Job migrates
and sets up the market maker's and the market simulation's keys from the generated Secret, the
init containers let the pods start, and both quote every market through the gateway."""

import asyncio
import time
import uuid
from collections.abc import Iterator

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests import services
from tests.chart.conftest import SIX_MARKETS, Manifest, by_kind, component, render
from tests.chart.pods import SIM_DEPTH_LEVELS, Cluster, LocalPod, render_for_this_machine, stop

START_ORDER = ["engine", "settlement", "gateway", "ws", "dbwriter", "marketmaker", "marketsim"]
SYMBOLS = ["BTCUSDT", "ETHUSDT"]


@pytest.fixture(scope="module")
def chart_pods(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, list[LocalPod]]]:
    services.ensure_redis()
    services.ensure_postgres()
    root = tmp_path_factory.mktemp("chart-pods")
    prefix = services.new_prefix()
    dsn = services.PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/exchange_chart_{uuid.uuid4().hex[:10]}"
    manifests = render_for_this_machine(root, SYMBOLS, prefix, dsn)
    cluster = Cluster(manifests, root)
    logs = root / "logs"
    logs.mkdir()
    pods: list[LocalPod] = []
    try:
        (job,) = cluster.pods(by_kind(manifests, "Job")[0])
        pods.append(job)
        assert job.run(logs, timeout_s=120) == 0, job.output()
        workloads = [m for m in manifests if m["kind"] in ("Deployment", "StatefulSet")]
        for workload in sorted(workloads, key=lambda m: START_ORDER.index(component(m))):
            for init in cluster.pods(workload, init=True):
                pods.append(init)
                assert init.run(logs, timeout_s=60) == 0, init.output()
            for pod in cluster.pods(workload):
                pods.append(pod)
                pod.start(logs)
        yield cluster, [p for p in pods if p.component in START_ORDER and p.container.get("livenessProbe")]
    except BaseException:
        for pod in pods:
            print(f"== {pod.name}\n{pod.output()}")
        raise
    finally:
        stop(
            [p for p in pods if p.component in ("marketmaker", "marketsim")]
        )  # they cancel their orders first
        stop(pods)
        asyncio.run(services.delete_prefix(prefix))
        asyncio.run(services.drop_test_database(dsn))


def registry_of(manifests: list[Manifest]) -> str:
    (config,) = [m for m in by_kind(manifests, "ConfigMap") if m["metadata"]["name"].endswith("-markets")]
    return str(config["data"]["markets.toml"])


def gateway_url(pods: list[LocalPod]) -> str:
    (gateway,) = [p for p in pods if p.component == "gateway"]
    return f"http://127.0.0.1:{gateway.ports['http']}"


def wait_for(check: "object", seconds: float, what: str, pods: list[LocalPod]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.5)
    for pod in pods:
        print(f"== {pod.name}\n{pod.output()}")
    raise AssertionError(f"not within {seconds} s: {what}")


def test_the_market_maker_quotes_every_market_with_the_key_of_the_secret(
    chart_pods: tuple[Cluster, list[LocalPod]],
) -> None:
    _, pods = chart_pods
    url = gateway_url(pods)
    assert sorted(p.env["SYMBOL"] for p in pods if p.component == "engine") == SYMBOLS

    def quoted() -> bool:
        try:
            books = [
                httpx.get(f"{url}/api/v3/depth", params={"symbol": s}, timeout=2).json() for s in SYMBOLS
            ]
        except (httpx.HTTPError, ValueError):
            return False
        return all(book.get("bids") and book.get("asks") for book in books)

    wait_for(quoted, 60, "quotes in every market", pods)
    assert all(p.process is not None and p.process.poll() is None for p in pods), "a pod exited"


def test_the_simulation_builds_a_deep_book_with_the_keys_of_the_secret(
    chart_pods: tuple[Cluster, list[LocalPod]],
) -> None:
    """Beyond the market maker's 12 levels a side: the simulation's deep book (its agents'
    orders, placed with the Secret's keys through the gateway)."""
    _, pods = chart_pods
    url = gateway_url(pods)

    def deep() -> bool:
        try:
            books = [
                httpx.get(f"{url}/api/v3/depth", params={"symbol": s, "limit": 100}, timeout=2).json()
                for s in SYMBOLS
            ]
        except (httpx.HTTPError, ValueError):
            return False
        return all(min(len(b.get("bids", [])), len(b.get("asks", []))) >= SIM_DEPTH_LEVELS for b in books)

    wait_for(deep, 120, f"{SIM_DEPTH_LEVELS} levels a side in every market", pods)
    (sim,) = [p for p in pods if p.component == "marketsim"]
    assert sim.process is not None and sim.process.poll() is None, sim.output()


def test_the_demo_login_of_the_secret_works(chart_pods: tuple[Cluster, list[LocalPod]]) -> None:
    cluster, pods = chart_pods
    (secret,) = cluster.secrets.values()
    login = {"email": "demo@exchange.local", "password": secret["DEMO_PASSWORD"]}
    response = httpx.post(f"{gateway_url(pods)}/api/web/login", json=login, timeout=10)
    assert response.status_code == 200, response.text
    wrong = httpx.post(f"{gateway_url(pods)}/api/web/login", json={**login, "password": "x" * 12}, timeout=10)
    assert wrong.status_code == 401


def test_every_probe_of_the_chart_answers_on_a_real_health_endpoint(
    chart_pods: tuple[Cluster, list[LocalPod]],
) -> None:
    """The liveness and readiness probes, as the kubelet would send them, get 200 from every pod
    once it is up (the paths and ports are those the chart renders)."""
    _, pods = chart_pods
    probed = [(pod, probe) for pod in pods for probe in ("livenessProbe", "readinessProbe")]
    assert {pod.component for pod, _ in probed} == set(START_ORDER)

    def answering(pod: LocalPod, probe: str) -> bool:
        try:
            return httpx.get(pod.probe_url(probe), timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    for pod, probe in probed:
        wait_for(lambda: answering(pod, probe), 60, f"{probe} of {pod.name}", pods)  # noqa: B023


def test_the_helm_test_pod_passes_and_fails_on_a_wrong_registry(
    chart_pods: tuple[Cluster, list[LocalPod]],
) -> None:
    """`helm test`: the smoke pod (python -m launcher.smoke) against the running pods."""
    cluster, _ = chart_pods
    (test_pod,) = [m for m in by_kind(cluster.manifests, "Pod") if component(m) == "smoke-test"]
    (smoke,) = cluster.pods(test_pod)
    logs = cluster.root / "logs"
    assert smoke.run(logs, timeout_s=60) == 0, smoke.output()
    assert "the exchange answers" in smoke.output()
    six = cluster.root / "six-markets.toml"
    six.write_text(registry_of(render("-f", str(SIX_MARKETS))))
    smoke.env["MARKETS_FILE"] = str(six)
    smoke.name += "-six"
    assert smoke.run(logs, timeout_s=60) == 1
    assert "exchangeInfo lists ['BTCUSDT', 'ETHUSDT']" in smoke.output()


def test_the_gateway_serves_grpc_on_the_port_of_its_service(
    chart_pods: tuple[Cluster, list[LocalPod]],
) -> None:
    """The gRPC API listens where the gateway Service's `grpc` port sends traffic."""
    cluster, pods = chart_pods
    (gateway,) = [p for p in pods if p.component == "gateway"]
    (service,) = [s for s in by_kind(cluster.manifests, "Service") if component(s) == "gateway"]
    (port,) = [p for p in service["spec"]["ports"] if p["name"] == "grpc"]
    assert gateway.ports[port["targetPort"]] == port["port"]
    with grpc.insecure_channel(f"127.0.0.1:{gateway.ports['grpc']}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=10
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
