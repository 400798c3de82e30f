"""The resting side of the simulation: market makers and deep liquidity, each the market maker's
own quoter (botkit.quoter.MarketQuoter) centred on the market's shared fair price, with its
own account, ladder shape and re-quote period."""

import random

from botkit.client import ExchangeClient
from botkit.inventory import Inventory
from botkit.ladder import FairPrice
from botkit.quoter import MarketQuoter, QuoterConfig
from botkit.rules import MarketRules
from botkit.stats import Stats
from marketsim.decisions import pareto_multiple
from marketsim.price import AnchoredFairPrice, SharedFairPrice
from marketsim.settings import AgentMix, MakerMix

# A deep level's size is at most this many times its median-ish base size.
DEPTH_SIZE_CAP = 50.0


class DepthQuoter(MarketQuoter):
    """Deep resting liquidity: a wide ladder whose level sizes are heavy-tailed (Pareto) multiples
    of `size_multiplier` minNotionals instead of the maker's growing sizes."""

    def __init__(
        self,
        client: ExchangeClient,
        rules: MarketRules,
        fair: FairPrice,
        config: QuoterConfig,
        inventory: Inventory,
        stats: Stats,
        rng: random.Random,
        alpha: float,
    ) -> None:
        super().__init__(client, rules, fair, config, inventory, stats, rng)
        self.alpha = alpha

    def quote_steps(self, ticks: int, level: int) -> int:
        multiple = self.config.size_multiplier * pareto_multiple(self.rng, self.alpha, DEPTH_SIZE_CAP)
        return self.rules.steps_for_notional(ticks, self.rules.min_notional * round(multiple))


def maker_config(maker: MakerMix, reconcile_seconds: float, concurrency: int) -> QuoterConfig:
    return QuoterConfig(
        shape_levels=maker.levels,
        spread_bps=maker.spread_bps,
        spacing_bps=maker.spacing_bps,
        size_multiplier=maker.size_multiplier,
        size_growth_pct=25,
        size_jitter_pct=30,
        reconcile_seconds=reconcile_seconds,
        taker_seconds=0.0,
        taker_multiplier=1,
        concurrency=concurrency,
    )


def depth_config(mix: AgentMix, reconcile_seconds: float, concurrency: int) -> QuoterConfig:
    return QuoterConfig(
        shape_levels=mix.depth_levels,
        spread_bps=mix.depth_spread_bps,
        spacing_bps=mix.depth_spacing_bps,
        size_multiplier=mix.depth_size_multiple,
        size_growth_pct=0,
        size_jitter_pct=0,
        reconcile_seconds=reconcile_seconds,
        taker_seconds=0.0,
        taker_multiplier=1,
        concurrency=concurrency,
    )


def resting_agents(
    clients: dict[str, ExchangeClient],
    inventories: dict[str, Inventory],
    stats: Stats,
    rules: MarketRules,
    fair: SharedFairPrice,
    mix: AgentMix,
    seed: int,
    reconcile_seconds: float,
    concurrency: int,
) -> list[tuple[MarketQuoter, float]]:
    """The market's makers and deep liquidity, each with its re-quote period in seconds; each
    follows `fair` with its own hysteresis."""
    out: list[tuple[MarketQuoter, float]] = []
    for maker in mix.makers:
        agent = f"maker-{maker.name}"
        rng = random.Random(f"{seed}:{rules.symbol}:{agent}")
        config = maker_config(maker, reconcile_seconds, concurrency)
        view = AnchoredFairPrice(fair, maker.hysteresis_bps)
        quoter = MarketQuoter(clients[agent], rules, view, config, inventories[agent], stats, rng)
        out.append((quoter, maker.requote_seconds))
    if mix.depth_levels:
        rng = random.Random(f"{seed}:{rules.symbol}:depth")
        config = depth_config(mix, reconcile_seconds * 4, concurrency)
        depth = DepthQuoter(
            clients["depth"],
            rules,
            AnchoredFairPrice(fair, mix.depth_hysteresis_bps),
            config,
            inventories["depth"],
            stats,
            rng,
            mix.depth_size_alpha,
        )
        out.append((depth, mix.depth_requote_seconds))
    return out
