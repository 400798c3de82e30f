"""Kline intervals (Binance's names) as bucket arithmetic on milliseconds since the epoch.

Buckets are aligned as Binance aligns them: fixed widths from the Unix epoch (1m ... 3d), weeks
from Monday 00:00 UTC, months on the calendar (UTC). Integers only.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MONDAY = 4 * DAY  # 1970-01-05, the first Monday after the epoch


class Kline(NamedTuple):
    """One candle: integers in smallest units, times in ms (close_time is the bucket's last ms)."""

    open_time: int
    close_time: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    quote_volume: int
    trades: int


@dataclass(frozen=True, slots=True)
class Interval:
    """One kline interval: `width` ms from `origin`, or calendar months when `width` is 0."""

    name: str
    width: int
    origin: int = 0

    @property
    def monthly(self) -> bool:
        return self.width == 0

    def floor(self, ms: int) -> int:
        """The open time of the bucket holding `ms`."""
        if self.monthly:
            d = datetime.fromtimestamp(ms // 1000, UTC)
            return _month_start(d.year, d.month)
        return ms - (ms - self.origin) % self.width

    def ceil(self, ms: int) -> int:
        """The first bucket open time at or after `ms`."""
        start = self.floor(ms)
        return start if start == ms else self.shift(start, 1)

    def shift(self, open_time: int, n: int) -> int:
        """The open time `n` buckets after (n < 0: before) the bucket opening at `open_time`."""
        if not self.monthly:
            return open_time + n * self.width
        d = datetime.fromtimestamp(open_time // 1000, UTC)
        months = d.year * 12 + d.month - 1 + n
        return _month_start(months // 12, months % 12 + 1)

    def buckets(self, lo: int, hi: int) -> int:
        """How many buckets lie between the open times `lo` <= `hi`."""
        if not self.monthly:
            return (hi - lo) // self.width
        a = datetime.fromtimestamp(lo // 1000, UTC)
        b = datetime.fromtimestamp(hi // 1000, UTC)
        return (b.year - a.year) * 12 + b.month - a.month

    def close_time(self, open_time: int) -> int:
        """Binance's close time: the last millisecond of the bucket."""
        return self.shift(open_time, 1) - 1


def _month_start(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * 1000


INTERVALS: dict[str, Interval] = {
    iv.name: iv
    for iv in (
        Interval("1m", MINUTE),
        Interval("3m", 3 * MINUTE),
        Interval("5m", 5 * MINUTE),
        Interval("15m", 15 * MINUTE),
        Interval("30m", 30 * MINUTE),
        Interval("1h", HOUR),
        Interval("2h", 2 * HOUR),
        Interval("4h", 4 * HOUR),
        Interval("6h", 6 * HOUR),
        Interval("8h", 8 * HOUR),
        Interval("12h", 12 * HOUR),
        Interval("1d", DAY),
        Interval("3d", 3 * DAY),
        Interval("1w", 7 * DAY, MONDAY),
        Interval("1M", 0),
    )
}

# The continuous aggregates of migrations/002_history.sql: view name by bucket width.
AGGREGATES: dict[int, str] = {
    MINUTE: "klines_1m",
    5 * MINUTE: "klines_5m",
    15 * MINUTE: "klines_15m",
    HOUR: "klines_1h",
    4 * HOUR: "klines_4h",
    DAY: "klines_1d",
}


def aggregate_for(interval: Interval) -> tuple[str, bool]:
    """The continuous aggregate to build `interval` from, and whether its buckets are exactly
    the interval's (else they are rolled up: the widest aggregate whose buckets nest in it)."""
    if interval.monthly:
        return AGGREGATES[DAY], False
    width = max(w for w in AGGREGATES if interval.width % w == 0)
    return AGGREGATES[width], width == interval.width
