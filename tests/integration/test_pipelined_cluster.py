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


async def test_connect_opens_a_connection_to_every_master(redis_cluster: LocalCluster) -> None:
    client = store.connect(redis_cluster.url)
    fast = PipelinedRedis.like(client)
    assert isinstance(fast, ClusterPipelined)
    try:
        await fast.connect()
        masters = {port_of(address) for address in redis_cluster.masters()}
        connected = {conn.port for conn in fast._nodes.values() if conn.connected}
        assert connected == masters
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


class SplitSlot:
    """Two keys of one slot, `first` already migrated to another master and `second` not: a
    command on both is answered TRYAGAIN until `finish` moves the second and the slot."""

    def __init__(self, cluster: LocalCluster, first: str, second: str) -> None:
        self.cluster, self.second = cluster, second
        self.slot = key_slot(first.encode())
        self.source = cluster.master_of(first)
        self.target = next(m for m in cluster.masters() if m != self.source)
        self.ids = cluster.node_ids()
        cluster.cli(
            "CLUSTER",
            "SETSLOT",
            str(self.slot),
            "IMPORTING",
            self.ids[self.source],
            port=port_of(self.target),
        )
        cluster.cli(
            "CLUSTER",
            "SETSLOT",
            str(self.slot),
            "MIGRATING",
            self.ids[self.target],
            port=port_of(self.source),
        )
        cluster.cli("MIGRATE", *self.target.split(":"), first, "0", "5000", port=port_of(self.source))

    def finish(self) -> None:
        self.cluster.cli(
            "MIGRATE", *self.target.split(":"), self.second, "0", "5000", port=port_of(self.source)
        )
        for address in self.ids:
            self.cluster.cli(
                "CLUSTER", "SETSLOT", str(self.slot), "NODE", self.ids[self.target], port=port_of(address)
            )


TWO_INCRS = "return redis.call('INCR', KEYS[1]) + redis.call('INCR', KEYS[2])"


async def test_tryagain_during_a_migration_is_sent_again_until_the_keys_are_together(
    redis_cluster: LocalCluster,
) -> None:
    """The pipelined connection: a Lua call on two keys of a migrating slot, one already moved,
    is answered TRYAGAIN (Redis ran nothing); it is sent again and runs once the slot moved."""
    fast = ClusterPipelined(redis_cluster.url.replace("redis+cluster", "redis"))
    tag = uuid.uuid4().hex[:8]
    first, second = f"a{tag}:{{{tag}}}", f"b{tag}:{{{tag}}}"
    try:
        assert await fast.execute("EVAL", TWO_INCRS, 2, first, second) == 2
        split = SplitSlot(redis_cluster, first, second)
        pending = fast.execute("EVAL", TWO_INCRS, 2, first, second)
        await asyncio.sleep(1.5)
        assert not pending.done()
        split.finish()
        assert await asyncio.wait_for(pending, 10) == 4
        assert redis_cluster.cli("GET", first, port=port_of(split.target)).strip() == "2"
    finally:
        await fast.aclose()


async def test_the_cluster_client_waits_out_a_migration_longer_than_redis_pys_default(
    redis_cluster: LocalCluster,
) -> None:
    """store.connect's client (the engine's and the leases' scripts): TRYAGAIN is sent again for
    up to 20 s, not redis-py's half second."""
    client = store.connect(redis_cluster.url)
    tag = uuid.uuid4().hex[:8]
    first, second = f"c{tag}:{{{tag}}}", f"d{tag}:{{{tag}}}"
    try:
        assert await client.eval(TWO_INCRS, 2, first, second) == 2  # type: ignore[misc]
        split = SplitSlot(redis_cluster, first, second)
        pending = asyncio.ensure_future(client.eval(TWO_INCRS, 2, first, second))  # type: ignore[arg-type]
        await asyncio.sleep(6.0)  # past redis-py's budget even at 200 attempts
        assert not pending.done()
        split.finish()
        assert await asyncio.wait_for(pending, 10) == 4
    finally:
        await client.aclose()


