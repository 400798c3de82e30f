"""Settlement on the real Redis: exactly-once application and the orphaned-reservation sweeper."""

import asyncio

from redis.asyncio import Redis

from engine.service import EngineService
from engine.settings import EngineSettings
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import load_markets
from exchange_core.protocol import encode_command
from matching import OrderType, PlaceOrder, Side, StpMode, TimeInForce
from settlement.service import SettlementService
from settlement.settings import SettlementSettings

MARKETS = load_markets()
SPEC = MARKETS["BTCUSDT"].spec
PRICE = 30_000 * 10**8
QTY = 10**6  # 0.01 BTC


def settlement(prefix: str, **extra: float) -> SettlementService:
    settings = SettlementSettings(key_prefix=prefix, block_ms=50, **extra)  # type: ignore[arg-type]
    return SettlementService(settings, Redis.from_url("redis://127.0.0.1:6379/0"), MARKETS)


async def run_engine_once(prefix: str) -> None:
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    service = EngineService(EngineSettings(symbol="BTCUSDT", key_prefix=prefix, block_ms=50), redis, SPEC)
    assert await service.lease.try_acquire()
    await service.recover()
    await service.lease.release()
    await redis.aclose()


async def place(redis: Redis, keys: Keys, ledger: Ledger, oid: int, user: int, side: Side) -> None:
    notional = SPEC.notional(PRICE, QTY)
    asset, amount = ("USDT", notional) if side == Side.BUY else ("BTC", QTY)
    await ledger.reserve(user, asset, amount, "BTCUSDT", oid, f"c{oid}", now_ms=1)
    command = PlaceOrder("BTCUSDT", oid, user, side, OrderType.LIMIT, TimeInForce.GTC, PRICE, QTY, 0, amount,
                         StpMode.NONE, f"c{oid}")  # fmt: skip
    await redis.xadd(keys.commands("BTCUSDT"), {"c": encode_command(command)})


async def settled_through(redis: Redis, keys: Keys, last_id: bytes) -> None:
    """Wait (30 s at most: a loaded machine) until BTCUSDT's settlement group has read `last_id`."""
    deadline = asyncio.get_running_loop().time() + 30
    while asyncio.get_running_loop().time() < deadline:
        groups = {g["name"]: g for g in await redis.xinfo_groups(keys.events("BTCUSDT"))}
        if b"settlement" in groups and groups[b"settlement"]["last-delivered-id"] == last_id:
            return
        await asyncio.sleep(0.02)


async def assert_trades_settled(ledger: Ledger, trades: int) -> None:
    """User 1 sold QTY to user 2 at PRICE `trades` times: each trade settled once, fees taken."""
    notional = SPEC.notional(PRICE, QTY)
    fee_base, fee_quote = QTY // 1000, notional // 1000
    assert await ledger.balances(1) == {"BTC": (0, 0), "USDT": (trades * (notional - fee_quote), 0)}
    assert await ledger.balances(2) == {
        "USDT": (10**12 - trades * notional, 0),
        "BTC": (trades * (QTY - fee_base), 0),
    }


async def test_a_trade_settles_once_even_when_redelivered(redis: Redis, keys: Keys, key_prefix: str) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(1, "BTC", QTY)
    await ledger.deposit(2, "USDT", 10**12)
    await place(redis, keys, ledger, 1, 1, Side.SELL)
    await place(redis, keys, ledger, 2, 2, Side.BUY)
    await run_engine_once(key_prefix)
    service = settlement(key_prefix)
    assert await service.claim() == list(MARKETS)
    entries = await redis.xrange(keys.events("BTCUSDT"))
    await service.settle("BTCUSDT", entries)
    first = (await ledger.balances(1), await ledger.balances(2), await ledger.balances(0))
    await service.settle("BTCUSDT", entries)  # a redelivery after a crash before the ack
    assert (await ledger.balances(1), await ledger.balances(2), await ledger.balances(0)) == first
    notional = SPEC.notional(PRICE, QTY)  # 300 USDT
    fee_base, fee_quote = QTY // 1000, notional // 1000
    assert first[0] == {"BTC": (0, 0), "USDT": (notional - fee_quote, 0)}
    assert first[1] == {"USDT": (10**12 - notional, 0), "BTC": (QTY - fee_base, 0)}
    assert first[2] == {"BTC": (fee_base, 0), "USDT": (fee_quote, 0)}
    assert await redis.zcard(keys.pending_reservations("BTCUSDT")) == 0
    await service.redis.aclose()


async def test_sweeper_releases_only_reservations_whose_command_never_arrived(
    redis: Redis, keys: Keys, key_prefix: str
) -> None:
    ledger = Ledger(redis, keys)
    await ledger.deposit(5, "USDT", 10**12)
    await place(redis, keys, ledger, 10, 5, Side.BUY)  # reaches the engine and rests
    # a gateway that died between reserving and appending the command:
    await ledger.reserve(5, "USDT", 777, "BTCUSDT", 11, "lost", now_ms=2)
    await run_engine_once(key_prefix)
    service = settlement(key_prefix, orphan_after_ms=0)
    assert await service.claim() == list(MARKETS)
    assert await service.sweep_orphans() == 0  # nothing settled yet: not caught up, wait
    await service.settle("BTCUSDT", await redis.xrange(keys.events("BTCUSDT")))
    assert await service.sweep_orphans() == 1
    notional = SPEC.notional(PRICE, QTY)
    assert await ledger.balances(5) == {
        "USDT": (10**12 - notional, notional)
    }  # the resting order keeps its lock
    assert await redis.hkeys(keys.reservations(5)) == [b"BTCUSDT:10"]
    assert await service.sweep_orphans() == 0
    await asyncio.sleep(0)
    await service.redis.aclose()


