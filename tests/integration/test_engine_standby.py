"""Two engines for one market on the real Redis: the second is a standby that writes nothing,
follows the holder's book (hot standby), and takes over without duplicating an event."""

import asyncio

from redis.asyncio import Redis

from engine.service import EngineService
from exchange_core.keys import Keys
from tests.integration.test_engine_service import SPEC, all_events, append, commands_stream, settings


async def wait_for(condition: object, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def lease_samples(engine: EngineService) -> tuple[float | None, float | None]:
    """(exchange_lease_held, exchange_lease_token) of `engine`'s /metrics registry."""
    labels = {"role": "engine", "partition": "BTCUSDT"}
    registry = engine.metrics.registry
    return (
        registry.get_sample_value("exchange_lease_held", labels),
        registry.get_sample_value("exchange_lease_token", labels),
    )


async def test_a_standby_writes_nothing_follows_the_book_and_takes_over(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str
) -> None:
    timing = {"lease_ttl_ms": 500, "lease_renew_ms": 100, "lease_poll_ms": 20}
    owner = EngineService(settings(key_prefix, **timing), redis, SPEC)
    standby = EngineService(settings(key_prefix, **timing), redis, SPEC)
    commands = commands_stream()
    half = len(commands) // 2
    owner_stop, standby_stop = asyncio.Event(), asyncio.Event()
    owner_task = asyncio.create_task(owner.run(owner_stop))
    await wait_for(owner.lease.held)
    standby_task = asyncio.create_task(standby.run(standby_stop))
    for command in commands[:half]:
        await append(redis, keys, command)
    await wait_for(lambda: owner.processed == half)
    await asyncio.sleep(0.2)  # several standby polls
    assert not standby.lease.held() and standby.processed == 0 and standby.events_written == 0
    assert lease_samples(owner) == (1, owner.lease.token) and lease_samples(standby) == (0, 0)
    # hot: the standby's book is the owner's, without having written anything
    await wait_for(lambda: standby.engine.state_hash() == owner.engine.state_hash())
    events_before = await all_events(redis, keys)
    assert len(events_before) == owner.events_written

    owner_stop.set()  # a clean stop releases the lease
    await owner_task
    await wait_for(standby.lease.held)
    assert lease_samples(owner) == (0, 0) and lease_samples(standby) == (1, standby.lease.token)
    for command in commands[half:]:
        await append(redis, keys, command)
    await wait_for(
        lambda: standby.engine.seq > owner.engine.seq and standby.processed >= len(commands) - half
    )
    standby_stop.set()
    await standby_task

    events = await all_events(redis, keys)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # type: ignore[attr-defined]
    assert events[: len(events_before)] == events_before
    assert standby.lease.token > owner.lease.token
    groups = {g["name"]: g for g in await redis.xinfo_groups(keys.commands("BTCUSDT"))}
    assert groups[b"engine"]["pending"] == 0 and groups[b"engine"]["lag"] == 0
