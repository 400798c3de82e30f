"""Scenarios applied to a market's fair price: a PriceSource wrapping the market's own source.

`ScenarioOverlay.price_at(seconds)` is the base source's price, moved by the scheduled actions
(exchange_core.simcontrol) in force at that time:

- a regime sets the volatility of each second's move: a source that can take it
  (`VolatilityControl`, as marketsim.price.RegimeJumpModel) draws its own move with it; for any
  other source (a replayed or mirrored path) the overlay adds a seeded normal move of that
  volatility on top of the source's path, and keeps it after the regime ends (no jump back);
- a flash crash multiplies the price by its factor (down or up by its percent, linear in time,
  then back), crashes in force multiplying.

Pure given its inputs: times are seconds since the simulation started (the caller's clock), the
actions carry epoch milliseconds and `origin_ms` is the epoch time of second 0. The path is drawn
one whole second at a time, in order, so the same schedule read at any times gives the same path.
"""

import math
import random
from typing import Protocol, runtime_checkable

from exchange_core.simcontrol import FlashCrashAction, RegimeAction, SimAction
from marketsim.price import BPS, PriceSource


@runtime_checkable
class VolatilityControl(Protocol):
    """A source whose per-second volatility can be forced (None: its own)."""

    forced_volatility_bps: float | None


def volatility_at(actions: list[SimAction], ms: float) -> float | None:
    """The volatility (bps per second) of the latest-starting regime in force at `ms`; None: none."""
    regimes = [a for a in actions if isinstance(a, RegimeAction) and a.active_at(ms)]
    return max(regimes, key=lambda a: a.start_ms).volatility_bps if regimes else None


def crash_factor(actions: list[SimAction], ms: float) -> float:
    """The product of the flash crashes' factors at `ms` (1.0 with none in force)."""
    factor = 1.0
    for action in actions:
        if isinstance(action, FlashCrashAction):
            factor *= action.factor_at(ms)
    return factor


class ScenarioOverlay:
    """`base` moved by `actions` (replaced by the caller as the schedule changes)."""

    def __init__(self, base: PriceSource, origin_ms: int, seed: int | str) -> None:
        self.base = base
        self.origin_ms = origin_ms
        self.actions: list[SimAction] = []
        self.rng = random.Random(f"scenario-overlay:{seed}")
        self.second = 0
        self.extra_log = 0.0

    def ms_at(self, seconds: float) -> float:
        return self.origin_ms + seconds * 1000

    def price_at(self, seconds: float) -> float:
        while self.second < int(seconds):
            self.second += 1
            self._draw(self.second)
        price = self.base.price_at(seconds) * math.exp(self.extra_log)
        return price * crash_factor(self.actions, self.ms_at(seconds))

    def _draw(self, second: int) -> None:
        volatility = volatility_at(self.actions, self.ms_at(second))
        if isinstance(self.base, VolatilityControl):
            self.base.forced_volatility_bps = volatility
            self.base.price_at(second)
        elif volatility is not None:
            self.extra_log += self.rng.gauss(0.0, volatility / BPS)
