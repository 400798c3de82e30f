"""The DB processor alone, against its floor: engine event batches worth ~200,000 trades
given to the writer (`python -m dbwriter`) in evt:{BTCUSDT} at once (bench.common.swap_in_streams):
time until its consumer group has written and acked them all into the machine's PostgreSQL.
Checks the database holds every trade once and every order.

The floor, right before ours in a database of its own (same migrations): asyncpg COPY of the same
rows straight into the same tables (trades, orders), one transaction per read of the writer's
batch size, the rows precomputed with the writer's own code (dbwriter.rows). Each trade and each
order is written once, in the state its batch leaves it (ours also updates the rows of orders
accepted in an earlier batch). No Redis, no decoding, no staging or merge. Target: ours >= 70%
of the floor's trades/s."""

import asyncio
import os
import tempfile
import time
from pathlib import Path

import asyncpg
from redis.asyncio import Redis

from bench.common import (
    CpuMeter,
    backend_pids,
    cpu_seconds,
    delete_prefix,
    drop_database,
    fresh_database,
    group_state,
    new_prefix,
    swap_in_streams,
)
from bench.results import Figure, add
from bench.workload import BUY, CANCEL, generate
from dbwriter.copyformat import decode_rows
from dbwriter.rows import ORDER_COLUMNS, TRADE_COLUMNS, HistoryRows
from dbwriter.settings import DbWriterSettings
from dbwriter.store import ORDER_TABLE_COLUMNS, TRADE_TABLE_COLUMNS
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


async def writer_state(redis: Redis, key: str) -> tuple[int, int]:
    """(lag, pending) of the dbwriter group on `key`; (-1, -1) before it exists."""
    return await group_state(redis, key, "dbwriter")


def floor_rows(
    entries: list[bytes], batch: int
) -> list[tuple[list[tuple[object, ...]], list[tuple[object, ...]]]]:
    """Per batch of `batch` entries: its trade rows and the rows of the orders it accepted, in
    the tables' columns."""
    out = []
    for i in range(0, len(entries), batch):
        rows = HistoryRows()
        for data in entries[i : i + batch]:
            rows.add_entry(data)
        new_orders = rows.orders_payloads()[0]
        out.append(
            (decode_rows(rows.trades_payload(), TRADE_COLUMNS), decode_rows(new_orders, ORDER_COLUMNS))
        )
    return out


async def run_floor(entries: list[bytes], trades: int, accepted: int) -> dict[str, float]:
    """The floor in a fresh database: COPY of the precomputed rows, one transaction per batch."""
    batches = floor_rows(entries, DbWriterSettings.model_fields["batch_size"].default)
    dsn = await asyncio.to_thread(fresh_database)
    try:
        conn = await asyncpg.connect(dsn)
        try:
            meter = CpuMeter({"floor": os.getpid(), "postgres": conn.get_server_pid()})
            meter.start()
            start = time.perf_counter()
            for trade_rows, order_rows in batches:
                async with conn.transaction():
                    await conn.copy_records_to_table(
                        "trades", records=trade_rows, columns=TRADE_TABLE_COLUMNS
                    )
                    await conn.copy_records_to_table(
                        "orders", records=order_rows, columns=ORDER_TABLE_COLUMNS
                    )
            elapsed = time.perf_counter() - start
            cpu = meter.stop()
            stored = await conn.fetchval("SELECT count(*) FROM trades")
            orders = await conn.fetchval("SELECT count(*) FROM orders")
        finally:
            await conn.close()
    finally:
        await asyncio.to_thread(drop_database, dsn)
    assert (stored, orders) == (trades, accepted), (stored, orders, trades, accepted)
    return {"trades": trades, "seconds": elapsed, "per_second": trades / elapsed, **cpu}


async def run(n_commands: int, dsn: str) -> tuple[dict[str, float], dict[str, float]]:
    """The floor, then ours, on the same event entries."""
    entries, trades, accepted = event_entries(n_commands)
    floor = await run_floor(entries, trades, accepted)
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
        while (await writer_state(redis, stream))[0] < 0:
            await asyncio.sleep(0.05)
        writer = supervisor.services["dbwriter"].process
        assert writer is not None
        # The writer's backends: those open now, and those its pool opens during the run (from 0).
        backends = {pid: cpu_seconds(pid) for pid in await backend_pids(dsn)}
        writer_cpu = cpu_seconds(writer.pid)
        start = await swap_in_streams(redis, "dbwriter", "e", {stream: entries}, [writer])
        while await writer_state(redis, stream) != (0, 0):
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
        backend_cpu = sum(cpu_seconds(pid) - backends.get(pid, 0.0) for pid in await backend_pids(dsn))
        cpu = {"dbwriter": cpu_seconds(writer.pid) - writer_cpu, "postgres": backend_cpu}
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
    ours = {
        "trades": trades,
        "entries": len(entries),
        "seconds": elapsed,
        "per_second": trades / elapsed,
        **cpu,
    }
    return ours, floor


def main(n_commands: int = 575_000) -> dict[str, float]:
    dsn = fresh_database()
    try:
        result, floor = asyncio.run(run(n_commands, dsn))
    finally:
        drop_database(dsn)
    print(f"== DB processor ({SYMBOL} into PostgreSQL, one process): {int(result['trades']):,} trades")
    print(
        f"   {result['per_second']:,.0f} trades/s ({result['seconds']:.2f} s for "
        f"{int(result['entries']):,} event batches of {COMMANDS_PER_ENTRY} commands)"
    )
    print(
        f"   floor (asyncpg COPY of the same rows into trades and orders, one transaction per batch): "
        f"{floor['per_second']:,.0f} trades/s ({floor['seconds']:.2f} s)"
    )
    per_trade = {
        "ours": {p: result[p] * 1000 / result["trades"] for p in ("dbwriter", "postgres")},
        "floor": {p: floor[p] * 1000 / floor["trades"] for p in ("floor", "postgres")},
    }
    print(
        "   CPU ms per trade: ours {:.4f} writer + {:.4f} PostgreSQL, floor {:.4f} client + {:.4f} "
        "PostgreSQL".format(*per_trade["ours"].values(), *per_trade["floor"].values())
    )
    add(
        Figure(
            "db_processor",
            "trades",
            result["per_second"],
            floor["per_second"],
            0.70,
            cpu_ms_per_unit=per_trade,
        )
    )
    return result


if __name__ == "__main__":
    main()
