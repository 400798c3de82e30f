"""The statistics of the report, pure: returns of a price series, autocorrelation, kurtosis, the
median spread and the depth near the mid of one book. The stylized facts of real markets (Cont,
2001) these measure: returns hardly autocorrelated, absolute returns positively autocorrelated
over many lags (volatility clusters), and heavy tails (kurtosis above the normal's 3).
"""

import itertools
import math
from collections.abc import Sequence

BPS = 10_000


def log_returns(closes: Sequence[float]) -> list[float]:
    """ln(p[i+1] / p[i]) for consecutive closes (all positive)."""
    return [math.log(b / a) for a, b in itertools.pairwise(closes)]


def autocorrelation(xs: Sequence[float], lag: int) -> float:
    """The sample autocorrelation of `xs` at `lag` (the usual estimator: the lagged covariance over
    the variance, both around the full mean); 0.0 when the series is constant or too short."""
    n = len(xs)
    if lag <= 0 or n <= lag + 1:
        return 0.0
    mean = sum(xs) / n
    dev = [x - mean for x in xs]
    variance = sum(d * d for d in dev)
    if variance == 0:
        return 0.0
    return sum(dev[i] * dev[i + lag] for i in range(n - lag)) / variance


def mean_abs_autocorrelation(xs: Sequence[float], lags: int = 10) -> float:
    """The mean over lags 1..`lags` of the autocorrelation of |x|: positive when volatility clusters."""
    absolute = [abs(x) for x in xs]
    return sum(autocorrelation(absolute, lag) for lag in range(1, lags + 1)) / lags


def kurtosis(xs: Sequence[float]) -> float:
    """The (non-excess) kurtosis m4 / m2^2: 3 for a normal distribution, more for heavy tails;
    0.0 when the series is constant or has fewer than 4 values."""
    n = len(xs)
    if n < 4:
        return 0.0
    mean = sum(xs) / n
    m2 = sum((x - mean) ** 2 for x in xs) / n
    if m2 == 0:
        return 0.0
    m4 = sum((x - mean) ** 4 for x in xs) / n
    return m4 / (m2 * m2)


def median(xs: Sequence[float]) -> float:
    """The median of `xs`; 0.0 for none."""
    ordered = sorted(xs)
    n = len(ordered)
    if n == 0:
        return 0.0
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


Level = tuple[float, float]  # (price, quantity)


def spread_bps(bids: Sequence[Level], asks: Sequence[Level]) -> float | None:
    """(best ask - best bid) / mid in bps, best first on both sides; None for a one-sided book."""
    if not bids or not asks:
        return None
    bid, ask = bids[0][0], asks[0][0]
    return (ask - bid) / ((ask + bid) / 2) * BPS


def depth_within(bids: Sequence[Level], asks: Sequence[Level], band_bps: float) -> tuple[float, float]:
    """(bid, ask) quote-asset notional resting within `band_bps` of the mid; (0, 0) for a
    one-sided book."""
    if not bids or not asks:
        return 0.0, 0.0
    mid = (bids[0][0] + asks[0][0]) / 2
    low, high = mid * (1 - band_bps / BPS), mid * (1 + band_bps / BPS)
    return (
        sum(p * q for p, q in bids if p >= low),
        sum(p * q for p, q in asks if p <= high),
    )


def levels_within(bids: Sequence[Level], asks: Sequence[Level], band_pct: float) -> tuple[int, int]:
    """(bid, ask) number of price levels within `band_pct` percent of the mid."""
    if not bids or not asks:
        return 0, 0
    mid = (bids[0][0] + asks[0][0]) / 2
    low, high = mid * (1 - band_pct / 100), mid * (1 + band_pct / 100)
    return sum(1 for p, _ in bids if p >= low), sum(1 for p, _ in asks if p <= high)


def bar_closes(trades: Sequence[tuple[int, float]], start_ms: int, end_ms: int, bar_ms: int) -> list[float]:
    """The close of every `bar_ms` bar in [start_ms, end_ms) from (time ms, price) trades in time
    order; a bar without trades closes at the previous close. Bars before the first trade are
    left out."""
    closes: list[float] = []
    last: float | None = None
    i = 0
    for bar_end in range(start_ms + bar_ms, end_ms + 1, bar_ms):
        while i < len(trades) and trades[i][0] < bar_end:
            last = trades[i][1]
            i += 1
        if last is not None:
            closes.append(last)
    return closes
