"""Kline intervals (Binance's names) as bucket arithmetic on milliseconds since the epoch.

Buckets are aligned as Binance aligns them: fixed widths from the Unix epoch (1m ... 3d), weeks
from Monday 00:00 UTC, months on the calendar (UTC). With a time zone (klines' `timeZone`, an
offset from UTC) the boundaries move to local time: a 1d candle opens at local midnight, a 1M
candle at the local month's start; times stay UTC milliseconds. Integers only.
"""

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import NamedTuple

SECOND = 1_000
MINUTE = 60 * SECOND
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
    # The volumes of the trades whose taker bought (base and quote units).
    taker_volume: int = 0
    taker_quote_volume: int = 0


@dataclass(frozen=True, slots=True)
class Interval:
    """One kline interval: `width` ms from `origin`, or calendar months when `width` is 0.

    `offset` is the time zone's (ms ahead of UTC; see `zoned`): months start at the local
    calendar's month start, that is `offset` ms before the UTC one."""

    name: str
    width: int
    origin: int = 0
    offset: int = 0

    @property
    def monthly(self) -> bool:
        return self.width == 0

    def zoned(self, offset: int) -> "Interval":
        """This interval in the time zone `offset` ms ahead of UTC: every boundary `offset`
        earlier (fixed widths: the origin moves back by `offset`)."""
        if self.monthly:
            return replace(self, offset=self.offset + offset)
        return replace(self, origin=self.origin - offset, offset=self.offset + offset)

    def floor(self, ms: int) -> int:
        """The open time of the bucket holding `ms`."""
        if self.monthly:
            d = datetime.fromtimestamp((ms + self.offset) // 1000, UTC)
            return _month_start(d.year, d.month) - self.offset
        return ms - (ms - self.origin) % self.width

    def ceil(self, ms: int) -> int:
        """The first bucket open time at or after `ms`."""
        start = self.floor(ms)
        return start if start == ms else self.shift(start, 1)

    def shift(self, open_time: int, n: int) -> int:
        """The open time `n` buckets after (n < 0: before) the bucket opening at `open_time`."""
        if not self.monthly:
            return open_time + n * self.width
        d = datetime.fromtimestamp((open_time + self.offset) // 1000, UTC)
        months = d.year * 12 + d.month - 1 + n
        return _month_start(months // 12, months % 12 + 1) - self.offset

    def buckets(self, lo: int, hi: int) -> int:
        """How many buckets lie between the open times `lo` <= `hi`."""
        if not self.monthly:
            return (hi - lo) // self.width
        a = datetime.fromtimestamp((lo + self.offset) // 1000, UTC)
        b = datetime.fromtimestamp((hi + self.offset) // 1000, UTC)
        return (b.year - a.year) * 12 + b.month - a.month

    def close_time(self, open_time: int) -> int:
        """Binance's close time: the last millisecond of the bucket."""
        return self.shift(open_time, 1) - 1


def _month_start(year: int, month: int) -> int:
    """The first millisecond of `month` of `year` (UTC), for any year: integer civil-date
    arithmetic (Howard Hinnant's days_from_civil), so that a bucket after year 9999 (a time
    parameter at its upper bound) has a start instead of a datetime overflow."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468) * 86_400_000


INTERVALS: dict[str, Interval] = {
    iv.name: iv
    for iv in (
        Interval("1s", SECOND),
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


def has_aggregate(interval: Interval) -> bool:
    """Can `interval` be read from the aggregates? Not below their narrowest bucket (1s)."""
    return interval.monthly or interval.width >= min(AGGREGATES)


def aggregate_for(interval: Interval) -> tuple[str, bool]:
    """The continuous aggregate to build `interval` from, and whether its buckets are exactly
    the interval's (else they are rolled up: the widest aggregate whose buckets nest in it).

    The aggregates' buckets are aligned on the epoch; an aggregate of width w nests in the
    interval's buckets when w divides their width and their boundaries (so a +05:45 day rolls
    up from 15m buckets, a +08:00 day from 4h ones). 1m divides every offset Binance accepts."""
    if interval.monthly:
        width = max(w for w in AGGREGATES if interval.offset % w == 0)
        return AGGREGATES[width], False
    width = max(w for w in AGGREGATES if interval.width % w == 0 and interval.origin % w == 0)
    return AGGREGATES[width], width == interval.width


# Binance's accepted time zones: [-12:00, +14:00], as "hours" or "hours:minutes".
MIN_OFFSET = -12 * HOUR
MAX_OFFSET = 14 * HOUR
_TIME_ZONE = re.compile(r"^([+-]?)([0-9]{1,2})(?::([0-5][0-9]))?$")


def time_zone_offset(text: str) -> int:
    """Binance's `timeZone` parameter ("0", "8", "-1", "05:45", "-1:00", "+14:00") as ms ahead of
    UTC. Raises ValueError for anything else or outside [-12:00, +14:00]."""
    match = _TIME_ZONE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"invalid time zone {text!r}")
    sign, hours, minutes = match.groups()
    offset = int(hours) * HOUR + int(minutes or 0) * MINUTE
    if sign == "-":
        offset = -offset
    if not MIN_OFFSET <= offset <= MAX_OFFSET:
        raise ValueError(f"time zone {text!r} is outside [-12:00, +14:00]")
    return offset
