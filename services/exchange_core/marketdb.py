"""The market history read side: klines, trades, aggregate trades, 24h ticker, average price.

For the REST gateway and the WebSocket tier, over the tables of migrations/002_history.sql.
Every function takes an asyncpg connection (or pool connection); integers out (smallest units;
prices in quote units per whole base unit), all times in ms since the epoch.

On TimescaleDB, klines and the 24h ticker read the continuous aggregates (with real-time
aggregation, so the newest trades count at once); on plain PostgreSQL they are computed from
raw trades with date_bin. Which one is there is asked once per connection.

Choices where Binance's behaviour depends on data we do not keep:
- klines: only candles that have trades are returned (Binance also returns empty candles of
  liquid markets). `limit` counts returned candles.
- ticker_24h: with no trade in the window, volume and count are 0, open/high/low are 0, `last`
  is the last trade's price and first_id/last_id are -1 (as Binance).
"""

from typing import NamedTuple
from weakref import WeakKeyDictionary

from asyncpg import Record

from exchange_core import klinesql
from exchange_core.aggtrades import SELL, AggTrade, aggregates_backward, aggregates_forward
from exchange_core.db import Conn
from exchange_core.klines import DAY, INTERVALS, MINUTE, Kline, has_aggregate
from exchange_core.klinesql import from_ms, to_ms

__all__ = [
    "AggTrade",
    "Kline",
    "Ticker24h",
    "TradeRow",
    "agg_trades",
    "avg_price",
    "has_aggregates",
    "klines",
    "recent_trades",
    "ticker_24h",
    "trades_from",
    "window_ticker",
]


class TradeRow(NamedTuple):
    id: int
    price: int
    qty: int
    quote_qty: int
    time: int
    is_buyer_maker: bool


class Ticker24h(NamedTuple):
    open: int
    high: int
    low: int
    last: int
    volume: int
    quote_volume: int
    count: int  # type: ignore[assignment]  # Binance's name; shadows tuple.count
    first_id: int
    last_id: int
    open_time: int
    close_time: int
    prev_close: int


_AGGREGATES: "WeakKeyDictionary[object, bool]" = WeakKeyDictionary()


async def has_aggregates(conn: Conn) -> bool:
    """Are the TimescaleDB kline aggregates there? Asked once per (pooled) connection."""
    raw = getattr(conn, "_con", None) or conn  # a pool's proxy: remember the real connection
    known = _AGGREGATES.get(raw)
    if known is None:
        known = bool(
            await conn.fetchval(
                "SELECT to_regclass('klines_1m') IS NOT NULL"
                " AND EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')"
            )
        )
        _AGGREGATES[raw] = known
    return known


# ---------------------------------------------------------------------------------- klines


async def klines(
    conn: Conn,
    symbol: str,
    interval: str,
    start_ms: int | None,
    end_ms: int | None,
    limit: int,
    offset: int = 0,
) -> list[Kline]:
    """Candles of `symbol` oldest first, as Binance's /api/v3/klines selects them.

    A candle is selected by its open time: at or after `start_ms`, at or before `end_ms`.
    With `start_ms`: the first `limit` from there; otherwise the last `limit` up to `end_ms` (or
    the latest). `offset`: the time zone, ms ahead of UTC (klines.time_zone_offset); buckets
    start on its local boundaries, times stay UTC; 1s candles always come from raw trades.
    Raises ValueError for an interval Binance does not have.
    """
    base = INTERVALS.get(interval)
    if base is None:
        raise ValueError(f"unknown kline interval {interval!r}")
    iv = base.zoned(offset)
    if limit <= 0:
        return []
    span_row = await conn.fetchrow("SELECT min(time), max(time) FROM trades WHERE symbol = $1", symbol)
    if span_row is None or span_row[0] is None:
        return []
    lo = iv.floor(to_ms(span_row[0]))
    hi = iv.shift(iv.floor(to_ms(span_row[1])), 1)
    if start_ms is not None:
        lo = max(lo, iv.ceil(start_ms))
    if end_ms is not None:
        hi = min(hi, iv.shift(iv.floor(end_ms), 1))
    if lo >= hi:
        return []
    use_aggregates = has_aggregate(iv) and await has_aggregates(conn)
    forward = start_ms is not None
    span = limit
    while True:
        span = min(span, iv.buckets(lo, hi))
        window = (lo, iv.shift(lo, span)) if forward else (iv.shift(hi, -span), hi)
        rows = await klinesql.fetch_klines(conn, symbol, iv, *window, use_aggregates)
        if len(rows) >= limit or span >= iv.buckets(lo, hi):
            return rows[:limit] if forward else rows[-limit:]
        span *= 4


