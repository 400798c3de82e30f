"""A recorded price path as a PriceSource: Binance klines or aggTrades files replayed at 1x or
accelerated.

`price_at(s)` is the recorded price at `first recorded time + s * speed`, in ticks of the market.
From aggTrades it is the last trade's price at that instant (a step path). From klines it goes,
inside each candle, open -> one extreme -> the other -> close, straight lines between points at
seeded times and in a seeded order, so the candle's open, high, low and close are all visited and
the replayed 1m closes are the recorded ones. The path is a pure function of the files and the
seed, whatever the times it is read at.

At the end of the files the replay loops by default: the recorded returns start again from where
the price ended (levels scaled, no jump back), so a long run keeps moving; with `loop=False` it
holds the last price.
"""

import random
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from itertools import chain
from pathlib import Path

from marketsim.binance_files import Kline, file_kind, read_agg_trades, read_klines

# Where a candle's two extremes may sit, as fractions of its span.
EXTREME_SPAN = (0.05, 0.95)

Anchor = tuple[float, float]  # (recorded seconds since the epoch, price in ticks)


def kline_anchors(klines: Iterable[Kline], tick: Decimal, rng: random.Random) -> Iterator[Anchor]:
    """Each candle as four points: open at its open time, its high and low (in a seeded order, at
    seeded times) and its close at its close time."""
    low_at, high_at = EXTREME_SPAN
    for k in klines:
        span = k.close_time - k.open_time
        first, second = sorted(rng.uniform(low_at, high_at) for _ in range(2))
        extremes = (k.high, k.low) if rng.random() < 0.5 else (k.low, k.high)
        yield k.open_time, float(k.open / tick)
        yield k.open_time + first * span, float(extremes[0] / tick)
        yield k.open_time + second * span, float(extremes[1] / tick)
        yield k.close_time, float(k.close / tick)


def file_anchors(files: list[Path], tick: Decimal, seed: str) -> tuple[Callable[[], Iterator[Anchor]], bool]:
    """A fresh iterator over the files' points on each call, and whether the path steps between
    them (aggTrades) rather than following straight lines (klines)."""
    if file_kind(files[0]) == "aggTrades":

        def trades() -> Iterator[Anchor]:
            for f in files:
                for t in read_agg_trades(f):
                    yield t.time, float(t.price / tick)

        return trades, True

    def candles() -> Iterator[Anchor]:
        rng = random.Random(f"replay:{seed}")
        return kline_anchors(chain.from_iterable(read_klines(f) for f in files), tick, rng)

    return candles, False


class ReplaySource:
    """A PriceSource over recorded points (`open_points` gives a fresh iterator from the start).
    Raises ValueError when there is no point."""

    def __init__(
        self, open_points: Callable[[], Iterator[Anchor]], speed: float, loop: bool, steps: bool
    ) -> None:
        if speed <= 0:
            raise ValueError("the replay speed must be positive")
        self.open_points = open_points
        self.speed = speed
        self.loop = loop
        self.steps = steps
        self.points = open_points()
        first = next(self.points, None)
        if first is None:
            raise ValueError("nothing to replay")
        self.first_time, self.first_price = first
        self.prev = first
        self.next: Anchor | None = next(self.points, None)
        if self.next is None:
            self.loop = False  # one point: nothing to loop over
        self.offset = 0.0  # recorded time added on each loop
        self.scale = 1.0  # price factor of each loop
        self.passes = 1

    def recorded_time(self, seconds: float) -> float:
        """The recorded instant (seconds since the epoch, first pass) replayed at `seconds`."""
        return self.first_time + seconds * self.speed

    def price_at(self, seconds: float) -> float:
        target = self.recorded_time(seconds)
        while self.next is not None and self.next[0] <= target:
            self.prev = self.next
            self.next = self._following()
        t0, p0 = self.prev
        if self.next is None or self.steps:
            return p0
        t1, p1 = self.next
        return p0 + (p1 - p0) * (target - t0) / (t1 - t0) if t1 > t0 else p1

    def _following(self) -> Anchor | None:
        """The point after `prev`: the files' next, or with `loop` the first of the next pass."""
        point = next(self.points, None)
        if point is not None:
            return point[0] + self.offset, point[1] * self.scale
        if not self.loop:
            return None
        last_time, last_price = self.prev
        self.offset = last_time - self.first_time + 1e-3
        self.scale = last_price / self.first_price
        self.points = self.open_points()
        self.passes += 1
        return self._following()
