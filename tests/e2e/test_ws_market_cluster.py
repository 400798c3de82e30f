"""test_ws_market's scenarios on a real local Redis Cluster: the engine publishes md.{SYMBOL} with
SPUBLISH inside its fenced write, the ws tier subscribes the shard channel at the market's master
(marketdata.shardbus), and a client rebuilds the engine's book from the depth stream."""

import asyncio
from collections.abc import Iterator

import pytest

from tests.e2e.test_ws_market import (  # noqa: F401 (collected here: the same scenarios on a cluster)
    SYMBOL,
    Outcome,
    run_flow,
    test_agg_trades_group_the_trades,
    test_depth_stream_rebuilds_the_engine_book,
    test_trade_stream_equals_the_trade_events,
)
from tests.e2e.wsutil import ws_with_engines
from tests.rediscluster import LocalCluster


@pytest.fixture(scope="module")
def outcome(redis_cluster: LocalCluster) -> Iterator[Outcome]:
    with ws_with_engines([SYMBOL], redis_url=redis_cluster.url) as env:
        yield asyncio.run(run_flow(env))
