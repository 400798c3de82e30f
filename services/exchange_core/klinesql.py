"""The SQL behind marketdb's candles and window statistics, from aggregates or from raw trades.

Three ways to build the candles of one time window [lo, hi) (bucket open times):
- an aggregate whose buckets are the interval's: read as it is;
- an aggregate with narrower buckets nested in the interval's: rolled up (open of the first,
  close of the last, extremes, sums);
- raw trades (plain PostgreSQL): grouped with date_bin (date_trunc for months); open and close
  are the prices of each bucket's first and last trade id (ids increase with time per symbol).
Taker-buy volumes are the sums over the trades whose taker bought (taker_side 1).
A time zone moves date_bin's origin; a month in it is date_trunc('month', t + offset, 'UTC') -
offset (the offset as milliseconds, so no day or DST arithmetic of the session's time zone).
"""

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from exchange_core.db import Conn
from exchange_core.klines import MINUTE, Interval, Kline, aggregate_for

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)


_MIN_MS = (datetime.min.replace(tzinfo=UTC) - EPOCH) // ONE_MS
_MAX_MS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // ONE_MS


def from_ms(ms: int) -> datetime:
    """The instant `ms` after the epoch, clamped to datetime's range (years 1 to 9999), so window
    arithmetic past either end reads as "no rows" rather than overflowing."""
    return EPOCH + min(max(ms, _MIN_MS), _MAX_MS) * ONE_MS


def to_ms(t: datetime) -> int:
    return (t - EPOCH) // ONE_MS


def _bucket(iv: Interval, column: str, first_param: int) -> tuple[str, list[Any]]:
    """The SQL expression of `column`'s bucket open time, and the parameters it uses."""
    if iv.monthly:
        if not iv.offset:
            return f"date_trunc('month', {column}, 'UTC')", []
        shift = f"${first_param}::bigint * interval '1 millisecond'"
        return f"(date_trunc('month', {column} + {shift}, 'UTC') - {shift})", [iv.offset]
    return (
        f"date_bin(${first_param}::interval, {column}, ${first_param + 1}::timestamptz)",
        [iv.width * ONE_MS, from_ms(iv.origin)],
    )


_RAW = """
WITH b AS (
    SELECT {bucket} AS open_time, min(id) AS first_id, max(id) AS last_id, max(price) AS high,
           min(price) AS low, sum(qty) AS volume, sum(quote_qty) AS quote_volume, count(*) AS trades,
           sum(CASE WHEN taker_side = 1 THEN qty ELSE 0 END) AS taker_volume,
           sum(CASE WHEN taker_side = 1 THEN quote_qty ELSE 0 END) AS taker_quote_volume
    FROM trades WHERE symbol = $1 AND time >= $2 AND time < $3 GROUP BY 1)
SELECT b.open_time, o.price AS open, b.high, b.low, c.price AS close, b.volume, b.quote_volume, b.trades,
       b.taker_volume, b.taker_quote_volume
FROM b
JOIN trades o ON o.symbol = $1 AND o.id = b.first_id AND o.time >= $2 AND o.time < $3
JOIN trades c ON c.symbol = $1 AND c.id = b.last_id AND c.time >= $2 AND c.time < $3
ORDER BY b.open_time
"""

_ROLLUP = """
SELECT {bucket} AS open_time, (array_agg(open ORDER BY bucket))[1] AS open, max(high) AS high,
       min(low) AS low, (array_agg(close ORDER BY bucket DESC))[1] AS close, sum(volume) AS volume,
       sum(quote_volume) AS quote_volume, sum(trades) AS trades, sum(taker_volume) AS taker_volume,
       sum(taker_quote_volume) AS taker_quote_volume
FROM {view} WHERE symbol = $1 AND bucket >= $2 AND bucket < $3 GROUP BY 1 ORDER BY 1
"""

_DIRECT = """
SELECT bucket AS open_time, open, high, low, close, volume, quote_volume, trades, taker_volume,
       taker_quote_volume
FROM {view} WHERE symbol = $1 AND bucket >= $2 AND bucket < $3 ORDER BY bucket
"""


