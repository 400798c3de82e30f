"""Durable acknowledgements (DURABLE_REPLICAS=1) on a real master with one replica: an order is
answered 200 only once the replica has its command and its ledger changes (Redis WAIT, sent by
the gateway and by settlement); with the replica paused, no order is answered 200 (-1007, its
outcome unknown, within the order timeout), and once it is back orders are answered again. On a
Redis Cluster, each master written to is waited on."""

import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.private_redis import ReplicatedRedis
from tests.rediscluster import LocalCluster

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def replicated() -> Iterator[ReplicatedRedis]:
    redis = ReplicatedRedis()
    try:
        redis.start()
        yield redis
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def durable_stack(own_dsn: str, replicated: ReplicatedRedis) -> Iterator[Stack]:
    env = {"REDIS_URL": replicated.url, "DURABLE_REPLICAS": "1", "DURABLE_TIMEOUT_MS": "500"}
    with running_stack(own_dsn, services.new_prefix(), [SYMBOL], **env) as stack:
        yield stack


def limit(trader: Trader, price: str) -> dict[str, object]:
    answer: dict[str, object] = trader.call(
        "POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
        price=price, quantity="0.001",
    )  # fmt: skip
    return answer


def waits(redis: ReplicatedRedis) -> int:
    """WAIT calls the master has served."""
    for line in redis.cli(redis.port, "INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_wait:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


def test_an_order_is_answered_once_the_replica_has_it(
    durable_stack: Stack, replicated: ReplicatedRedis
) -> None:
    trader = sign_up(durable_stack.url)
    before = waits(replicated)
    assert limit(trader, "20000")["status"] == "NEW"
    assert waits(replicated) >= before + 2  # the gateway's and settlement's
    key = f"{durable_stack.prefix}cmd:{{{SYMBOL}}}"
    assert replicated.cli(replicated.replica_port, "XLEN", key) == replicated.cli(
        replicated.port, "XLEN", key
    )


def test_no_order_is_answered_200_while_the_replica_is_away(
    durable_stack: Stack, replicated: ReplicatedRedis
) -> None:
    trader = sign_up(durable_stack.url)
    replicated.pause_replica()
    try:
        started = time.monotonic()
        with pytest.raises(ApiFailure) as caught:
            limit(trader, "20001")
        assert caught.value.code == -1007, caught.value.body
        assert time.monotonic() - started < 10
    finally:
        replicated.resume_replica()
    deadline = time.monotonic() + 30
    while True:  # settlement, which stopped while the replica was away, comes back
        try:
            assert limit(trader, "20002")["status"] == "NEW"
            break
        except ApiFailure as failure:
            assert failure.code == -1007 and time.monotonic() < deadline, failure.body
    # The order answered -1007 was appended: it rests, as the journal says.
    opened = trader.call("GET", "/api/v3/openOrders", symbol=SYMBOL)
    assert sorted(Decimal(o["price"]) for o in opened) == [Decimal("20001"), Decimal("20002")]


def test_on_a_cluster_each_master_waits_for_its_replica(own_dsn: str, redis_cluster: LocalCluster) -> None:
    prefix = services.new_prefix()
    redis_cluster.spread([Keys(prefix).commands(symbol) for symbol in load_markets()])
    env = {"REDIS_URL": redis_cluster.url, "DURABLE_REPLICAS": "1", "DURABLE_TIMEOUT_MS": "500"}
    with running_stack(own_dsn, prefix, [SYMBOL], **env) as stack:
        before = cluster_waits(redis_cluster)
        traders = [sign_up(stack.url) for _ in range(6)]  # users on every master
        for trader in traders:
            assert limit(trader, "20000")["status"] == "NEW"
        after = cluster_waits(redis_cluster)
        # The command's master, and the masters of the users' ledgers, were waited on.
        assert sum(after.values()) - sum(before.values()) >= 2 * len(traders)
        assert len([node for node in after if after[node] > before.get(node, 0)]) >= 2


def cluster_waits(cluster: LocalCluster) -> dict[str, int]:
    out = {}
    for node in cluster.masters():
        port = int(node.rsplit(":", 1)[1])
        stats = cluster.cli("INFO", "commandstats", port=port)
        calls = [line for line in stats.splitlines() if line.startswith("cmdstat_wait:")]
        out[node] = int(calls[0].split("calls=")[1].split(",")[0]) if calls else 0
    return out
