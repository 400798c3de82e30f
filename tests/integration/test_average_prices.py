"""The gateway's cached average prices (PERCENT_PRICE_BY_SIDE) on the real PostgreSQL: the
5-minute volume-weighted average, read once per second per market, and no average (the filter not
applied) when the database does not answer."""

import time
from datetime import UTC, datetime

from exchange_core.db import create_pool
from gateway.avgprices import AveragePrices


async def test_average_is_read_once_per_ttl_and_none_without_trades(pg_dsn: str) -> None:
    pool = await create_pool(pg_dsn)
    symbol = f"AVG{time.time_ns() % 10**9}"
    now = int(time.time() * 1000)
    clock = [now]
    try:
        prices = AveragePrices(pool, ttl_ms=1_000, clock=lambda: clock[0])
        assert await prices.get(symbol) is None  # no trade in the window
        at = datetime.fromtimestamp((now - 1_000) / 1000, UTC)
        for seq, (price, qty) in enumerate([(30_000 * 10**8, 1), (33_000 * 10**8, 2)], start=1):
            await pool.execute(
                "INSERT INTO trades (symbol, id, time, price, qty, quote_qty, taker_side, maker_order_id,"
                " taker_order_id, maker_user_id, taker_user_id, maker_fee, taker_fee, seq)"
                " VALUES ($1, $2, $3, $4, $5, $6, 1, 1, 2, 1, 2, 0, 0, $2)",
                symbol, seq, at, price, qty, price * qty,
            )  # fmt: skip
        assert await prices.get(symbol) is None  # cached for the second
        clock[0] += 1_000
        assert await prices.get(symbol) == 32_000 * 10**8  # (30000 + 2 * 33000) / 3
    finally:
        await pool.execute("DELETE FROM trades WHERE symbol = $1", symbol)
        await pool.close()


async def test_a_database_that_does_not_answer_gives_no_average(pg_dsn: str) -> None:
    pool = await create_pool(pg_dsn)
    try:
        await pool.execute("SELECT 1")
        prices = AveragePrices(pool, timeout_s=0.2)
        await pool.close()  # acquiring from a closed pool fails as a lost database does
        started = time.monotonic()
        assert await prices.get("BTCUSDT") is None
        assert time.monotonic() - started < 5
    finally:
        await pool.close()
