"""Candles (klines) built from trades, per Binance interval, in integer units.

Interval boundaries are UTC: fixed-length intervals are aligned on the Unix epoch, weeks start on
Monday, months on the first day of the month. A candle with no trade repeats the previous close
with zero volume and trade ids -1, as Binance does.
"""

from datetime import UTC, datetime

SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
_MONDAY_OFFSET = 4 * DAY  # 1970-01-01 was a Thursday

# Length in ms; 0 for the calendar month.
INTERVALS: dict[str, int] = {
    "1s": SECOND,
    "1m": MINUTE,
    "3m": 3 * MINUTE,
    "5m": 5 * MINUTE,
    "15m": 15 * MINUTE,
    "30m": 30 * MINUTE,
    "1h": HOUR,
    "2h": 2 * HOUR,
    "4h": 4 * HOUR,
    "6h": 6 * HOUR,
    "8h": 8 * HOUR,
    "12h": 12 * HOUR,
    "1d": DAY,
    "3d": 3 * DAY,
    "1w": WEEK,
    "1M": 0,
}


def interval_start(ts: int, interval: str) -> int:
    """Open time (ms) of the `interval` candle that holds `ts` (ms)."""
    length = INTERVALS[interval]
    if interval == "1w":
        return ts - (ts - _MONDAY_OFFSET) % WEEK
    if length:
        return ts - ts % length
    day = datetime.fromtimestamp(ts / 1000, UTC)
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp() * 1000)


def interval_end(start: int, interval: str) -> int:
    """Close time (ms, inclusive) of the candle opened at `start`: the next open time - 1."""
    length = INTERVALS[interval]
    if length:
        return start + length - 1
    day = datetime.fromtimestamp(start / 1000, UTC)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000) - 1


class Candle:
    """One interval's open/high/low/close (price units), volumes (base and quote units), count,
    first and last trade id, and the taker-buy volumes."""

    __slots__ = (
        "close",
        "close_time",
        "count",
        "first_id",
        "high",
        "last_id",
        "low",
        "open",
        "quote_volume",
        "start",
        "taker_base",
        "taker_quote",
        "volume",
    )

    def __init__(self, start: int, close_time: int, price: int) -> None:
        self.start = start
        self.close_time = close_time
        self.open = self.high = self.low = self.close = price
        self.volume = self.quote_volume = self.taker_base = self.taker_quote = 0
        self.count = 0
        self.first_id = self.last_id = -1

    def add(self, price: int, qty: int, quote: int, trade_id: int, taker_buy: bool) -> None:
        if self.count == 0:
            self.open = self.high = self.low = price
            self.first_id = trade_id
        elif price > self.high:
            self.high = price
        elif price < self.low:
            self.low = price
        self.close = price
        self.volume += qty
        self.quote_volume += quote
        if taker_buy:
            self.taker_base += qty
            self.taker_quote += quote
        self.count += 1
        self.last_id = trade_id


class CandleSeries:
    """The current candle of one interval. `closed` collects candles finished since the caller
    last took them; `dirty` says the current one changed since it was last published."""

    __slots__ = ("closed", "current", "dirty", "interval")

    def __init__(self, interval: str) -> None:
        self.interval = interval
        self.current: Candle | None = None
        self.closed: list[Candle] = []
        self.dirty = False

    def add_trade(self, ts: int, price: int, qty: int, quote: int, trade_id: int, taker_buy: bool) -> None:
        """Count a trade at `ts` (ms); trades must come in time order."""
        current = self.current
        if current is None or ts > current.close_time:
            self.roll(ts, price)
            current = self.current
            assert current is not None
        current.add(price, qty, quote, trade_id, taker_buy)
        self.dirty = True

    def roll(self, now: int, price_if_new: int = 0) -> None:
        """Close the current candle if `now` is past its end and open the one holding `now`."""
        current = self.current
        if current is not None and now <= current.close_time:
            return
        if current is not None:
            self.closed.append(current)
            price = current.close
        elif price_if_new:
            price = price_if_new
        else:
            return  # nothing traded yet: no candle to show
        start = interval_start(now, self.interval)
        self.current = Candle(start, interval_end(start, self.interval), price)
        self.dirty = True

    def take_closed(self) -> list[Candle]:
        closed, self.closed = self.closed, []
        return closed
