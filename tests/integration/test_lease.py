"""Leases on the real Redis: exclusive acquisition, renewal, expiry and takeover with a higher
token, and a former holder's writes refused by the fence."""

import asyncio

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.lease import CommandTooLong, Fenced, Lease, LeaseSettings, chunked
from exchange_core.lease_telemetry import LeaseCollector
from exchange_core.pipelined import PipelinedRedis

TIMING = LeaseSettings(lease_ttl_ms=300, lease_renew_ms=100, lease_poll_ms=20)


def lease(redis: "Redis[bytes]", keys: Keys, name: str, timing: LeaseSettings = TIMING) -> Lease:
    return Lease(redis, keys, "BTCUSDT", "engine", timing, holder=name)


async def test_only_one_holder_at_a_time_and_tokens_grow(redis: "Redis[bytes]", keys: Keys) -> None:
    a, b = lease(redis, keys, "a"), lease(redis, keys, "b")
    assert await a.try_acquire()
    assert not await b.try_acquire()
    assert a.held() and not b.held()
    assert a.token == 1
    assert (await redis.get(keys.lease("BTCUSDT", "engine"))) == b"1:a"
    await a.release()
    assert not a.held()
    assert await b.try_acquire()
    assert b.token == 2


async def test_renewal_keeps_the_lease_past_its_ttl(redis: "Redis[bytes]", keys: Keys) -> None:
    a, b = lease(redis, keys, "a"), lease(redis, keys, "b")
    assert await a.try_acquire()
    keeper = asyncio.create_task(a.keep())
    try:
        await asyncio.sleep(1.0)  # more than three TTLs
        assert a.held()
        assert not await b.try_acquire()
        assert 0 < await redis.pttl(keys.lease("BTCUSDT", "engine")) <= 300
    finally:
        keeper.cancel()


