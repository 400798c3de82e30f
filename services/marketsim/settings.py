"""Market simulation configuration from the environment (SIM_* variables, GATEWAY_URL).

The agent mix is one JSON object (SIM_MIX) for every market, with per-market replacements in
SIM_MARKET_MIX (`{"BTCUSDT": {...}}`); the chart's values and `make run` pass them as they are.
"""

import json
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from botkit.startup import DEFAULT_START_PRICES
from exchange_core.telemetry import ProbeSettings


class MakerMix(BaseModel):
    """One market maker: its own account (`name`), spread and level spacing in bps of the fair
    price, levels a side, first-level size in minNotionals, how often it re-quotes, and how far
    the fair price moves before its ladder follows (`hysteresis_bps`, marketsim.price)."""

    name: str
    spread_bps: float = Field(gt=0)
    spacing_bps: float = Field(gt=0)
    levels: int = Field(ge=1, le=500)
    size_multiplier: int = Field(ge=1)
    requote_seconds: float = Field(gt=0)
    hysteresis_bps: float = Field(default=0.0, ge=0)


DEFAULT_MAKERS = [
    MakerMix(
        name="tight",
        spread_bps=3,
        spacing_bps=1,
        levels=6,
        size_multiplier=4,
        requote_seconds=1.0,
        hysteresis_bps=1,
    ),
    MakerMix(
        name="medium",
        spread_bps=8,
        spacing_bps=2,
        levels=10,
        size_multiplier=15,
        requote_seconds=2.0,
        hysteresis_bps=3,
    ),
    MakerMix(
        name="wide",
        spread_bps=20,
        spacing_bps=4,
        levels=12,
        size_multiplier=50,
        requote_seconds=4.0,
        hysteresis_bps=6,
    ),
]


class AgentMix(BaseModel):
    """Every agent of one market. Sizes are in multiples of the market's minNotional; rates in
    orders per minute (0 turns a kind off)."""

    makers: list[MakerMix] = Field(default_factory=lambda: list(DEFAULT_MAKERS))
    # Deep resting liquidity: `depth_levels` a side from `depth_spread_bps` around the fair price
    # on a grid of `depth_spacing_bps`, each level Pareto(depth_size_alpha)-sized.
    depth_levels: int = Field(default=250, ge=0, le=1000)
    depth_spread_bps: float = Field(default=30.0, gt=0)
    depth_spacing_bps: float = Field(default=1.9, gt=0)
    depth_size_multiple: int = Field(default=40, ge=1)
    depth_size_alpha: float = Field(default=1.3, gt=1)
    depth_requote_seconds: float = Field(default=5.0, gt=0)
    depth_hysteresis_bps: float = Field(default=10.0, ge=0)
    noise_per_minute: float = Field(default=40.0, ge=0)
    noise_size_multiple: float = Field(default=3.0, gt=0)
    noise_size_alpha: float = Field(default=1.5, gt=1)
    momentum_per_minute: float = Field(default=6.0, ge=0)
    mean_reversion_per_minute: float = Field(default=6.0, ge=0)
    trader_size_multiple: float = Field(default=10.0, gt=0)
    sweeps_per_minute: float = Field(default=0.5, ge=0)
    # An agent's net position in a market stays within this many minNotionals.
    inventory_limit_multiple: int = Field(default=20_000, ge=1)


class PriceConfig(BaseModel):
    """Where a market's fair price comes from (docs/marketsim.md): the seeded `model`; a `replay`
    of Binance klines or aggTrades files (`replay_path`: a file, or a directory of
    `<SYMBOL>-<kind>-<day>` files of `replay_kind`) at `replay_speed` times real time, looping
    at the end unless `replay_loop` is false; or a `mirror` of a Binance-format aggTrade WebSocket
    stream (`mirror_url`, `{symbol}` standing for the lowercase symbol), the last price held
    while it is gone; after `mirror_stale_seconds` without a trade, a warning (every as long)
    and the makers' spreads `mirror_stale_spread_multiple` times wider until trades return."""

    source: Literal["model", "replay", "mirror"] = "model"
    replay_path: str = ""
    replay_kind: Literal["klines", "aggTrades"] = "klines"
    replay_speed: float = Field(default=1.0, gt=0)
    replay_loop: bool = True
    mirror_url: str = ""
    mirror_stale_seconds: float = Field(default=30.0, gt=0)
    mirror_stale_spread_multiple: float = Field(default=3.0, ge=1)


