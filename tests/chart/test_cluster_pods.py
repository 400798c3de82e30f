"""redis.mode cluster for real: the chart rendered with its Bitnami Redis Cluster, and its pods run
as local processes (tests/chart/pods.py) with exactly the rendered commands and environment against
a real local Redis Cluster (tests/rediscluster.py: 3 masters, 3 replicas) that wants the password
of the rendered cluster Secret, in place of the cluster's headless Service. The bootstrap Job, the
engine, settlement, the gateway and the DB writer start; an order placed through the gateway is
filled and settled; every key is on the cluster."""

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis

from tests import services
from tests.chart.conftest import CHART, by_kind, component
from tests.chart.pods import Cluster, LocalPod, render_for_this_machine, stop
from tests.client import Trader, sign_up
from tests.rediscluster import LocalCluster, local_cluster

START_ORDER = ["engine", "settlement", "gateway", "dbwriter"]
SYMBOL = "BTCUSDT"
HEADLESS = "rel-redis-cluster-headless:6379"


@dataclass
class ClusterRelease:
    store: LocalCluster
    password: str
    pods: list[LocalPod]
    prefix: str

    def gateway_url(self) -> str:
        (gateway,) = [p for p in self.pods if p.component == "gateway"]
        return f"http://127.0.0.1:{gateway.ports['http']}"

    def nodes(self) -> list[redis.Redis]:
        return [redis.Redis(port=port, password=self.password) for port in self.store.ports]


def require_password(cluster: LocalCluster, password: str) -> None:
    """Every node wants `password` from clients, and its replica sends it to its master."""
    for port in cluster.ports:
        cluster.cli("CONFIG", "SET", "masterauth", password, port=port)
    for port in cluster.ports:
        cluster.cli("CONFIG", "SET", "requirepass", password, port=port)


def wait_for(check: "object", seconds: float, what: str, pods: list[LocalPod]) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.5)
    for pod in pods:
        print(f"== {pod.name}\n{pod.output()}")
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClusterRelease]:
    services.ensure_redis()
    services.ensure_postgres()
    root = tmp_path_factory.mktemp("chart-cluster-pods")
    prefix = services.new_prefix()
    dsn = services.PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/exchange_chart_{uuid.uuid4().hex[:10]}"
    manifests = render_for_this_machine(
        root, [SYMBOL], prefix, dsn, "--set", "marketmaker.enabled=false", "--set", "marketsim.enabled=false",
        redis=("-f", str(CHART / "ci" / "redis-cluster-values.yaml")),
    )  # fmt: skip
    logs = root / "logs"
    logs.mkdir()
    pods: list[LocalPod] = []  # every process started, the Job's and init containers' too
    running: list[LocalPod] = []
    with local_cluster() as redis_cluster:
        cluster = Cluster(manifests, root, addresses={HEADLESS: f"127.0.0.1:{redis_cluster.ports[0]}"})
        password = cluster.secrets["rel-redis-cluster"]["redis-password"]
        require_password(redis_cluster, password)
        try:
            (job,) = cluster.pods(by_kind(manifests, "Job")[0])
            pods.append(job)
            assert job.run(logs, timeout_s=180) == 0, job.output()
            workloads = [m for m in manifests if m["kind"] in ("Deployment", "StatefulSet")]
            ours = [m for m in workloads if component(m) in START_ORDER]
            assert {component(m) for m in ours} == set(START_ORDER)
            for workload in sorted(ours, key=lambda m: START_ORDER.index(component(m))):
                for init in cluster.pods(workload, init=True):
                    pods.append(init)
                    assert init.run(logs, timeout_s=90) == 0, init.output()
                for pod in cluster.pods(workload):
                    pods.append(pod)
                    running.append(pod)
                    pod.start(logs)
            yield ClusterRelease(redis_cluster, password, running, prefix)
        except BaseException:
            for pod in pods:
                print(f"== {pod.name}\n{pod.output()}")
            raise
        finally:
            stop(pods)
            asyncio.run(services.drop_test_database(dsn))


def test_every_pod_is_given_the_cluster_through_the_headless_service(release: ClusterRelease) -> None:
    seed = f"redis+cluster://:{release.password}@127.0.0.1:{release.store.ports[0]}"
    assert {p.component for p in release.pods} == set(START_ORDER)
    for pod in release.pods:
        assert pod.env["REDIS_URL"] == seed, pod.name
    for node in release.nodes():  # a client without the password is refused
        assert node.ping()
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=release.store.ports[0]).ping()


def test_an_order_placed_through_the_gateway_is_filled_and_settled_on_the_cluster(
    release: ClusterRelease,
) -> None:
    url = release.gateway_url()
    pods = release.pods

    def ready() -> bool:
        try:
            return all(httpx.get(p.probe_url("readinessProbe"), timeout=2).status_code == 200 for p in pods)
        except httpx.HTTPError:
            return False

    wait_for(ready, 120, "every pod ready", pods)
    seller, buyer = sign_up(url), sign_up(url)
    order = {"symbol": SYMBOL, "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001", "price": "10000"}
    resting = seller.call("POST", "/api/v3/order", side="SELL", **order)
    assert resting["status"] == "NEW", resting
    taken = buyer.call("POST", "/api/v3/order", side="BUY", **order, newOrderRespType="FULL")
    assert taken["status"] == "FILLED", taken
    assert [f["qty"] for f in taken["fills"]] == ["0.00100000"]

    def settled(trader: Trader, asset: str, before: str) -> bool:
        return trader.balances()[asset][0] != before

    seller_usdt = "1000.00000000"
    buyer_btc = "1.00000000"
    wait_for(lambda: settled(seller, "USDT", seller_usdt), 60, "the seller paid in USDT", pods)
    wait_for(lambda: settled(buyer, "BTC", buyer_btc), 60, "the buyer paid in BTC", pods)
    assert seller.balances()["BTC"] == ("0.99900000", "0.00000000")
    assert (
        seller.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=resting["orderId"])["status"] == "FILLED"
    )
    (trade,) = buyer.call("GET", "/api/v3/myTrades", symbol=SYMBOL)
    assert (trade["price"], trade["qty"], trade["isBuyer"]) == ("10000.00000000", "0.00100000", True)
    keys_on_nodes = sum(node.dbsize() for node in release.nodes())
    assert keys_on_nodes > 0
    single = redis.Redis.from_url(services.REDIS_URL)
    assert not list(single.scan_iter(match=f"{release.prefix}*", count=1000))  # nothing on the one Redis
