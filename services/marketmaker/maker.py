"""The market maker process: discover the markets (exchangeInfo), pick each one's starting fair
price, quote them all concurrently, follow the account's inventory, and withdraw every quote on
the way out."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from marketmaker.client import ApiRejection, ExchangeClient, GatewayUnavailable
from marketmaker.inventory import Inventory
from marketmaker.ladder import RandomWalk
from marketmaker.quoter import MarketQuoter, QuoterConfig, pause
from marketmaker.rules import MarketRules, RulesError, rules_from_exchange_info
from marketmaker.settings import MarketMakerSettings
from marketmaker.stats import Stats

log = logging.getLogger("marketmaker")

T = TypeVar("T")
NOT_FOUND = 404
STOP_GRACE_S = 8.0


def parse_start_prices(spec: str) -> dict[str, Decimal]:
    """ "SYMBOL=price,..." as {SYMBOL: price}. Raises ValueError for a malformed entry."""
    prices: dict[str, Decimal] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        symbol, sep, text = (s.strip() for s in item.partition("="))
        try:
            price = Decimal(text)
        except InvalidOperation:
            price = Decimal(0)
        if not sep or not price.is_finite() or price <= 0:
            raise ValueError(f"MM_START_PRICES: malformed entry {item!r}")
        prices[symbol.upper()] = price
    return prices


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
        if not await self._wait_for_gateway(stop):
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

    async def _wait_for_gateway(self, stop: asyncio.Event) -> bool:
        """Ping until the gateway answers and the clock is synchronised; False if stopped first."""
        delay = 0.2
        while not stop.is_set():
            try:
                await self.client.public("/api/v3/ping")
                await self.client.sync_clock()
                return True
            except (GatewayUnavailable, ApiRejection) as exc:
                log.info("waiting for the gateway at %s (%s)", self.settings.gateway_url, exc)
            await pause(stop, delay)
            delay = min(self.settings.mm_max_backoff_seconds, delay * 2)
        return False

    async def _quoters(self, stop: asyncio.Event) -> list[MarketQuoter]:
        """One quoter per market of exchangeInfo (or of MM_SYMBOLS) whose start price is known."""
        s = self.settings
        rules = await self._retry(stop, self._market_rules)
        starts = parse_start_prices(s.mm_start_prices)
        await self._retry(stop, self._read_account)
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
            start = await self._start_price(market, starts.get(market.symbol))
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

    async def _market_rules(self) -> list[MarketRules]:
        info = await self.client.public("/api/v3/exchangeInfo")
        wanted = self.settings.symbols()
        out = []
        for entry in info.get("symbols", []):
            if entry.get("status", "TRADING") != "TRADING" or (wanted and entry.get("symbol") not in wanted):
                continue
            try:
                out.append(rules_from_exchange_info(entry))
            except RulesError as exc:
                log.warning("%s; not quoted", exc)
        unknown = set(wanted) - {r.symbol for r in out}
        if unknown:
            log.warning("MM_SYMBOLS names markets not traded here: %s", ", ".join(sorted(unknown)))
        return out

    async def _start_price(self, market: MarketRules, configured: Decimal | None) -> Decimal | None:
        """The last trade's price (GET /api/v3/ticker/price) if the endpoint exists and the market
        has traded, else `configured`."""
        try:
            body = await self.client.public("/api/v3/ticker/price", {"symbol": market.symbol})
            last = Decimal(str(body["price"]))
            if last.is_finite() and last > 0:
                return last
        except ApiRejection as exc:
            if exc.status != NOT_FOUND:
                log.info("%s: no last price (%s %s)", market.symbol, exc.code, exc.msg)
        except (GatewayUnavailable, KeyError, TypeError, InvalidOperation) as exc:
            log.info("%s: no last price (%r)", market.symbol, exc)
        return configured

    async def _read_account(self) -> None:
        account = await self.client.signed("GET", "/api/v3/account", {"omitZeroBalances": "true"})
        self.inventory.update(account)

    async def _retry(self, stop: asyncio.Event, call: Callable[[], Awaitable[T]]) -> T | None:
        """`call()` retried with backoff until it succeeds (its result) or `stop` is set (None)."""
        delay = 0.5
        while not stop.is_set():
            try:
                return await call()
            except (GatewayUnavailable, ApiRejection) as exc:
                log.warning("start-up request failed (%s); retrying in %.1fs", exc, delay)
            except Exception:
                log.exception("start-up request failed; retrying in %.1fs", delay)
            await pause(stop, delay)
            delay = min(self.settings.mm_max_backoff_seconds, delay * 2)
        return None

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
