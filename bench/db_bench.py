"""The DB processor alone: engine event batches worth ~200,000 trades pre-filled in
evt:{BTCUSDT} while the writer (`python -m dbwriter`) is paused (SIGSTOP), then resumed: time
until its consumer group has written and acked them all into the machine's PostgreSQL.
Checks the database holds every trade once and every order. Target: >= 30,000 trades/s."""

import asyncio
import signal
import tempfile
import time
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from bench.common import delete_prefix, drop_database, fresh_database, new_prefix
from bench.workload import BUY, CANCEL, generate
from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from exchange_core.wire import encode_batch, encode_event
from launcher.supervisor import Supervisor
from matching import (
    CancelOrder,
    Command,
    MatchingEngine,
    OrderAccepted,
    OrderType,
    PlaceOrder,
    StpMode,
    TimeInForce,
    Trade,
)

REDIS_URL = "redis://127.0.0.1:6379/0"
SYMBOL = "BTCUSDT"
COMMANDS_PER_ENTRY = 100  # as an engine batch under load
T0 = 1_767_571_200_000


def event_entries(n_commands: int) -> tuple[list[bytes], int, int]:
    """The evt:{SYMBOL} entries of a seeded workload run through the matching core; with the
    number of trades and of accepted orders in them."""
    spec = load_markets()[SYMBOL].spec
    workload = generate(n_commands, seed=13, warmup=0)
    owner: dict[int, int] = {}
    commands: list[Command] = []
    for i, op in enumerate(workload.ops):
        ts = T0 + i * 2  # 500 commands a second: the trades span several hours of candles
        if op.kind == CANCEL:
            commands.append(CancelOrder(SYMBOL, owner[op.order_id], op.order_id, "", ts))
            continue
        owner[op.order_id] = op.user
        price, qty = op.price * spec.tick_units, op.qty * spec.step_units * 100
        reserve = spec.notional(price, qty) if op.side == BUY else qty
        commands.append(
            PlaceOrder(SYMBOL, op.order_id, op.user, op.side, OrderType.LIMIT, TimeInForce.GTC, price, qty, 0,
                       reserve, StpMode.NONE, f"c{op.order_id}", ts)
        )  # fmt: skip
    engine = MatchingEngine(spec)
    entries: list[bytes] = []
    trades = accepted = 0
    for i in range(0, len(commands), COMMANDS_PER_ENTRY):
        events = [e for c in commands[i : i + COMMANDS_PER_ENTRY] for e in engine.apply(c)]
        trades += sum(1 for e in events if type(e) is Trade)
        accepted += sum(1 for e in events if type(e) is OrderAccepted)
        entries.append(encode_batch(SYMBOL, [encode_event(e) for e in events], f"{i}-0"))
    return entries, trades, accepted


async def group_state(redis: Redis, key: str) -> tuple[int, int]:
    """(lag, pending) of the dbwriter group on `key`; (-1, -1) before it exists."""
    if not await redis.exists(key):
        return -1, -1
    for group in await redis.xinfo_groups(key):
        if group["name"] == b"dbwriter":
            return int(group["lag"] or 0), int(group["pending"])
    return -1, -1


async def run(n_commands: int, dsn: str) -> dict[str, float]:
    entries, trades, accepted = event_entries(n_commands)
    prefix = new_prefix()
    stream = Keys(prefix).events(SYMBOL)
    redis = Redis.from_url(REDIS_URL)
    supervisor = Supervisor(
        {"REDIS_URL": REDIS_URL, "DATABASE_URL": dsn, "KEY_PREFIX": prefix, "LOG_LEVEL": "WARNING"},
        Path(tempfile.mkdtemp(prefix="bench-dbwriter-")),
    )
    supervisor.add("dbwriter", "dbwriter")
    supervisor.start_all()
    try:
        while (await group_state(redis, stream))[0] < 0:
            await asyncio.sleep(0.05)
        supervisor.kill("dbwriter", signal.SIGSTOP)
        for i in range(0, len(entries), 500):
            pipe = redis.pipeline(transaction=False)
            for data in entries[i : i + 500]:
                pipe.xadd(stream, {"e": data})
            await pipe.execute()
        start = time.perf_counter()
        supervisor.kill("dbwriter", signal.SIGCONT)
        while await group_state(redis, stream) != (0, 0):
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
    finally:
        supervisor.stop_all()
        await redis.aclose()
        await delete_prefix(REDIS_URL, prefix)
    conn = await asyncpg.connect(dsn)
    try:
        stored = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT seq), max(id) FROM trades WHERE symbol = $1", SYMBOL
        )
        orders = await conn.fetchval("SELECT count(*) FROM orders WHERE symbol = $1", SYMBOL)
    finally:
        await conn.close()
    assert tuple(stored) == (trades, trades, trades), (tuple(stored), trades)
    assert orders == accepted, (orders, accepted)
    return {"trades": trades, "entries": len(entries), "seconds": elapsed, "per_second": trades / elapsed}


def main(n_commands: int = 575_000) -> dict[str, float]:
    dsn = fresh_database()
    try:
        result = asyncio.run(run(n_commands, dsn))
    finally:
        drop_database(dsn)
    print(f"== DB processor ({SYMBOL} into PostgreSQL, one process): {int(result['trades']):,} trades")
    print(
        f"   {result['per_second']:,.0f} trades/s ({result['seconds']:.2f} s for "
        f"{int(result['entries']):,} event batches of {COMMANDS_PER_ENTRY} commands; target >= 30,000)"
    )
    return result


if __name__ == "__main__":
    main()
