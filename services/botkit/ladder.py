"""The quoting model, pure (no I/O): a random-walk fair price, inventory skew, and the ladder of
quotes around the fair price on a fixed price grid.

Quotes sit on multiples of a spacing (in ticks) chosen once per market, so a small move of the
fair price changes no order and a move across a grid line changes one level per side: few
cancels and replacements, however often the ladder is recomputed. The fair price is a float
model value; every price and quantity derived from it is an integer count of ticks or steps.
"""

import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from botkit.rules import MarketRules

BUY = "BUY"
SELL = "SELL"
BPS = 10_000


@dataclass(frozen=True, slots=True)
class Quote:
    """One resting order of the ladder: side, price in ticks, quantity in steps."""

    side: str
    ticks: int
    steps: int


@dataclass(frozen=True, slots=True)
class LadderShape:
    levels: int
    spread_bps: float
    spacing_ticks: int
    size_multiplier: int
    size_growth_pct: int
    size_jitter_pct: int


class FairPrice(Protocol):
    """Where quotes are centred: `value` is the fair price in ticks (a model value, never sent);
    `advance(seconds)` moves it on by `seconds` of time and returns the new value."""

    value: float

    def advance(self, seconds: float) -> float: ...


class RandomWalk:
    """A fair price following a geometric random walk: over `dt` seconds its log changes by a
    normal draw with standard deviation volatility_bps * sqrt(dt). Deterministic for a seeded rng."""

    def __init__(self, start: float, volatility_bps: float, rng: random.Random) -> None:
        if start <= 0:
            raise ValueError("a fair price must be positive")
        self.value = start
        self.sigma = volatility_bps / BPS
        self.rng = rng

    def advance(self, seconds: float) -> float:
        if seconds > 0 and self.sigma > 0:
            self.value *= math.exp(self.sigma * math.sqrt(seconds) * self.rng.gauss(0.0, 1.0))
        return self.value


def spacing_ticks(fair_ticks: float, spacing_bps: float) -> int:
    """The grid spacing in ticks for a fair price of `fair_ticks`: spacing_bps of it, at least 1."""
    return max(1, round(fair_ticks * spacing_bps / BPS))


def skew_bps(held: Decimal, baseline: Decimal, max_skew_bps: float, range_pct: float) -> float:
    """How far to shift the fair price (bps) against the inventory: negative when more base is held
    than at start (lower quotes sell it and buy less), positive when less; proportional to the
    deviation and at most max_skew_bps once it reaches range_pct percent of the baseline."""
    if baseline <= 0:
        return 0.0
    deviation = float((held - baseline) / baseline) * 100 / range_pct
    return -max_skew_bps * max(-1.0, min(1.0, deviation))


def level_prices(fair_ticks: float, shape: LadderShape, max_ticks: int) -> tuple[list[int], list[int]]:
    """(bid prices best first, ask prices best first) in ticks, all on the grid.

    The best bid is the highest grid line at least half the spread below the fair price, the best
    ask the lowest at least half the spread above it, so the best bid is always below the best
    ask. Prices outside (0, max_ticks] are left out.
    """
    grid = shape.spacing_ticks
    half = max(0.5, fair_ticks * shape.spread_bps / 2 / BPS)
    top_bid = math.floor((fair_ticks - half) / grid) * grid
    top_ask = math.ceil((fair_ticks + half) / grid) * grid
    bids = [p for p in (top_bid - i * grid for i in range(shape.levels)) if 0 < p <= max_ticks]
    asks = [p for p in (top_ask + i * grid for i in range(shape.levels)) if 0 < p <= max_ticks]
    return bids, asks


def level_steps(rules: MarketRules, ticks: int, level: int, shape: LadderShape, rng: random.Random) -> int:
    """The quantity (steps) of the order at `level` (0 = best) priced `ticks`: minNotional *
    size_multiplier, grown by size_growth_pct per level, varied by up to +-size_jitter_pct."""
    jitter = rng.randint(-shape.size_jitter_pct, shape.size_jitter_pct)
    notional = (
        rules.min_notional
        * shape.size_multiplier
        * (100 + shape.size_growth_pct * level)
        * (100 + jitter)
        / 10_000
    )
    return rules.steps_for_notional(ticks, notional)


def desired_ladder(rules: MarketRules, fair_ticks: float, shape: LadderShape) -> dict[tuple[str, int], int]:
    """Every (side, price in ticks) the ladder wants, with its level index (0 = best)."""
    bids, asks = level_prices(fair_ticks, shape, rules.max_ticks)
    wanted = {(BUY, p): i for i, p in enumerate(bids)}
    wanted.update({(SELL, p): i for i, p in enumerate(asks)})
    return wanted
