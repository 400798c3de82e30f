"""The market maker process: discover the markets (exchangeInfo), pick each one's starting fair
price, quote them all concurrently, follow the account's inventory, and withdraw every quote on
the way out."""

import asyncio
import logging
import random

from botkit.client import ApiRejection, ExchangeClient, GatewayUnavailable
from botkit.inventory import Inventory
from botkit.ladder import RandomWalk
from botkit.quoter import MarketQuoter, QuoterConfig
from botkit.startup import market_rules, parse_start_prices, retry, start_price, wait_for_gateway
from botkit.stats import Stats
from marketmaker.settings import MarketMakerSettings

log = logging.getLogger("marketmaker")

STOP_GRACE_S = 8.0


class MarketMaker:
    def __init__(self, settings: MarketMakerSettings, client: ExchangeClient) -> None:
        self.settings = settings
        self.client = client
        self.stats = Stats()
        self.inventory = Inventory(settings.mm_skew_bps, settings.mm_inventory_range_pct)
        self.quoters: list[MarketQuoter] = []

    async def run(self, stop: asyncio.Event) -> int:
        """Quote until `stop` is set, then cancel every quote. Returns the number of orders it could
        not cancel (0 unless the gateway was failing)."""
        s = self.settings
        if not await wait_for_gateway(self.client, stop, s.mm_max_backoff_seconds):
            return 0
        self.quoters = await self._quoters(stop)
        if stop.is_set():
            return 0
        if not self.quoters:
            log.error("no market to quote; waiting for SIGTERM")
            await stop.wait()
            return 0
        log.info("quoting %s", ", ".join(q.symbol for q in self.quoters))
        tasks = [
            asyncio.create_task(q.run(stop, s.mm_requote_seconds, s.mm_max_backoff_seconds))
            for q in self.quoters
        ]
        helpers = [asyncio.create_task(self._follow_account(stop)), asyncio.create_task(self._report(stop))]
        await stop.wait()
        _, running = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        for task in [*running, *helpers]:
            task.cancel()
        await asyncio.gather(*running, *helpers, return_exceptions=True)
        if running:
            await asyncio.sleep(0.5)  # let a request abandoned mid-flight reach its engine first
        left = sum(await asyncio.gather(*(q.withdraw() for q in self.quoters)))
        log.info("stopped: %s; orders left open: %d", self.stats.line(), left)
        return left

    # ------------------------------------------------------------------ start-up

    async def _quoters(self, stop: asyncio.Event) -> list[MarketQuoter]:
        """One quoter per market of exchangeInfo (or of MM_SYMBOLS) whose start price is known."""
        s = self.settings
        rules = await retry(stop, lambda: market_rules(self.client, s.symbols()), s.mm_max_backoff_seconds)
        starts = parse_start_prices(s.mm_start_prices)
        await retry(stop, self._read_account, s.mm_max_backoff_seconds)
        config = QuoterConfig(
            shape_levels=s.mm_levels,
            spread_bps=s.mm_spread_bps,
            spacing_bps=s.mm_level_spacing_bps,
            size_multiplier=s.mm_size_multiplier,
            size_growth_pct=s.mm_size_growth_pct,
            size_jitter_pct=s.mm_size_jitter_pct,
            reconcile_seconds=s.mm_reconcile_seconds,
            taker_seconds=s.mm_taker_seconds,
            taker_multiplier=s.mm_taker_multiplier,
            concurrency=s.mm_concurrency,
        )
        quoters = []
        for market in rules or []:
            start = await start_price(self.client, market, starts.get(market.symbol))
            if start is None:
                log.warning("%s: no trade and no MM_START_PRICES entry: not quoted", market.symbol)
                continue
            log.info("%s: fair price starts at %s", market.symbol, start)
            walk = RandomWalk(
                market.ticks_of(start), s.mm_volatility_bps, random.Random(f"{s.mm_seed}:{market.symbol}")
            )
            flow = random.Random(f"{s.mm_seed}:{market.symbol}:flow")
            quoters.append(MarketQuoter(self.client, market, walk, config, self.inventory, self.stats, flow))
        return quoters

    async def _read_account(self) -> None:
        account = await self.client.signed("GET", "/api/v3/account", {"omitZeroBalances": "true"})
        self.inventory.update(account)

    # ------------------------------------------------------------------ background

    async def _follow_account(self, stop: asyncio.Event) -> None:
        """Re-read the balances every mm_account_seconds (the inventory that skews the quotes)."""
        while not stop.is_set():
            await asyncio.sleep(self.settings.mm_account_seconds)
            try:
                await self._read_account()
            except (GatewayUnavailable, ApiRejection) as exc:
                log.warning("account update failed (%s)", exc)
            except Exception:
                log.exception("account update failed")

    async def _report(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await asyncio.sleep(self.settings.mm_stats_seconds)
            log.info("stats: %s", self.stats.line())
