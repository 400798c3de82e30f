"""Engine snapshots written by a forked child, on the real Redis: what lands is the book exactly
at its command id, the loop goes on meanwhile, a failed child is reported and retried."""

import asyncio

import pytest
from redis.asyncio import Redis

from engine.service import EngineService
from engine.snapshots import SnapshotWriter
from exchange_core.keys import Keys
from exchange_core.lease import Fenced, Lease, LeaseSettings
from exchange_core.streamids import entry_ms
from matching import MatchingEngine
from tests.integration.test_engine_service import SPEC, append, commands_stream, settings


async def landed_snapshot(redis: "Redis[bytes]", keys: Keys, timeout_s: float = 5.0) -> dict[bytes, bytes]:
    for _ in range(int(timeout_s / 0.01)):
        snap = await redis.hgetall(keys.snapshot("BTCUSDT"))
        if snap:
            return snap
        await asyncio.sleep(0.01)
    raise AssertionError("no snapshot landed")


async def held_lease(redis: "Redis[bytes]", keys: Keys) -> Lease:
    lease = Lease(redis, keys, "BTCUSDT", "engine", LeaseSettings(lease_ttl_ms=60_000))
    assert await lease.try_acquire()
    return lease


def engine_after_commands() -> MatchingEngine:
    engine = MatchingEngine(SPEC)
    for command in commands_stream():
        engine.apply(command)
    return engine


def reference_state_hash(journal: list[tuple[bytes, object]], upto: bytes) -> str:
    """The state hash of a clean engine after the journal's commands up to entry `upto`."""
    engine = MatchingEngine(SPEC)
    for entry_id, command in journal:
        command.ts = entry_ms(entry_id)  # type: ignore[attr-defined]
        engine.apply(command)  # type: ignore[arg-type]
        if entry_id == upto:
            return engine.state_hash()
    raise AssertionError(f"{upto!r} is not in the journal")


async def test_forked_snapshot_holds_the_book_at_its_command_while_the_loop_goes_on(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str
) -> None:
    service = EngineService(settings(key_prefix, snapshot_every_commands=7), redis, SPEC)
    assert service.snapshots.fork
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    journal: list[tuple[bytes, object]] = []
    try:
        for command in commands_stream():  # one batch at a time
            journal.append((await append(redis, keys, command), command))
            while service.processed < len(journal):
                await asyncio.sleep(0.002)
        snap = await landed_snapshot(redis, keys)
        # Landed while the service is still running: the loop did not write it.
        assert not task.done()
        assert snap[b"state_hash"].decode() == reference_state_hash(journal, snap[b"command_id"])
        restored = MatchingEngine.restore(SPEC, snap[b"state"])
        assert restored.state_hash() == snap[b"state_hash"].decode()
        assert restored.seq == int(snap[b"seq"])
        for _ in range(500):
            if service.processed == len(journal) and not service.snapshots.busy:
                break
            await asyncio.sleep(0.01)
        assert service.processed == len(journal)
    finally:
        stop.set()
        await task
    written = service.metrics.snapshots
    assert written[True] >= 2 and written[False] == 0
    # On stop the last state is written too: the next process replays nothing.
    final = await redis.hgetall(keys.snapshot("BTCUSDT"))
    assert final[b"command_id"] == journal[-1][0]
    assert final[b"state_hash"].decode() == service.engine.state_hash()
    successor = EngineService(settings(key_prefix), redis, SPEC)
    assert await successor.lease.try_acquire()  # released by the first at its stop
    assert await successor.recover() == 0
    assert successor.engine.state_hash() == service.engine.state_hash()


async def test_a_failed_child_is_reported_and_the_next_snapshot_lands(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    engine = MatchingEngine(SPEC)
    for command in commands_stream()[:10]:
        engine.apply(command)
    snap_key = keys.snapshot("BTCUSDT")
    await redis.set(snap_key, b"not a hash")  # HSET fails with WRONGTYPE in the child
    lease = await held_lease(redis, keys)
    writer = SnapshotWriter(redis, lease, snap_key, keys.commands("BTCUSDT"), trim_journal=True, fork=True)
    writer.begin(engine, b"5-0")
    failed = writer.poll(block=True)
    assert failed is not None and not failed.ok and writer.landed_id == b"0-0"
    assert await redis.get(snap_key) == b"not a hash"

    await redis.delete(snap_key)
    writer.begin(engine, b"6-0")
    assert writer.busy
    landed = writer.poll(block=True)
    assert landed is not None and landed.ok and writer.landed_id == b"6-0" and not writer.busy
    assert (await redis.hget(snap_key, "state_hash") or b"").decode() == engine.state_hash()


async def test_forked_and_inline_snapshots_write_the_same_fields(redis: "Redis[bytes]", keys: Keys) -> None:
    engine = engine_after_commands()
    snap_key = keys.snapshot("BTCUSDT")
    lease = await held_lease(redis, keys)
    writer = SnapshotWriter(redis, lease, snap_key, keys.commands("BTCUSDT"), trim_journal=False, fork=True)
    writer.begin(engine, b"9-0")
    assert writer.poll(block=True) is not None
    forked = await redis.hgetall(snap_key)
    await redis.delete(snap_key)
    inline = await writer.write_inline(engine, b"9-0")
    assert inline.ok
    assert await redis.hgetall(snap_key) == forked
    assert forked[b"seq"] == str(engine.seq).encode()


async def test_a_snapshot_of_an_engine_that_lost_its_lease_is_refused(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    engine = engine_after_commands()
    snap_key = keys.snapshot("BTCUSDT")
    former = await held_lease(redis, keys)
    writer = SnapshotWriter(redis, former, snap_key, keys.commands("BTCUSDT"), trim_journal=False, fork=True)
    await redis.delete(keys.lease("BTCUSDT", "engine"))  # its TTL passed while it was paused
    successor = await held_lease(redis, keys)
    assert successor.token > former.token
    writer.begin(engine, b"9-0")
    refused = writer.poll(block=True)
    assert refused is not None and not refused.ok
    assert await redis.exists(snap_key) == 0
    with pytest.raises(Fenced):
        await writer.write_inline(engine, b"9-0")
    assert await redis.exists(snap_key) == 0
