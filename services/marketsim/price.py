"""Where the fair price comes from: the PriceSource protocol, and its first implementation, a
seeded stochastic model with Markov-switching volatility regimes and jumps.

A price source answers "the fair price, in ticks, `t` seconds after the simulation started" for
increasing `t`. Every agent of a market reads the same source (through SharedFairPrice), so the
makers quote around one price and the takers trade against it. Other sources (a replayed or a
mirrored path, a scripted scenario) plug in by implementing `price_at`.

The model is a pure function of its seed and parameters: the path is drawn one second at a time
from a random.Random seeded once, so the same seed gives the same path, whatever the query times.
Its values are floats (a model); prices sent to the exchange are integer ticks derived from them
by the ladder (botkit.ladder) or by the takers' sizes in steps.
"""

import math
import random
import time
from dataclasses import dataclass, field
from typing import Protocol

BPS = 10_000


class PriceSource(Protocol):
    """A fair price path in ticks. `price_at` is called with non-decreasing `seconds`."""

    def price_at(self, seconds: float) -> float: ...


@dataclass(frozen=True, slots=True)
class Regime:
    """One volatility regime: the standard deviation of the log-price over one second (bps), and
    the mean time spent in it before switching (seconds)."""

    volatility_bps: float
    mean_stay_s: float


CALM = Regime(volatility_bps=0.7, mean_stay_s=600.0)
NORMAL = Regime(volatility_bps=1.5, mean_stay_s=300.0)
TURBULENT = Regime(volatility_bps=4.0, mean_stay_s=90.0)


@dataclass(frozen=True, slots=True)
class ModelParams:
    """The regimes (a switch goes to one of the others, uniformly) and the jumps: a Poisson
    process of `jumps_per_hour`, each a Laplace-distributed log move of mean size `jump_bps`."""

    regimes: tuple[Regime, ...] = (CALM, NORMAL, TURBULENT)
    start_regime: int = 1
    jumps_per_hour: float = 6.0
    jump_bps: float = 25.0


@dataclass(slots=True)
class RegimeJumpModel:
    """The stochastic fair price: `start_ticks * exp(log path)`, the log path a sum of one-second
    steps, each normal with the current regime's volatility plus, now and then, a jump."""

    start_ticks: float
    seed: int | str
    params: ModelParams = field(default_factory=ModelParams)
    regime: int = field(init=False)
    second: int = field(init=False, default=0)
    log_price: float = field(init=False, default=0.0)
    rng: random.Random = field(init=False)
    # When set, every second's normal move has this volatility (bps) instead of the regime's; the
    # random draws are the same either way (a scenario's regime, marketsim.overlay).
    forced_volatility_bps: float | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.start_ticks <= 0:
            raise ValueError("a fair price must be positive")
        self.rng = random.Random(f"regime-jump:{self.seed}")
        self.regime = self.params.start_regime

    def step(self) -> float:
        """Draw the next second; returns its log return."""
        p, rng = self.params, self.rng
        regimes = p.regimes
        if len(regimes) > 1 and rng.random() < 1.0 / regimes[self.regime].mean_stay_s:
            self.regime = (self.regime + rng.randrange(1, len(regimes))) % len(regimes)
        volatility = self.forced_volatility_bps
        if volatility is None:
            volatility = regimes[self.regime].volatility_bps
        move = rng.gauss(0.0, volatility / BPS)
        if p.jumps_per_hour > 0 and rng.random() < p.jumps_per_hour / 3600.0:
            size = rng.expovariate(BPS / p.jump_bps) if p.jump_bps > 0 else 0.0
            move += size if rng.random() < 0.5 else -size
        self.second += 1
        self.log_price += move
        return move

    def price_at(self, seconds: float) -> float:
        while self.second < int(seconds):
            self.step()
        return self.start_ticks * math.exp(self.log_price)


def simulate(seed: int | str, seconds: int, params: ModelParams | None = None) -> list[float]:
    """The model's log prices at 0, 1, ..., `seconds` seconds (a start of one tick)."""
    model = RegimeJumpModel(1.0, seed, params or ModelParams())
    path = [0.0]
    for _ in range(seconds):
        model.step()
        path.append(model.log_price)
    return path


class SharedFairPrice:
    """A PriceSource read on the wall clock, shaped as botkit.ladder.FairPrice so that the
    market maker's quoter centres its ladder on it; every agent of a market shares one."""

    def __init__(self, source: PriceSource, started: float | None = None) -> None:
        self.source = source
        self.started = time.monotonic() if started is None else started
        self.value = source.price_at(0.0)

    def advance(self, seconds: float = 0.0) -> float:
        """The source's price now (`seconds` is ignored: the clock is shared)."""
        self.value = self.source.price_at(time.monotonic() - self.started)
        return self.value


class AnchoredFairPrice:
    """A quoter's view of a shared fair price with hysteresis: `value` stays where it was until the
    fair price has moved more than `band_bps` away, then jumps to it. A random walk leaves a band
    of width b after a time growing as b^2 and each move re-quotes about b / spacing levels, so a
    wider band means proportionally fewer requests (quotes lag the fair price by up to b)."""

    def __init__(self, fair: SharedFairPrice, band_bps: float) -> None:
        self.fair = fair
        self.band = band_bps / BPS
        self.value = fair.value

    def advance(self, seconds: float = 0.0) -> float:
        now = self.fair.advance(seconds)
        if abs(now - self.value) > self.band * self.value:
            self.value = now
        return self.value
