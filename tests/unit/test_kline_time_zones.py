"""Kline time zones: Binance's timeZone parameter, bucket arithmetic in a zone (checked against
the local calendar of Python's datetime) and which continuous aggregate can build a zoned interval."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from exchange_core.klines import HOUR, INTERVALS, MINUTE, _month_start, aggregate_for, time_zone_offset


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("0", 0),
        ("8", 8 * HOUR),
        ("-1", -HOUR),
        ("05:45", 5 * HOUR + 45 * MINUTE),
        ("-1:00", -HOUR),
        ("+14:00", 14 * HOUR),
        ("-12:00", -12 * HOUR),
        ("-9:30", -(9 * HOUR + 30 * MINUTE)),
    ],
)
def test_time_zones_binance_accepts(text: str, offset: int) -> None:
    assert time_zone_offset(text) == offset


@pytest.mark.parametrize(
    "text", ["", "x", "15", "-13", "14:01", "-12:30", "5:60", "05:4", "1.5", "8h", "+-1"]
)
def test_time_zones_binance_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        time_zone_offset(text)


def ms(d: datetime) -> int:
    return int(d.timestamp() * 1000)


@pytest.mark.parametrize("offset", [5 * HOUR + 45 * MINUTE, -HOUR, 14 * HOUR, -12 * HOUR])
def test_zoned_months_and_days_start_at_local_midnight(offset: int) -> None:
    zone = timezone(timedelta(milliseconds=offset))
    month, day, week = (INTERVALS[n].zoned(offset) for n in ("1M", "1d", "1w"))
    for utc in (datetime(2026, 3, 1, 3, 0, tzinfo=UTC), datetime(2026, 12, 31, 20, 15, tzinfo=UTC)):
        local = utc.astimezone(zone)
        first = datetime(local.year, local.month, 1, tzinfo=zone)
        midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
        assert month.floor(ms(utc)) == ms(first)
        assert month.shift(ms(first), 1) == ms((first + timedelta(days=32)).replace(day=1))
        back = first.year * 12 + first.month - 1 - 13
        assert month.shift(ms(first), -13) == ms(datetime(back // 12, back % 12 + 1, 1, tzinfo=zone))
        assert month.buckets(ms(first), month.shift(ms(first), 5)) == 5
        assert day.floor(ms(utc)) == ms(midnight)
        assert week.floor(ms(utc)) == ms(midnight - timedelta(days=local.weekday()))
        assert day.close_time(ms(midnight)) == ms(midnight + timedelta(days=1)) - 1


@pytest.mark.parametrize(
    ("interval", "zone", "view", "exact"),
    [
        ("1d", "0", "klines_1d", True),
        ("1d", "05:45", "klines_15m", False),
        ("1d", "8", "klines_4h", False),
        ("1h", "8", "klines_1h", True),
        ("1h", "05:45", "klines_15m", False),
        ("15m", "05:45", "klines_15m", True),
        ("4h", "-1", "klines_1h", False),
        ("1w", "-1:00", "klines_1h", False),
        ("1w", "0", "klines_1d", False),
        ("1M", "0", "klines_1d", False),
        ("1M", "05:45", "klines_15m", False),
        ("1M", "8", "klines_4h", False),
        ("3m", "05:45", "klines_1m", False),
    ],
)
def test_zoned_intervals_read_aggregates_that_nest_in_them(
    interval: str, zone: str, view: str, exact: bool
) -> None:
    assert aggregate_for(INTERVALS[interval].zoned(time_zone_offset(zone))) == (view, exact)


def test_month_starts_match_the_calendar_and_go_past_year_9999() -> None:
    for year in (1, 1969, 1970, 2000, 2024, 2100, 9999):
        for month in range(1, 13):
            expected = int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * 1000
            assert _month_start(year, month) == expected, (year, month)
    # a monthly bucket after the last time parameter allowed (the end of year 9999) still has a start
    assert _month_start(10000, 1) == _month_start(9999, 12) + 31 * 86_400_000
    assert INTERVALS["1M"].ceil(_month_start(9999, 12) + 1) == _month_start(10000, 1)