class SimSettings(ProbeSettings):
    gateway_url: str = "http://127.0.0.1:8000"
    # Every agent's API key, {"agent": ["key", "secret"]} (the launcher creates them:
    # marketsim.accounts).
    sim_accounts: dict[str, tuple[str, str]] = Field(default_factory=dict)
    # Markets to simulate, comma-separated; empty: every market of exchangeInfo.
    sim_symbols: str = ""
    sim_start_prices: str = DEFAULT_START_PRICES
    sim_seed: int = 16
    sim_mix: AgentMix = Field(default_factory=AgentMix)
    sim_market_mix: dict[str, AgentMix] = Field(default_factory=dict)
    # Quotes shift by up to sim_skew_bps against a maker's inventory, reached when its base asset
    # is sim_inventory_range_pct away from where it started.
    sim_skew_bps: float = Field(default=10.0, ge=0)
    sim_inventory_range_pct: float = Field(default=20.0, gt=0)
    sim_account_seconds: float = Field(default=10.0, gt=0)
    sim_reconcile_seconds: float = Field(default=30.0, gt=0)
    sim_max_backoff_seconds: float = Field(default=30.0, gt=0)
    sim_concurrency: int = Field(default=4, ge=1)
    sim_request_timeout_seconds: float = Field(default=10.0, gt=0)
    sim_stats_seconds: float = Field(default=30.0, gt=0)
    # A scenario file (JSON, exchange_core.simscript) started with the simulation; "" for none.
    sim_scenario: str = ""
    # The price source of every market (PriceConfig's fields as SIM_PRICE_SOURCE, SIM_REPLAY_PATH,
    # ...), and per-market replacements of some of them in SIM_MARKET_PRICE
    # (`{"BTCUSDT": {"source": "replay", "replay_speed": 60}}`).
    sim_price_source: Literal["model", "replay", "mirror"] = "model"
    sim_replay_path: str = ""
    sim_replay_kind: Literal["klines", "aggTrades"] = "klines"
    sim_replay_speed: float = Field(default=1.0, gt=0)
    sim_replay_loop: bool = True
    sim_mirror_url: str = ""
    sim_mirror_stale_seconds: float = Field(default=30.0, gt=0)
    sim_mirror_stale_spread_multiple: float = Field(default=3.0, ge=1)
    sim_market_price: dict[str, PriceConfig] = Field(default_factory=dict)

    def symbols(self) -> list[str]:
        return [s.strip().upper() for s in self.sim_symbols.split(",") if s.strip()]

    def mix_for(self, symbol: str) -> AgentMix:
        return self.sim_market_mix.get(symbol, self.sim_mix)

    def price_for(self, symbol: str) -> PriceConfig:
        """The market's price source: the SIM_* defaults with its SIM_MARKET_PRICE fields over them."""
        defaults = PriceConfig(
            source=self.sim_price_source,
            replay_path=self.sim_replay_path,
            replay_kind=self.sim_replay_kind,
            replay_speed=self.sim_replay_speed,
            replay_loop=self.sim_replay_loop,
            mirror_url=self.sim_mirror_url,
            mirror_stale_seconds=self.sim_mirror_stale_seconds,
            mirror_stale_spread_multiple=self.sim_mirror_stale_spread_multiple,
        )
        own = self.sim_market_price.get(symbol)
        return defaults.model_copy(update=own.model_dump(exclude_unset=True)) if own else defaults


def agent_names(mixes: list[AgentMix]) -> list[str]:
    """Every agent account the mixes need: one per maker name, then depth, noise, momentum,
    mean reversion and sweeper (an agent trades every market with its one account)."""
    makers = {f"maker-{m.name}": None for mix in mixes for m in mix.makers}
    return [*makers, "depth", "noise", "momentum", "meanrev", "sweeper"]


def mixes_from_env(env: Mapping[str, str]) -> list[AgentMix]:
    """The mixes SIM_MIX and SIM_MARKET_MIX of `env` name (for the launcher, which creates their
    accounts before the simulation starts). Raises ValueError (pydantic's) for a malformed one."""
    mix = AgentMix.model_validate_json(env["SIM_MIX"]) if env.get("SIM_MIX") else AgentMix()
    per_market = json.loads(env.get("SIM_MARKET_MIX") or "{}")
    return [mix, *(AgentMix.model_validate(m) for m in per_market.values())]
