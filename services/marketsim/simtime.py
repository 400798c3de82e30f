"""The simulation's price and quoting model run in simulated time, without an exchange: the
stylized facts of the report (marketsim.measures) over many simulated minutes and several seeds,
in seconds of CPU instead of hours of wall time.

Each simulated second: the fair price is the market's `RegimeJumpModel` (seeded as the running
simulation seeds it, `<seed>:<symbol>`); every maker of the mix re-quotes every
`requote_seconds` (rounded up to whole seconds) around its own hysteresis anchor of the fair
price (marketsim.price.AnchoredFairPrice's rule) with the same ladder as on the exchange
(botkit.ladder.level_prices); the book's best bid and ask are the best of the makers' top levels
(the deep book sits further out); noise takers arrive as a Poisson process, each a market order
of a random side filled at the best ask (buy) or bid (sell). What is left out: queue depletion
(a taker never walks a level) and the momentum, mean-reversion and sweeping traders, which only
take liquidity.

The series out are the mid at the end of every second and the trades, both (time ms, price):
what the report measures on the exchange's public data.
"""

import math
import random
from dataclasses import dataclass

from botkit.ladder import LadderShape, level_prices, spacing_ticks
from marketsim.measures import Row, Targets, return_rows
from marketsim.price import BPS, RegimeJumpModel
from marketsim.settings import AgentMix, MakerMix
from marketsim.stylized import autocorrelation, bar_closes, log_returns

PricePoints = list[tuple[int, float]]  # (time ms, price in ticks)


@dataclass(frozen=True, slots=True)
class SimulatedMarket:
    """The mid at the end of every second and every trade of a simulated run."""

    mids: PricePoints
    trades: PricePoints


class MakerTrack:
    """One maker's top of book in simulated time: anchored to the fair price with hysteresis,
    moved only at its re-quote times."""

    def __init__(self, maker: MakerMix, fair: float) -> None:
        self.maker = maker
        self.period = max(1, math.ceil(maker.requote_seconds))
        self.band = maker.hysteresis_bps / BPS
        self.anchor = fair
        self.bid, self.ask = self._top(fair)

    def requote(self, second: int, fair: float) -> None:
        if second % self.period:
            return
        if abs(fair - self.anchor) > self.band * self.anchor:
            self.anchor = fair
        self.bid, self.ask = self._top(self.anchor)

    def _top(self, fair: float) -> tuple[int, int]:
        m = self.maker
        shape = LadderShape(1, m.spread_bps, spacing_ticks(fair, m.spacing_bps), 1, 0, 0)
        bids, asks = level_prices(fair, shape, 2**62)
        return bids[0], asks[0]


def simulate_market(
    symbol: str, seed: int | str, minutes: int, tick_bps: float, mix: AgentMix | None = None
) -> SimulatedMarket:
    """`minutes` simulated minutes of `symbol` with simulation seed `seed`, on a price grid whose
    tick is `tick_bps` of the starting price. A pure function of its arguments."""
    if tick_bps <= 0:
        raise ValueError("a tick must be positive")
    mix = mix or AgentMix()
    if not mix.makers:
        raise ValueError("a simulated market needs a maker")
    model = RegimeJumpModel(BPS / tick_bps, f"{seed}:{symbol}")
    takers = random.Random(f"simtime:{seed}:{symbol}:noise")
    rate = mix.noise_per_minute / 60.0
    makers = [MakerTrack(m, model.price_at(0)) for m in mix.makers]
    mids: PricePoints = []
    trades: PricePoints = []
    arrival = takers.expovariate(rate) if rate > 0 else math.inf
    for second in range(1, minutes * 60 + 1):
        fair = model.price_at(second)
        bid = max(m.bid for m in makers)
        ask = min(m.ask for m in makers)
        while arrival < second:  # takers during this second meet the book of the second before
            trades.append((round(arrival * 1000), float(ask if takers.random() < 0.5 else bid)))
            arrival += takers.expovariate(rate)
        for m in makers:
            m.requote(second, fair)
        bid = max(m.bid for m in makers)
        ask = min(m.ask for m in makers)
        mids.append((second * 1000, (bid + ask) / 2))
    return SimulatedMarket(mids, trades)


@dataclass(frozen=True, slots=True)
class SeedFigures:
    """One seed's stylized-fact rows (on mids), and the lag-1 autocorrelation of trade-price
    returns at each bar length, for comparison (the bid-ask bounce)."""

    seed: str
    rows: list[Row]
    trade_rho: dict[int, float]


def seed_figures(
    symbol: str, seed: str, minutes: int, tick_bps: float, bars_ms: list[int], targets: Targets | None = None
) -> SeedFigures:
    """The report's return rows of `minutes` simulated minutes of `symbol` with `seed`, against
    `targets` (default: the report's)."""
    targets = targets or Targets()
    market = simulate_market(symbol, seed, minutes, tick_bps)
    end_ms = minutes * 60_000
    rows: list[Row] = []
    trade_rho: dict[int, float] = {}
    for bar in bars_ms:
        rows += return_rows(log_returns(bar_closes(market.mids, 0, end_ms, bar)), bar, targets)
        trade_rho[bar] = autocorrelation(log_returns(bar_closes(market.trades, 0, end_ms, bar)), 1)
    return SeedFigures(seed, rows, trade_rho)