async def fetch_klines(
    conn: Conn, symbol: str, iv: Interval, lo: int, hi: int, use_aggregates: bool
) -> list[Kline]:
    """The candles with trades whose open time is in [lo, hi), both bucket open times."""
    args: list[Any] = [symbol, from_ms(lo), from_ms(hi)]
    if not use_aggregates:
        bucket, extra = _bucket(iv, "time", 4)
        sql = _RAW.format(bucket=bucket)
    else:
        view, exact = aggregate_for(iv)
        extra = []
        if exact:
            sql = _DIRECT.format(view=view)
        else:
            bucket, extra = _bucket(iv, "bucket", 4)
            sql = _ROLLUP.format(bucket=bucket, view=view)
    rows = await conn.fetch(sql, *args, *extra)
    out = []
    for r in rows:
        open_time = to_ms(r["open_time"])
        out.append(
            Kline(
                open_time, iv.close_time(open_time), r["open"], r["high"], r["low"], r["close"],
                int(r["volume"]), int(r["quote_volume"]), int(r["trades"]), int(r["taker_volume"]),
                int(r["taker_quote_volume"]),
            )
        )  # fmt: skip
    return out


class WindowStats(NamedTuple):
    open: int
    high: int
    low: int
    close: int
    volume: int
    quote_volume: int
    trades: int
    first_id: int
    last_id: int


_PARTS_RAW = """
SELECT min(id) AS first_id, max(id) AS last_id, max(price) AS high, min(price) AS low,
       sum(qty) AS volume, sum(quote_qty) AS quote_volume, count(*) AS trades
FROM trades WHERE symbol = $1 AND time >= $2 AND time <= $3
"""

# Whole minutes from the 1m aggregate, the partial minutes at both ends from raw trades.
_PARTS_AGGREGATE = """
WITH parts AS (
    SELECT min(id) AS first_id, max(id) AS last_id, max(price) AS high, min(price) AS low,
           sum(qty) AS volume, sum(quote_qty) AS quote_volume, count(*) AS trades
    FROM trades WHERE symbol = $1 AND ((time >= $2 AND time < $3) OR (time >= $4 AND time <= $5))
    UNION ALL
    SELECT min(first_id), max(last_id), max(high), min(low), sum(volume), sum(quote_volume), sum(trades)
    FROM klines_1m WHERE symbol = $1 AND bucket >= $3 AND bucket < $4)
SELECT min(first_id) AS first_id, max(last_id) AS last_id, max(high) AS high, min(low) AS low,
       sum(volume) AS volume, sum(quote_volume) AS quote_volume, sum(trades) AS trades
FROM parts
"""


async def window_stats(conn: Conn, symbol: str, lo: int, hi: int, use_aggregates: bool) -> WindowStats | None:
    """Open/high/low/close, volumes, count and first/last trade id of the trades with
    lo <= time <= hi (ms); None without trades there."""
    whole_from, whole_to = -(-lo // MINUTE) * MINUTE, hi // MINUTE * MINUTE
    if use_aggregates and whole_from < whole_to:
        bounds = [from_ms(ms) for ms in (lo, whole_from, whole_to, hi)]
        row = await conn.fetchrow(_PARTS_AGGREGATE, symbol, *bounds)
    else:
        row = await conn.fetchrow(_PARTS_RAW, symbol, from_ms(lo), from_ms(hi))
    if row is None or row["first_id"] is None:
        return None
    ends = await conn.fetch(
        "SELECT id, price FROM trades WHERE symbol = $1 AND id = ANY($2::bigint[])"
        " AND time >= $3 AND time <= $4",
        symbol,
        [row["first_id"], row["last_id"]],
        from_ms(lo),
        from_ms(hi),
    )
    prices: dict[int, int] = {r["id"]: r["price"] for r in ends}
    return WindowStats(
        prices[row["first_id"]], row["high"], row["low"], prices[row["last_id"]], int(row["volume"]),
        int(row["quote_volume"]), int(row["trades"]), row["first_id"], row["last_id"],
    )  # fmt: skip