async def test_a_dead_masters_commands_go_to_its_promoted_replica(own_cluster: LocalCluster) -> None:
    """A master SIGKILLed: its connection's commands in flight fail (their outcome unknown); a
    command sent after is refused by the dead node, sent again until the replica is promoted,
    and answered by it."""
    cluster = own_cluster
    fast = ClusterPipelined(cluster.url.replace("redis+cluster", "redis"))
    seed = f"127.0.0.1:{cluster.ports[0]}"
    tag = next(t for t in (uuid.uuid4().hex[:8] for _ in range(100)) if cluster.master_of(f"{{{t}}}") != seed)
    key = f"f{tag}:{{{tag}}}"
    victim = cluster.master_of(key)
    replica = cluster.replica_of(victim)
    try:
        assert await fast.execute("SET", key, "kept") == b"OK"
        # WAIT on the connection that wrote: another client's WAIT (redis-cli's) has written
        # nothing and returns at once, whether or not the replica has the key.
        assert await fast.replicated(key, 1, 5000) == 1
        cluster.kill(victim)
        await asyncio.sleep(0.2)  # the connection sees its end
        assert await asyncio.wait_for(fast.execute("GET", key), 30) == b"kept"
        assert replica in cluster.masters()
        assert await fast.execute("INCR", f"g{tag}:{{{tag}}}") == 1
    finally:
        await fast.aclose()


async def test_a_master_without_the_script_is_sent_it_once_and_the_call_again(
    redis_cluster: LocalCluster,
) -> None:
    """NOSCRIPT (a replica promoted after a failover has no scripts): the remembered body is
    loaded on that master and the call sent again."""
    fast = ClusterPipelined(redis_cluster.url.replace("redis+cluster", "redis"))
    tag = uuid.uuid4().hex[:8]
    key = f"s{tag}:{{{tag}}}"
    body = f"return redis.call('INCRBY', KEYS[1], 3) -- {tag}"
    sha = redis_cluster.cli("SCRIPT", "LOAD", body, port=port_of(redis_cluster.master_of(key))).strip()
    fast.remember_script(sha, body)
    try:
        assert await fast.execute("EVALSHA", sha, 1, key) == 3
        redis_cluster.cli("SCRIPT", "FLUSH", port=port_of(redis_cluster.master_of(key)))
        assert await fast.execute("EVALSHA", sha, 1, key) == 6
    finally:
        await fast.aclose()


async def test_wait_on_a_master_turned_replica_counts_zero_then_follows_the_map(
    own_cluster: LocalCluster,
) -> None:
    """Durable acknowledgements after a failover: the old master, now a replica, refuses WAIT;
    that counts as 0 replicas (the caller answers "status unknown"), not as an error, and the
    next WAIT goes to the new master."""
    cluster = own_cluster
    fast = ClusterPipelined(cluster.url.replace("redis+cluster", "redis"))
    tag = uuid.uuid4().hex[:8]
    key = f"w{tag}:{{{tag}}}"
    old = cluster.master_of(key)
    new = cluster.replica_of(old)
    try:
        assert await fast.execute("SET", key, "1") == b"OK"
        assert await fast.replicated(key, 1, 5000) == 1
        await asyncio.to_thread(cluster.fail_over, new)
        assert cluster.master_of(key) == new
        assert await fast.replicated(key, 1, 1000) == 0  # asked of the old master: a replica now
        assert await fast.execute("SET", key, "2") == b"OK"  # MOVED to the new master
        for _ in range(100):  # the new master's replica (the old master) is online
            if await fast.replicated(key, 1, 1000) == 1:
                break
            await asyncio.sleep(0.1)
        assert await fast.replicated(key, 1, 1000) == 1
    finally:
        await fast.aclose()
