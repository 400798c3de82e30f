"""The simulation process: discover the markets, give each a seeded fair price, start every
agent of its mix (makers and deep liquidity quoting, takers taking), follow each account's
inventory, and withdraw every resting order on the way out."""

import asyncio
import logging
import random
import time
from decimal import Decimal

from botkit.client import ApiRejection, ExchangeClient, GatewayUnavailable
from botkit.inventory import Inventory
from botkit.quoter import MarketQuoter
from botkit.rules import MarketRules
from botkit.startup import market_rules, parse_start_prices, retry, start_price, wait_for_gateway
from botkit.stats import Stats
from exchange_core import store
from exchange_core.clock import now_ms
from exchange_core.keys import Keys
from exchange_core.runtime import pause
from marketsim.control import MarketControls, ScenarioCounts, ScenarioFollower, load_scenario
from marketsim.makers import resting_agents
from marketsim.mirror import MirrorSource
from marketsim.overlay import ScenarioOverlay
from marketsim.price import SharedFairPrice
from marketsim.settings import AgentMix, SimSettings, agent_names
from marketsim.sources import open_price_source
from marketsim.takers import MEAN_REVERSION, MOMENTUM, NOISE, SWEEPER, TakerAgent, TakerConfig

log = logging.getLogger("marketsim")

STOP_GRACE_S = 8.0


def taker_configs(mix: AgentMix) -> dict[str, TakerConfig]:
    """The taker kinds of a mix, by agent name."""
    limit = mix.inventory_limit_multiple
    return {
        NOISE: TakerConfig(
            NOISE, mix.noise_per_minute, mix.noise_size_multiple, mix.noise_size_alpha, 200.0, limit
        ),
        MOMENTUM: TakerConfig(
            MOMENTUM, mix.momentum_per_minute, mix.trader_size_multiple, limit_multiple=limit
        ),
        MEAN_REVERSION: TakerConfig(
            MEAN_REVERSION, mix.mean_reversion_per_minute, mix.trader_size_multiple, limit_multiple=limit
        ),
        SWEEPER: TakerConfig(SWEEPER, mix.sweeps_per_minute, limit_multiple=limit * 5),
    }


