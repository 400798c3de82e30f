"""The auto-pipelined connection on a real local Redis Cluster: commands routed to their slot's
master, Lua calls by their first key, PUBLISH as SPUBLISH to the channel's shard, and MOVED and
ASK replies followed while slots move between masters."""

import asyncio
import uuid

from redis.crc import key_slot

from exchange_core import store
from exchange_core.pipelined import PipelinedRedis, listen
from exchange_core.pipelined_cluster import ClusterPipelined, routing_key
from tests.rediscluster import LocalCluster


def port_of(address: str) -> int:
    return int(address.rpartition(":")[2])


def test_routing_key_is_the_first_key_or_a_scripts_first_key() -> None:
    assert routing_key(("XADD", "cmd:{BTCUSDT}", "*", "c", b"x")) == b"cmd:{BTCUSDT}"
    assert routing_key(("EVALSHA", "ab" * 20, 2, "bal:{7}", "resv:{7}", "USDT")) == b"bal:{7}"
    assert routing_key(("EVALSHA", "ab" * 20, 0)) is None
    assert store.cluster_seed("redis+cluster://127.0.0.1:7000") == "redis://127.0.0.1:7000"
    assert store.cluster_seed("redis://127.0.0.1:6379/0") is None


async def test_commands_go_to_their_masters_and_publish_is_sharded(redis_cluster: LocalCluster) -> None:
    client = store.connect(redis_cluster.url)
    fast = PipelinedRedis.like(client)
    assert isinstance(fast, ClusterPipelined) and not fast.ordered_across_slots
    tag = uuid.uuid4().hex[:8]
    keys = [f"t{tag}:{{{n}}}" for n in range(30)]
    try:
        assert await asyncio.gather(*[fast.execute("INCRBY", key, 5) for key in keys]) == [5] * 30
        owners = {redis_cluster.master_of(key) for key in keys}
        assert owners == set(redis_cluster.masters())  # 30 tags reach every master
        for key in keys:
            assert redis_cluster.cli("GET", key, port=port_of(redis_cluster.master_of(key))).strip() == "5"
        script = "return redis.call('INCRBY', KEYS[1], ARGV[1])"
        sha = await client.script_load(script)
        assert await fast.execute("EVALSHA", sha, 1, keys[0], 10) == 15
        got: list[bytes] = []
        ready = asyncio.Event()
        channel = f"md.{{{tag}}}"
        task = asyncio.create_task(listen(fast, channel, got.append, ready))
        await asyncio.wait_for(ready.wait(), 10)
        assert await fast.execute("PUBLISH", channel, b"one") == 1  # SPUBLISH: its shard's subscriber
        for _ in range(100):
            if got:
                break
            await asyncio.sleep(0.05)
        assert got == [b"one"]
        task.cancel()
    finally:
        await fast.aclose()
        await client.aclose()


async def test_moved_and_ask_are_followed_while_a_slot_moves(redis_cluster: LocalCluster) -> None:
    fast = ClusterPipelined(redis_cluster.url.replace("redis+cluster", "redis"))
    tag = uuid.uuid4().hex[:8]
    key = f"m{tag}:{{{tag}}}"
    slot = key_slot(key.encode())
    source = redis_cluster.master_of(key)
    target = next(m for m in redis_cluster.masters() if m != source)
    ids = redis_cluster.node_ids()
    try:
        assert await fast.execute("SET", key, "before") == b"OK"  # the map is loaded now
        # ASK: the slot is migrating; a key not yet on the source is asked of the target.
        redis_cluster.cli("CLUSTER", "SETSLOT", str(slot), "IMPORTING", ids[source], port=port_of(target))
        redis_cluster.cli("CLUSTER", "SETSLOT", str(slot), "MIGRATING", ids[target], port=port_of(source))
        redis_cluster.cli("MIGRATE", *target.split(":"), key, "0", "5000", port=port_of(source))
        assert await fast.execute("GET", key) == b"before"  # ASK to the target, with ASKING
        assert await fast.execute("SET", key, "during") == b"OK"
        # MOVED: the slot now belongs to the target; the connection's map still says source.
        for address in ids:
            redis_cluster.cli("CLUSTER", "SETSLOT", str(slot), "NODE", ids[target], port=port_of(address))
        assert await fast.execute("INCR", f"n{tag}:{{{tag}}}") == 1
        assert await fast.execute("GET", key) == b"during"
        assert redis_cluster.cli("GET", key, port=port_of(target)).strip() == "during"
    finally:
        await fast.aclose()
