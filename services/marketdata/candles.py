"""Candles (klines) built from trades, per Binance interval, in integer units.

Interval boundaries are UTC by default: fixed-length intervals are aligned on the Unix epoch,
weeks start on Monday, months on the first day of the month. With a time zone `offset` (ms ahead
of UTC, as in `<symbol>@kline_<interval>@+08:00`) the boundaries are local ones; times stay UTC.
A candle with no trade repeats the previous close with zero volume and trade ids -1, as Binance
does.
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


def interval_start(ts: int, interval: str, offset: int = 0) -> int:
    """Open time (ms) of the `interval` candle that holds `ts` (ms), in the time zone `offset`
    ms ahead of UTC."""
    length = INTERVALS[interval]
    if interval == "1w":
        return ts - (ts + offset - _MONDAY_OFFSET) % WEEK
    if length:
        return ts - (ts + offset) % length
    day = datetime.fromtimestamp((ts + offset) // 1000, UTC)
    return int(datetime(day.year, day.month, 1, tzinfo=UTC).timestamp() * 1000) - offset


def interval_end(start: int, interval: str, offset: int = 0) -> int:
    """Close time (ms, inclusive) of the candle opened at `start`: the next open time - 1."""
    length = INTERVALS[interval]
    if length:
        return start + length - 1
    day = datetime.fromtimestamp((start + offset) // 1000, UTC)
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000) - offset - 1


def moves_with_zone(interval: str, offset: int) -> bool:
    """Do `interval`'s boundaries in the time zone `offset` differ from the UTC ones?"""
    length = INTERVALS[interval]
    return offset != 0 and (not length or offset % length != 0)


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
    """The current candle of one interval (in the time zone `offset` ms ahead of UTC). `closed`
    collects candles finished since the caller last took them; `dirty` says the current one
    changed since it was last published."""

    __slots__ = ("closed", "current", "dirty", "interval", "offset")

    def __init__(self, interval: str, offset: int = 0) -> None:
        self.interval = interval
        self.offset = offset
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
        start = interval_start(now, self.interval, self.offset)
        self.current = Candle(start, interval_end(start, self.interval, self.offset), price)
        self.dirty = True

    def take_closed(self) -> list[Candle]:
        closed, self.closed = self.closed, []
        return closed
