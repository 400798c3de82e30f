"""The pub/sub bus (marketdata.bus.Bus on one Redis, marketdata.shardbus.ShardBus on a real local
Redis Cluster) when a channel is unsubscribed and subscribed again before Redis has answered: the
answer to our own unsubscribe is no "slot moved" failure, the new subscription's on-ready runs
only once its own subscribe is confirmed, and messages published after it arrive. A user's stream
closed and opened again (user.{uid}) does exactly this."""

import asyncio
import uuid

from exchange_core import store
from marketdata.bus import connect_bus
from tests.rediscluster import LocalCluster


async def _resubscribe(url: str) -> None:
    redis = store.connect(url)
    bus = connect_bus(redis, f"test-bus-control-{uuid.uuid4().hex[:8]}")
    channel = f"test-bus-{{{uuid.uuid4().hex[:8]}}}"
    got: list[bytes] = []
    ready: list[str] = []
    runner = asyncio.create_task(bus.run())
    try:
        for round_ in range(20):
            bus.subscribe(channel, got.append, lambda r=round_: ready.append(f"ready {r}"))
            bus.unsubscribe(channel)
        bus.subscribe(channel, got.append, lambda: ready.append("ready last"))
        for _ in range(200):
            if ready:
                break
            await asyncio.sleep(0.01)
        assert ready == ["ready last"], ready
        await store.publish(redis, channel, b"after")
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.01)
        assert got == [b"after"]
        assert not runner.done(), runner.exception() if runner.done() else None
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        await redis.aclose()


def test_one_redis_bus_survives_a_quick_unsubscribe_and_subscribe(redis_url: str) -> None:
    asyncio.run(_resubscribe(redis_url))


def test_shard_bus_survives_a_quick_unsubscribe_and_subscribe(redis_cluster: LocalCluster) -> None:
    asyncio.run(_resubscribe(redis_cluster.url))