async def test_one_batch_confirming_more_than_8000_orders_settles(
    redis: Redis, keys: Keys, key_prefix: str
) -> None:
    """The reservations a batch confirms leave the pending index inside the fenced position
    write: thousands of them must not make one command too long for lease.lua's unpack."""
    orders = 8_200  # (a multiple of 10)
    ledger = Ledger(redis, keys)
    await ledger.deposit(7, "USDT", 10**15)
    notional = SPEC.notional(PRICE, QTY)
    for first in range(1, orders + 1, 10):
        await asyncio.gather(
            *(place(redis, keys, ledger, oid, 7, Side.BUY) for oid in range(first, first + 10))
        )
    assert await redis.zcard(keys.pending_reservations("BTCUSDT")) == orders
    await run_engine_once(key_prefix)
    service = settlement(key_prefix)
    assert await service.claim() == list(MARKETS)
    entries = await redis.xrange(keys.events("BTCUSDT"))
    await service.settle("BTCUSDT", entries)  # one batch: every order accepted and confirmed
    assert await redis.zcard(keys.pending_reservations("BTCUSDT")) == 0
    assert await ledger.balances(7) == {"USDT": (10**15 - orders * notional, orders * notional)}
    reservations = await redis.hvals(keys.reservations(7))
    assert len(reservations) == orders and all(r.endswith(b":active") for r in reservations)
    assert await redis.get(keys.settled_position("BTCUSDT")) is not None
    group = {g["name"]: g for g in await redis.xinfo_groups(keys.events("BTCUSDT"))}[b"settlement"]
    assert (group["last-delivered-id"], group["lag"]) == (entries[-1][0], 0)
    await service.partitions.release_all()
    await service.redis.aclose()


async def test_a_read_larger_than_batch_bytes_settles_in_batches_of_its_entries(
    redis: Redis, keys: Keys, key_prefix: str
) -> None:
    """A running worker cuts a read into batches of at most `batch_bytes` of events (here one
    entry each): every trade settles once and the position reaches the read's last entry."""
    ledger = Ledger(redis, keys)
    trades = 3
    await ledger.deposit(1, "BTC", trades * QTY)
    await ledger.deposit(2, "USDT", 10**12)
    for n in range(trades):  # an engine run per trade: an events entry each
        await place(redis, keys, ledger, 2 * n + 1, 1, Side.SELL)
        await place(redis, keys, ledger, 2 * n + 2, 2, Side.BUY)
        await run_engine_once(key_prefix)
    entries = await redis.xrange(keys.events("BTCUSDT"))
    assert len(entries) == trades
    # (the reservations are made at ms 1: no sweep may take them for orphans meanwhile)
    service = settlement(key_prefix, batch_bytes=1, orphan_after_ms=10**13)
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    try:
        await settled_through(redis, keys, entries[-1][0])
        assert service.applied_batches == trades  # one batch per entry, none settled twice
    finally:
        stop.set()
        await running
        await service.redis.aclose()
    await assert_trades_settled(ledger, trades)
    assert await redis.zcard(keys.pending_reservations("BTCUSDT")) == 0


async def test_entries_trickling_in_while_the_cpus_are_saturated_settle_once_in_fewer_batches(
    redis: Redis, keys: Keys, key_prefix: str
) -> None:
    """A running worker whose CPU pressure reads 100% (a stand-in) waits LINGER_MS after a read
    that did not fill its batch: events entries written one at a time are settled several to a
    batch, every trade once."""
    ledger = Ledger(redis, keys)
    trades = 6
    await ledger.deposit(1, "BTC", trades * QTY)
    await ledger.deposit(2, "USDT", 10**12)
    service = settlement(key_prefix, linger_ms=2_000, orphan_after_ms=10**13)
    lingering = service.lingers["BTCUSDT"]
    lingering.pressure = lambda: 1.0
    stop = asyncio.Event()
    running = asyncio.create_task(service.run(stop))
    try:
        for n in range(trades):  # an engine run per trade: an events entry each, one at a time
            await place(redis, keys, ledger, 2 * n + 1, 1, Side.SELL)
            await place(redis, keys, ledger, 2 * n + 2, 2, Side.BUY)
            await run_engine_once(key_prefix)
        entries = await redis.xrange(keys.events("BTCUSDT"))
        assert len(entries) == trades
        await settled_through(redis, keys, entries[-1][0])
        assert lingering.lingered > 0
        assert service.applied_batches < trades
    finally:
        stop.set()
        await running
        await service.redis.aclose()
    await assert_trades_settled(ledger, trades)
