"""Settlement workers under leases on the real Redis: the markets split between workers, a
standby worker writes nothing, a worker whose lease passed on is refused by the fence."""

import asyncio

import pytest
from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.lease import Fenced
from exchange_core.ledger import Ledger
from matching import Side
from tests.integration.test_settlement import MARKETS, place, run_engine_once, settlement

# A TTL several renewals long: a renewal late by a loaded machine's stall must not lose a lease.
TIMING = {"lease_ttl_ms": 1_000, "lease_renew_ms": 100, "lease_poll_ms": 20}


async def test_workers_split_the_markets_and_a_third_claims_nothing(key_prefix: str) -> None:
    first = settlement(key_prefix, workers=2, worker_index=0, **TIMING)
    second = settlement(key_prefix, workers=2, worker_index=1, **TIMING)
    extra = settlement(key_prefix, workers=2, worker_index=0, claim_after_ms=0, **TIMING)
    try:
        assert await first.claim() == ["BTCUSDT", "SOLUSDT"]
        assert await second.claim() == ["ETHUSDT", "ETHBTC"]
        assert await extra.claim() == []
        # What ExchangeLeaseUnheld sums: every worker exports every market's lease, one holds it.
        for symbol in MARKETS:
            held = [
                w.metrics.registry.get_sample_value(
                    "exchange_lease_held", {"role": "settlement", "partition": symbol}
                )
                for w in (first, second, extra)
            ]
            assert held == ([1, 0, 0] if symbol in ("BTCUSDT", "SOLUSDT") else [0, 1, 0]), symbol
    finally:
        for worker in (first, second, extra):
            worker.reset()
            await worker.redis.aclose()


async def test_a_worker_claims_a_market_left_free_past_claim_after(key_prefix: str) -> None:
    mine = settlement(key_prefix, workers=2, worker_index=0, claim_after_ms=200, **TIMING)
    try:
        assert await mine.claim() == ["BTCUSDT", "SOLUSDT"]  # worker 1 is missing
        await asyncio.sleep(0.25)
        assert await mine.claim() == ["ETHUSDT", "ETHBTC"]
    finally:
        mine.reset()
        await mine.redis.aclose()


async def balances(ledger: Ledger, users: list[int]) -> list[dict[str, tuple[int, int]]]:
    return [await ledger.balances(u) for u in [*users, 0]]


async def test_a_standby_writes_nothing_and_a_former_holder_is_fenced(
    redis: "Redis[bytes]", keys: Keys, key_prefix: str
) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(1, "BTC", 10**8)
    await ledger.deposit(2, "USDT", 10**12)
    await place(redis, keys, ledger, 1, 1, Side.SELL)
    await place(redis, keys, ledger, 2, 2, Side.BUY)
    await run_engine_once(key_prefix)
    entries = await redis.xrange(keys.events("BTCUSDT"))
    unsettled = await balances(ledger, [1, 2])

    holder = settlement(key_prefix, **TIMING)
    standby = settlement(key_prefix, **TIMING)
    assert await holder.claim() == list(MARKETS)
    stop = asyncio.Event()
    standby_run = asyncio.create_task(standby.run(stop))
    try:
        await asyncio.sleep(0.3)  # the holder renews nothing yet (its keeper runs), the standby polls
        assert standby.partitions.positions == {}
        assert await balances(ledger, [1, 2]) == unsettled
        assert await redis.get(keys.settled_position("BTCUSDT")) is None

        # The holder stops renewing (a pause): the standby takes every market and settles.
        for keeper in holder.partitions.keepers.values():
            keeper.cancel()
        deadline = asyncio.get_running_loop().time() + 30  # generous: a loaded machine
        while asyncio.get_running_loop().time() < deadline:
            taken = set(standby.partitions.positions) == set(MARKETS)
            if taken and await redis.get(keys.settled_position("BTCUSDT")) is not None:
                break
            await asyncio.sleep(0.02)
        assert set(standby.partitions.positions) == set(MARKETS)
        settled = await balances(ledger, [1, 2])
        assert settled != unsettled

        # The former holder resumes with the batch it had read: the fence refuses it.
        with pytest.raises(Fenced):
            await holder.settle("BTCUSDT", entries)
        assert await balances(ledger, [1, 2]) == settled
        groups = {g["name"]: g for g in await redis.xinfo_groups(keys.events("BTCUSDT"))}
        assert groups[b"settlement"]["last-delivered-id"] == entries[-1][0]
        assert groups[b"settlement"]["lag"] == 0 and groups[b"settlement"]["pending"] == 0
    finally:
        stop.set()
        await standby_run
        await standby.redis.aclose()
        holder.reset()
        await holder.redis.aclose()
