"""The 24-hour rolling statistics behind @ticker and @miniTicker, minute by minute."""

from marketdata.candles import DAY, MINUTE
from marketdata.tickers import RollingStats, Ticker24h, ticker_24h

T0 = 1_700_000_000_000 - 1_700_000_000_000 % MINUTE  # a minute boundary


def stats_of(trades: list[tuple[int, int, int, int]]) -> RollingStats:
    """(ms, price, qty, trade id) each; quote = price * qty."""
    stats = RollingStats()
    for ts, price, qty, trade_id in trades:
        stats.add_trade(ts, price, qty, price * qty, trade_id)
    return stats


def test_nothing_traded_is_no_ticker() -> None:
    assert ticker_24h(RollingStats(), T0) is None


def test_the_window_sums_every_minute_and_ends_with_the_last_trade() -> None:
    stats = stats_of([
        (T0 + 5, 100, 2, 1), (T0 + 10, 104, 1, 2), (T0 + 20, 98, 3, 3),  # first minute
        (T0 + 3 * MINUTE, 101, 4, 4), (T0 + 3 * MINUTE + 7, 99, 5, 5),
    ])  # fmt: skip
    now = T0 + 10 * MINUTE
    assert ticker_24h(stats, now) == Ticker24h(
        open_time=T0, close_time=now, open=100, high=104, low=98, last=99, prev_close=0,
        volume=15, quote_volume=200 + 104 + 294 + 404 + 495, first_id=1, last_id=5, count=5, last_qty=5,
    )  # fmt: skip


def test_minutes_leave_the_window_and_leave_their_close_behind() -> None:
    stats = stats_of([(T0 + 1, 100, 1, 1), (T0 + 2, 90, 1, 2), (T0 + MINUTE + 1, 110, 2, 3)])
    now = T0 + DAY + MINUTE  # the first minute has just left the window
    assert ticker_24h(stats, now) == Ticker24h(
        open_time=T0 + MINUTE, close_time=now, open=110, high=110, low=110, last=110, prev_close=90,
        volume=2, quote_volume=220, first_id=3, last_id=3, count=1, last_qty=2,
    )  # fmt: skip
    assert ticker_24h(stats, now + MINUTE) is None