class MarketSimulation:
    def __init__(self, settings: SimSettings) -> None:
        self.settings = settings
        s = settings
        mixes = [s.sim_mix, *s.sim_market_mix.values()]
        missing = [a for a in agent_names(mixes) if a not in s.sim_accounts]
        if missing:
            raise ValueError(f"SIM_ACCOUNTS has no key for: {', '.join(missing)}")
        self.clients = {
            agent: ExchangeClient(s.gateway_url, key, secret, s.sim_request_timeout_seconds)
            for agent, (key, secret) in s.sim_accounts.items()
        }
        self.stats = Stats()  # over every agent and market
        self.inventories = {
            agent: Inventory(s.sim_skew_bps, s.sim_inventory_range_pct) for agent in self.clients
        }
        self.quoters: list[tuple[MarketQuoter, float]] = []
        self.takers: list[TakerAgent] = []
        self.feeds: list[asyncio.Task[None]] = []  # mirrored price streams
        # Scenarios (admin API, SIM_SCENARIO) reach the simulation through Redis.
        self.redis = store.connect(s.redis_url)
        self.scenario_counts = ScenarioCounts()
        self.scenarios = ScenarioFollower(self.redis, Keys(s.key_prefix), self.scenario_counts)
        self.scenario = load_scenario(s.sim_scenario) if s.sim_scenario else None

    async def aclose(self) -> None:
        await asyncio.gather(*(c.aclose() for c in self.clients.values()))
        await self.redis.aclose()

    async def run(self, stop: asyncio.Event) -> int:
        """Simulate until `stop` is set, then cancel every resting order. Returns the number of
        orders it could not cancel (0 unless the gateway was failing)."""
        s = self.settings
        first = next(iter(self.clients.values()))
        if not await wait_for_gateway(first, stop, s.sim_max_backoff_seconds):
            return 0
        for client in self.clients.values():
            client.clock_offset_ms = first.clock_offset_ms
        rules = await retry(stop, lambda: market_rules(first, s.symbols()), s.sim_max_backoff_seconds)
        await retry(stop, self._read_accounts, s.sim_max_backoff_seconds)
        for market in rules or []:
            await self._add_market(market, first)
        if stop.is_set() or (not self.quoters and not self.takers):
            if not stop.is_set():
                log.error("no market to simulate; waiting for SIGTERM")
                await stop.wait()
            return 0
        quoting = [
            asyncio.create_task(q.run(stop, period, s.sim_max_backoff_seconds)) for q, period in self.quoters
        ]
        taking = [asyncio.create_task(t.run(stop, s.sim_max_backoff_seconds)) for t in self.takers]
        if self.scenario is not None:
            await self.scenarios.start_scenario(self.scenario, now_ms())
        helpers = [
            asyncio.create_task(self._follow_accounts(stop)),
            asyncio.create_task(self._report(stop)),
            asyncio.create_task(self.scenarios.run(stop)),
            *self.feeds,
        ]
        await stop.wait()
        _, running = await asyncio.wait([*quoting, *taking], timeout=STOP_GRACE_S)
        for task in [*running, *helpers]:
            task.cancel()
        await asyncio.gather(*running, *helpers, return_exceptions=True)
        if running:
            await asyncio.sleep(0.5)  # let a request abandoned mid-flight reach its engine first
        left = sum(await asyncio.gather(*(q.withdraw() for q, _ in self.quoters)))
        log.info("stopped: %s; orders left open: %d", self.stats.line(), left)
        return left

    async def _add_market(self, market: MarketRules, client: ExchangeClient) -> None:
        s = self.settings
        configured = parse_start_prices(s.sim_start_prices).get(market.symbol)
        start: Decimal | None = await start_price(client, market, configured)
        seed, price = f"{s.sim_seed}:{market.symbol}", s.price_for(market.symbol)
        source = await open_price_source(price, market, start, seed, self.feeds, s.sim_max_backoff_seconds)
        if source is None:
            log.warning("%s: no %s price to start from: not simulated", market.symbol, price.source)
            return
        mix = s.mix_for(market.symbol)
        started, origin_ms = time.monotonic(), now_ms()
        overlay = ScenarioOverlay(source, origin_ms, seed)
        fair = SharedFairPrice(overlay, started)
        log.info("%s: price second 0 is epoch ms %d", market.symbol, origin_ms)
        resting = resting_agents(
            self.clients,
            self.inventories,
            self.stats,
            market,
            fair,
            mix,
            s.sim_seed,
            s.sim_reconcile_seconds,
            s.sim_concurrency,
        )
        self.quoters += resting
        controls = MarketControls(market.symbol, overlay, [(q, q.config) for q, _ in resting])
        if isinstance(source, MirrorSource):
            controls.source_stale = source.is_stale
            controls.stale_spread_multiple = price.mirror_stale_spread_multiple
        self.scenarios.add(controls)
        for agent, config in taker_configs(mix).items():
            rng = random.Random(f"{s.sim_seed}:{market.symbol}:{agent}")
            self.takers.append(TakerAgent(agent, self.clients[agent], market, fair, config, rng, self.stats))
        log.info(
            "%s: fair price starts at %s; %d agents",
            market.symbol,
            market.price_text(round(fair.value)),
            len(mix.makers) + 5,
        )

    async def _read_accounts(self) -> None:
        for agent, client in self.clients.items():
            account = await client.signed("GET", "/api/v3/account", {"omitZeroBalances": "true"})
            self.inventories[agent].update(account)

    async def _follow_accounts(self, stop: asyncio.Event) -> None:
        """Re-read every agent's balances (the inventory that skews the quotes)."""
        while not stop.is_set():
            await pause(stop, self.settings.sim_account_seconds)
            try:
                await self._read_accounts()
            except (GatewayUnavailable, ApiRejection) as exc:
                log.warning("account update failed (%s)", exc)

    async def _report(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await pause(stop, self.settings.sim_stats_seconds)
            log.info("stats: %s", self.stats.line())