# ---------------------------------------------------------------------------------- trades

_TRADE_COLUMNS = "id, price, qty, quote_qty, time, taker_side"


def _trade(r: Record) -> TradeRow:
    return TradeRow(r["id"], r["price"], r["qty"], r["quote_qty"], to_ms(r["time"]), r["taker_side"] == SELL)


async def recent_trades(conn: Conn, symbol: str, limit: int) -> list[TradeRow]:
    """The newest `limit` trades, oldest first."""
    rows = await conn.fetch(
        f"SELECT {_TRADE_COLUMNS} FROM trades WHERE symbol = $1 ORDER BY id DESC LIMIT $2", symbol, limit
    )
    return [_trade(r) for r in reversed(rows)]


async def trades_from(conn: Conn, symbol: str, from_id: int, limit: int) -> list[TradeRow]:
    """Up to `limit` trades with id >= `from_id`, oldest first (Binance historicalTrades)."""
    rows = await conn.fetch(
        f"SELECT {_TRADE_COLUMNS} FROM trades WHERE symbol = $1 AND id >= $2 ORDER BY id LIMIT $3",
        symbol,
        from_id,
        limit,
    )
    return [_trade(r) for r in rows]


# ---------------------------------------------------------------------------------- tickers


async def ticker_24h(conn: Conn, symbol: str, now_ms: int) -> Ticker24h | None:
    """Statistics of the trades in the rolling window [now_ms - 24h, now_ms]; None if `symbol`
    never traded (up to now_ms). `prev_close` is the last price before the window (0 if none)."""
    return await window_ticker(conn, symbol, now_ms - DAY, now_ms)


async def window_ticker(conn: Conn, symbol: str, open_ms: int, now_ms: int) -> Ticker24h | None:
    """Statistics of the trades with open_ms <= time <= now_ms (Binance's rolling-window and
    trading-day tickers, and ticker_24h); open_time/close_time are open_ms/now_ms. None if
    `symbol` never traded up to now_ms; without a trade in the window, as ticker_24h."""
    stats = await klinesql.window_stats(conn, symbol, open_ms, now_ms, await has_aggregates(conn))
    prev_close = await conn.fetchval(
        "SELECT price FROM trades WHERE symbol = $1 AND time < $2 ORDER BY time DESC, id DESC LIMIT 1",
        symbol,
        from_ms(open_ms),
    )
    if stats is None:
        if prev_close is None:
            return None
        return Ticker24h(0, 0, 0, prev_close, 0, 0, 0, -1, -1, open_ms, now_ms, prev_close)
    return Ticker24h(
        stats.open, stats.high, stats.low, stats.close, stats.volume, stats.quote_volume, stats.trades,
        stats.first_id, stats.last_id, open_ms, now_ms, prev_close or 0,
    )  # fmt: skip


async def avg_price(conn: Conn, symbol: str, now_ms: int, minutes: int = 5) -> int | None:
    """Volume-weighted average price of the trades in (now_ms - minutes, now_ms], rounded down;
    None without trades there. sum(price * qty) / sum(qty) is exact in numeric."""
    row = await conn.fetchrow(
        "SELECT sum(price::numeric * qty), sum(qty) FROM trades"
        " WHERE symbol = $1 AND time > $2 AND time <= $3",
        symbol,
        from_ms(now_ms - minutes * MINUTE),
        from_ms(now_ms),
    )
    if row is None or not row[1]:
        return None
    return int(row[0]) // int(row[1])


async def agg_trades(
    conn: Conn, symbol: str, from_id: int | None, start_ms: int | None, end_ms: int | None, limit: int
) -> list[AggTrade]:
    """Binance aggTrades, oldest first: consecutive trades of the same taker order at the same
    price make one aggregate, whose id is its first trade's id.

    `from_id`: aggregates whose id >= from_id (a group begun before from_id is not cut). Else
    `start_ms`: aggregates at or after it. Either way the first `limit`, none after `end_ms`.
    With neither: the last `limit` aggregates up to `end_ms` (or the latest).
    """
    if limit <= 0:
        return []
    end = from_ms(end_ms) if end_ms is not None else None
    if from_id is not None:
        return await aggregates_forward(conn, symbol, from_id, True, end, limit)
    if start_ms is not None:
        first = await conn.fetchval(
            "SELECT id FROM trades WHERE symbol = $1 AND time >= $2 ORDER BY time, id LIMIT 1",
            symbol,
            from_ms(start_ms),
        )
        return [] if first is None else await aggregates_forward(conn, symbol, first, False, end, limit)
    return await aggregates_backward(conn, symbol, end, limit)