async def test_expiry_lets_a_standby_take_over_and_fences_the_former_holder(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    a, b = lease(redis, keys, "a"), lease(redis, keys, "b")
    target = keys.depth("BTCUSDT")
    assert await a.try_acquire()
    assert await a.write([target], [("SET", target, "from-a")]) == 1
    stop = asyncio.Event()
    standby = asyncio.create_task(b.acquire(stop))
    await asyncio.sleep(0.1)
    assert not standby.done()  # a holds it: b waits
    assert await asyncio.wait_for(standby, 2.0)  # a never renews: the TTL passes, b takes over
    assert b.token > a.token
    assert not a.held()  # a's local view ran out with its TTL
    with pytest.raises(Fenced):
        await a.write([target], [("SET", target, "from-a-late"), ("DEL", target)])
    assert a.lost.is_set()
    assert await redis.get(target) == b"from-a"  # nothing of the refused write ran
    assert not await a.renew()
    assert await b.write([target], [("SET", target, "from-b")]) == 1
    assert await redis.get(target) == b"from-b"


async def test_a_lapsed_lease_nobody_took_is_held_again_with_the_same_token(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    a = lease(redis, keys, "a")
    target = keys.depth("BTCUSDT")
    assert await a.try_acquire()
    await asyncio.sleep(0.4)  # lapsed in Redis too
    assert await redis.exists(keys.lease("BTCUSDT", "engine")) == 0
    assert await a.write([target], [("SET", target, "again")]) == 1
    assert await redis.get(keys.lease("BTCUSDT", "engine")) == b"1:a"
    assert await a.renew()


async def test_a_kept_lease_is_lost_when_another_holder_took_it(redis: "Redis[bytes]", keys: Keys) -> None:
    a, b = lease(redis, keys, "a"), lease(redis, keys, "b")
    assert await a.try_acquire()
    await redis.delete(keys.lease("BTCUSDT", "engine"))  # as if it expired while a was paused
    assert await b.try_acquire()
    keeper = asyncio.create_task(a.keep())
    await asyncio.wait_for(a.lost.wait(), 1.0)
    assert keeper.done() or await asyncio.wait_for(keeper, 1.0) is None
    assert b.held()


def exported(lease: Lease) -> dict[str, float | None]:
    """The lease samples a process holding only `lease` exports, by metric name."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(LeaseCollector(lambda: [lease]))
    labels = {"role": "engine", "partition": "BTCUSDT"}
    names = ("exchange_lease_held", "exchange_lease_token")
    names += ("exchange_lease_acquired_total", "exchange_lease_lost_total")
    return {name: registry.get_sample_value(name, labels) for name in names}


async def test_lease_metrics_follow_acquisition_loss_and_release(redis: "Redis[bytes]", keys: Keys) -> None:
    a, b = lease(redis, keys, "a"), lease(redis, keys, "b")
    assert exported(a) == {
        "exchange_lease_held": 0,
        "exchange_lease_token": 0,
        "exchange_lease_acquired_total": 0,
        "exchange_lease_lost_total": 0,
    }
    assert await a.try_acquire()
    assert not await b.try_acquire()
    assert exported(a) == {
        "exchange_lease_held": 1,
        "exchange_lease_token": 1,
        "exchange_lease_acquired_total": 1,
        "exchange_lease_lost_total": 0,
    }
    assert exported(b)["exchange_lease_held"] == 0 and exported(b)["exchange_lease_token"] == 0
    await asyncio.sleep(0.4)  # a never renews: its TTL passes and b takes the lease
    assert await b.try_acquire()
    target = keys.depth("BTCUSDT")
    with pytest.raises(Fenced):
        await a.write([target], [("SET", target, "from-a-late")])
    assert exported(a) == {
        "exchange_lease_held": 0,
        "exchange_lease_token": 0,
        "exchange_lease_acquired_total": 1,
        "exchange_lease_lost_total": 1,
    }
    assert exported(b) == {
        "exchange_lease_held": 1,
        "exchange_lease_token": 2,
        "exchange_lease_acquired_total": 1,
        "exchange_lease_lost_total": 0,
    }
    await b.release()  # a clean stop gives the lease up: not a loss
    assert exported(b)["exchange_lease_held"] == 0 and exported(b)["exchange_lease_lost_total"] == 0
    assert await a.try_acquire()
    assert exported(a)["exchange_lease_token"] == 3 and exported(a)["exchange_lease_acquired_total"] == 2


async def test_a_write_via_the_pipelined_connection_is_fenced_and_chunks_long_commands(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    a, b = lease(redis, keys, "a"), lease(redis, keys, "b")
    fast = PipelinedRedis.like(redis)
    target = keys.pending_reservations("BTCUSDT")
    members = [f"m{i}" for i in range(9_000)]  # past what lease.lua's unpack takes in one command
    await redis.zadd(target, dict.fromkeys(members, 1))
    assert await a.try_acquire()
    with pytest.raises(CommandTooLong):  # refused before anything is sent
        await a.write([target], [("ZREM", target, *members)], via=fast)
    assert await redis.zcard(target) == 9_000
    commands = chunked("ZREM", target, members[:8_500])
    assert [len(c) for c in commands] == [1_002] * 8 + [502]
    assert await a.write([target], commands, via=fast) == 9
    assert await redis.zrange(target, 0, -1) == [m.encode() for m in members[8_500:]]
    await redis.delete(keys.lease("BTCUSDT", "engine"))  # a's lease lapses and b takes it
    assert await b.try_acquire()
    with pytest.raises(Fenced):
        await a.write([target], chunked("ZREM", target, members), via=fast)
    assert a.lost.is_set()
    assert await redis.zcard(target) == 500
    await redis.script_flush()  # a Redis that lost its scripts: loaded again
    assert await b.write([target], chunked("ZREM", target, members), via=fast) == 9
    assert await redis.zcard(target) == 0
    await fast.aclose()
