"""test_order_path's scenarios on a real local Redis Cluster (3 masters, 3 replicas): every service
takes REDIS_URL=redis+cluster://..., and the markets and the users are spread over all three
masters (asserted from CLUSTER KEYSLOT / CLUSTER NODES)."""

from exchange_core.keys import Keys
from launcher.stack import Stack
from tests.client import sign_up
from tests.e2e.test_order_path import (  # noqa: F401 (collected here: the same scenarios on a cluster)
    alice,
    bob,
    test_bad_orders_get_binance_codes_and_change_nothing,
    test_demo_funds_and_exchange_info,
    test_full_and_partial_fill_with_fees_to_the_unit,
    test_ioc_fok_and_limit_maker,
    test_limit_rests_locks_funds_and_cancel_releases_them,
    test_market_orders_by_quantity_and_by_quote,
    test_resubmitted_client_order_id_never_makes_a_second_order,
)
from tests.rediscluster import LocalCluster

ON_REDIS_CLUSTER = True  # tests/e2e/conftest.py: the stack runs on the local Redis Cluster


def test_markets_and_users_are_spread_over_every_master(stack: Stack, redis_cluster: LocalCluster) -> None:
    keys = Keys(stack.prefix)
    masters = set(redis_cluster.masters())
    assert len(masters) == 3
    market_masters = {redis_cluster.master_of(keys.commands(symbol)) for symbol in stack.symbols}
    assert market_masters == masters
    user_masters: set[str] = set()
    for _ in range(30):
        trader = sign_up(stack.url)
        placed = trader.call("POST", "/api/v3/order", symbol="ETHBTC", side="BUY", type="LIMIT",
                             timeInForce="GTC", price="0.05", quantity="0.1")  # fmt: skip
        assert placed["status"] == "NEW"
        owner = redis_cluster.master_of(keys.balances(trader.user_id))
        assert redis_cluster.cli("EXISTS", keys.balances(trader.user_id), port=port_of(owner)).strip() == "1"
        user_masters.add(owner)
        if user_masters == masters:
            break
    assert user_masters == masters
    owner = redis_cluster.master_of(keys.commands("ETHBTC"))
    assert int(redis_cluster.cli("XLEN", keys.commands("ETHBTC"), port=port_of(owner))) >= len(user_masters)
    # The gateway's replies come by sharded pub/sub: its reply channel is a shard channel.
    shard_channels = [
        channel
        for address in masters
        for channel in redis_cluster.cli(
            "PUBSUB", "SHARDCHANNELS", f"{stack.prefix}reply.*", port=port_of(address)
        ).split()
    ]
    assert len(shard_channels) == 1


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])
