"""Rolling statistics for @ticker, @miniTicker, @ticker_<1h|4h|1d> and @avgPrice.

`ticker_24h` is the one function that produces the numbers; it reads a `RollingStats` fed with
the trades this process has seen (seeded from evt:{SYMBOL} when a market's feed starts). To take
them from another source (e.g. the trade history database), give `WsService` another
`TickerSource`; exchange_core.marketdb.ticker_24h's fields map one to one (`Ticker24h(**t._asdict())`).
"""

from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from marketdata.candles import DAY, MINUTE, Candle


@dataclass(frozen=True, slots=True)
class Ticker24h:
    """Prices in quote units per whole base unit, volumes in base and quote units, times in ms."""

    open_time: int
    close_time: int
    open: int
    high: int
    low: int
    last: int
    prev_close: int
    volume: int
    quote_volume: int
    first_id: int
    last_id: int
    count: int
    # The last trade's quantity ("Q"); 0 where the source does not know it.
    last_qty: int = 0


# (symbol, now_ms) -> the market's last 24 hours, or None when nothing traded.
TickerSource = Callable[[str, int], Awaitable[Ticker24h | None]]


class RollingStats:
    """Trades of the last 24 hours, aggregated in one-minute candles (so the window moves by the
    minute), and the last trade's quantity."""

    __slots__ = ("last_qty", "last_seen_ms", "minutes", "prev_close")

    def __init__(self) -> None:
        self.minutes: deque[Candle] = deque()
        self.prev_close = 0
        self.last_seen_ms = 0
        self.last_qty = 0

    def add_trade(self, ts: int, price: int, qty: int, quote: int, trade_id: int) -> None:
        """Count a trade at `ts` (ms); trades come in time order."""
        start = ts - ts % MINUTE
        minutes = self.minutes
        if not minutes or minutes[-1].start < start:
            minutes.append(Candle(start, start + MINUTE - 1, price))
        minutes[-1].add(price, qty, quote, trade_id, taker_buy=False)
        self.last_qty = qty
        self.last_seen_ms = ts

    def expire(self, now_ms: int) -> None:
        """Drop the minutes that left the 24-hour window; remember the last price before it."""
        cutoff = now_ms - DAY
        minutes = self.minutes
        while minutes and minutes[0].start + MINUTE <= cutoff:
            self.prev_close = minutes.popleft().close


def ticker_24h(stats: RollingStats, now_ms: int) -> Ticker24h | None:
    """The 24-hour numbers at `now_ms` from `stats`, or None when nothing traded in the window."""
    return ticker_window(stats, now_ms, DAY)


def ticker_window(stats: RollingStats, now_ms: int, width: int) -> Ticker24h | None:
    """The numbers of the last `width` ms (at most a day, by the minute: the minute holding
    now - width is in) at `now_ms`, or None when nothing traded in that window."""
    stats.expire(now_ms)
    if width >= DAY:
        minutes: list[Candle] | deque[Candle] = stats.minutes
        prev_close = stats.prev_close
    else:
        cutoff = now_ms - width
        minutes = [m for m in stats.minutes if m.start + MINUTE > cutoff]
        earlier = len(stats.minutes) - len(minutes)
        prev_close = stats.minutes[earlier - 1].close if earlier else stats.prev_close
    if not minutes:
        return None
    first, last = minutes[0], minutes[-1]
    return Ticker24h(
        open_time=max(first.start, now_ms - width),
        close_time=now_ms,
        open=first.open,
        high=max(m.high for m in minutes),
        low=min(m.low for m in minutes),
        last=last.close,
        last_qty=stats.last_qty,
        prev_close=prev_close,
        volume=sum(m.volume for m in minutes),
        quote_volume=sum(m.quote_volume for m in minutes),
        first_id=first.first_id,
        last_id=last.last_id,
        count=sum(m.count for m in minutes),
    )


AVG_PRICE_MINUTES = 5


def average_volumes(stats: RollingStats, now_ms: int) -> tuple[int, int] | None:
    """(quote volume, base volume) of the last AVG_PRICE_MINUTES minutes; None when nothing
    traded in them."""
    cutoff = now_ms - AVG_PRICE_MINUTES * MINUTE
    quote = base = 0
    for m in reversed(stats.minutes):
        if m.start + MINUTE <= cutoff:
            break
        quote += m.quote_volume
        base += m.volume
    return (quote, base) if base else None
