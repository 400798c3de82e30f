"""Quoting one market: keep the ladder resting (cancel what moved, place what is missing), send
the occasional taker order, and withdraw every quote on the way out."""

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass

from botkit.client import ApiRejection, ExchangeClient, GatewayUnavailable
from botkit.inventory import Inventory
from botkit.ladder import (
    BUY,
    SELL,
    FairPrice,
    LadderShape,
    Quote,
    desired_ladder,
    level_steps,
    spacing_ticks,
)
from botkit.rules import MarketRules
from botkit.stats import Stats
from exchange_core.runtime import pause

log = logging.getLogger("marketmaker")

UNKNOWN_ORDER = -2011
INVALID_TIMESTAMP = -1021
WITHDRAW_ATTEMPTS = 4
INSUFFICIENT_BALANCE = "Account has insufficient balance for requested action."
INSUFFICIENT_PAUSE_S = 30.0
REJECTION_LOG_S = 30.0


@dataclass(frozen=True, slots=True)
class QuoterConfig:
    shape_levels: int
    spread_bps: float
    spacing_bps: float
    size_multiplier: int
    size_growth_pct: int
    size_jitter_pct: int
    reconcile_seconds: float
    taker_seconds: float
    taker_multiplier: int
    concurrency: int


class MarketQuoter:
    """The ladder of one market. `cycle` is called every few seconds by `run`; requests of one
    market never overlap across cycles, so the tracked orders are never raced by this bot."""

    def __init__(
        self,
        client: ExchangeClient,
        rules: MarketRules,
        walk: FairPrice,
        config: QuoterConfig,
        inventory: Inventory,
        stats: Stats,
        rng: random.Random,
    ) -> None:
        self.client = client
        self.rules = rules
        self.symbol = rules.symbol
        self.walk = walk
        self.config = config
        self.inventory = inventory
        self.stats = stats
        self.rng = rng
        self.orders: dict[int, Quote] = {}
        self.started = False
        self.reconcile_at = 0.0
        self.taker_at = time.monotonic() + self._taker_interval()
        self.shape = self._shape_for(walk.value)
        self._limit = asyncio.Semaphore(config.concurrency)
        self.paused_until: dict[str, float] = {}
        self._quiet_until: dict[tuple[int, str], float] = {}
        self._client_ids = 0
        self._run_id = secrets.token_hex(6)  # client order ids stay unique across restarts

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event, requote_seconds: float, max_backoff_s: float) -> None:
        """Quote until `stop` is set; a failed cycle is logged and retried after a growing pause.
        Returns after the cycle in progress when `stop` is set (never in the middle of one)."""
        backoff = 0.0
        last = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            self.walk.advance(now - last)
            last = now
            try:
                await self.cycle(now)
                backoff = 0.0
            except Exception as exc:
                backoff = min(max_backoff_s, backoff * 2 or 0.5)
                self.reconcile_at = 0.0  # what happened to the requests in flight is unknown
                await self._failed(exc, backoff)
            await pause(stop, backoff or requote_seconds)

    async def cycle(self, now: float) -> None:
        """One round: (first time) withdraw leftovers of an earlier run; re-read open orders when
        due; re-quote; maybe one taker order."""
        if not self.started:
            await self.withdraw_once()
            self.orders = {}
            self.started = True
        if now >= self.reconcile_at:
            await self.reconcile(now)
        await self.requote()
        if self.config.taker_seconds > 0 and now >= self.taker_at:
            self.taker_at = now + self._taker_interval()
            await self.take()
            await self.reconcile(time.monotonic())

    # ------------------------------------------------------------------ quoting

    def fair_ticks(self) -> float:
        """The fair price in ticks, shifted against the inventory of the base asset."""
        shift = self.inventory.skew_bps(self.rules.base_asset)
        return self.walk.value * (1 + shift / 10_000)

    def reconfigure(self, config: QuoterConfig) -> None:
        """Quote with `config` from the next cycle on (its re-quote replaces what no longer fits)."""
        self.config = config
        self.shape = self._shape_for(self.walk.value)

    def _shape_for(self, fair_ticks: float) -> LadderShape:
        self._shape_anchor = fair_ticks
        c = self.config
        return LadderShape(
            levels=c.shape_levels,
            spread_bps=c.spread_bps,
            spacing_ticks=spacing_ticks(fair_ticks, c.spacing_bps),
            size_multiplier=c.size_multiplier,
            size_growth_pct=c.size_growth_pct,
            size_jitter_pct=c.size_jitter_pct,
        )

    async def requote(self) -> None:
        """Cancel the orders not on the wanted ladder (and duplicates), then place what is missing.
        Cancels go first so that a new quote never meets an old one of the other side."""
        fair = self.fair_ticks()
        if not 2 / 3 < fair / self._shape_anchor < 3 / 2:
            self.shape = self._shape_for(fair)  # the price moved far: a new grid spacing
        wanted = desired_ladder(self.rules, fair, self.shape)
        kept: set[tuple[str, int]] = set()
        stale: list[int] = []
        for order_id, quote in sorted(self.orders.items()):
            key = (quote.side, quote.ticks)
            if key in wanted and key not in kept:
                kept.add(key)
            else:
                stale.append(order_id)
        await self._all(self.cancel(order_id) for order_id in stale)
        now = time.monotonic()
        missing = [
            (key, level)
            for key, level in wanted.items()
            if key not in kept and now >= self.paused_until.get(key[0], 0.0)
        ]
        await self._all(
            self.place(Quote(side, ticks, self.quote_steps(ticks, level))) for (side, ticks), level in missing
        )

    def quote_steps(self, ticks: int, level: int) -> int:
        """The quantity (steps) of a new quote at `level` (0 = best) priced `ticks`: level_steps."""
        return level_steps(self.rules, ticks, level, self.shape, self.rng)

    async def place(self, quote: Quote) -> None:
        """A LIMIT_MAKER order for `quote`; tracked when accepted, counted and logged when refused."""
        params: dict[str, str | int] = {
            "symbol": self.symbol,
            "side": quote.side,
            "type": "LIMIT_MAKER",
            "price": self.rules.price_text(quote.ticks),
            "quantity": self.rules.qty_text(quote.steps),
            "newClientOrderId": self._client_id(),
            "newOrderRespType": "ACK",
        }
        try:
            body = await self.client.signed("POST", "/api/v3/order", params)
        except ApiRejection as exc:
            self._rejected(quote.side, params, exc)
            return
        self.orders[int(body["orderId"])] = quote
        self.stats.placed += 1

    async def cancel(self, order_id: int) -> None:
        """Cancel one of its orders; an order the gateway no longer knows as open is forgotten."""
        try:
            await self.client.signed("DELETE", "/api/v3/order", {"symbol": self.symbol, "orderId": order_id})
        except ApiRejection as exc:
            if exc.code != UNKNOWN_ORDER:
                raise
        else:
            self.stats.cancelled += 1
        self.orders.pop(order_id, None)

    async def reconcile(self, now: float) -> None:
        """Replace the tracked orders by the gateway's list of open orders (fills by others,
        orders whose answer was lost)."""
        rows = await self.client.signed("GET", "/api/v3/openOrders", {"symbol": self.symbol})
        self.orders = {
            int(row["orderId"]): Quote(
                str(row["side"]),
                self.rules.ticks_exact(row["price"]),
                self.rules.steps_exact(row["origQty"]),
            )
            for row in rows
        }
        self.reconcile_at = now + self.config.reconcile_seconds

    async def take(self) -> None:
        """A small MARKET order of random side against the book (self-trade allowed: the bot's own
        quotes are usually the other side), so that trades and candles keep moving."""
        side = self.rng.choice((BUY, SELL))
        if not any(q.side != side for q in self.orders.values()):
            return
        ticks = max(1, round(self.walk.value))
        notional = self.rules.min_notional * self.config.taker_multiplier
        params: dict[str, str | int] = {
            "symbol": self.symbol,
            "side": side,
            "type": "MARKET",
            "quantity": self.rules.qty_text(self.rules.steps_for_notional(ticks, notional)),
            "selfTradePreventionMode": "NONE",
            "newClientOrderId": self._client_id(),
            "newOrderRespType": "FULL",
        }
        try:
            body = await self.client.signed("POST", "/api/v3/order", params)
        except ApiRejection as exc:
            self._rejected(side, params, exc)
            return
        self.stats.takers += 1
        self.stats.trades += len(body.get("fills", []))

    # ------------------------------------------------------------------ withdrawal

    async def withdraw_once(self) -> None:
        """Cancel every open order of the bot in this market (none open is fine)."""
        try:
            cancelled = await self.client.signed("DELETE", "/api/v3/openOrders", {"symbol": self.symbol})
        except ApiRejection as exc:
            if exc.code != UNKNOWN_ORDER:
                raise
            return
        self.stats.cancelled += len(cancelled)

    async def withdraw(self) -> int:
        """Cancel every open order and check that none is left, retrying a few times; returns how
        many orders are still open (0 unless the gateway kept failing)."""
        left = -1
        for attempt in range(WITHDRAW_ATTEMPTS):
            try:
                await self.withdraw_once()
                left = len(await self.client.signed("GET", "/api/v3/openOrders", {"symbol": self.symbol}))
            except (GatewayUnavailable, ApiRejection) as exc:
                log.warning("%s: withdrawing quotes failed (%s)", self.symbol, exc)
            if left == 0:
                self.orders = {}
                return 0
            await asyncio.sleep(0.5 * (attempt + 1))
        return left

    # ------------------------------------------------------------------ helpers

    def _rejected(self, side: str, params: dict[str, str | int], exc: ApiRejection) -> None:
        """Count a refused order and log it, at most once per REJECTION_LOG_S for the same code and
        message. Insufficient funds pauses placing on that side for INSUFFICIENT_PAUSE_S."""
        self.stats.rejected += 1
        now = time.monotonic()
        if exc.msg == INSUFFICIENT_BALANCE:
            self.paused_until[side] = now + INSUFFICIENT_PAUSE_S
        key = (exc.code, exc.msg)
        if now < self._quiet_until.get(key, 0.0):
            return
        self._quiet_until[key] = now + REJECTION_LOG_S
        log.warning(
            "%s: order rejected: %s -> %s %s (repeats are not logged for %.0f s)",
            self.symbol,
            params,
            exc.code,
            exc.msg,
            REJECTION_LOG_S,
        )

    def _taker_interval(self) -> float:
        return self.config.taker_seconds * self.rng.uniform(0.5, 1.5)

    def _client_id(self) -> str:
        self._client_ids += 1
        return f"mm-{self._run_id}-{self._client_ids}"

    async def _failed(self, exc: Exception, backoff: float) -> None:
        """Log a failed cycle (and resynchronise the clock after a timestamp refusal)."""
        if isinstance(exc, GatewayUnavailable):
            self.stats.unavailable += 1
            log.warning("%s: gateway unavailable (%s); retrying in %.1fs", self.symbol, exc, backoff)
        elif isinstance(exc, ApiRejection):
            log.warning("%s: request refused (%s); retrying in %.1fs", self.symbol, exc, backoff)
            if exc.code == INVALID_TIMESTAMP:
                try:
                    await self.client.sync_clock()
                except (GatewayUnavailable, ApiRejection) as sync_exc:
                    log.warning("clock sync failed (%s)", sync_exc)
        else:
            log.error("%s: unexpected failure; retrying in %.1fs", self.symbol, backoff, exc_info=exc)

    async def _all(self, calls: Iterable[Awaitable[None]]) -> None:
        """Run `calls` with at most `concurrency` in flight; after all have finished, raise the
        first failure (so that no request is left running when the cycle ends)."""

        async def limited(call: Awaitable[None]) -> None:
            async with self._limit:
                await call

        results = await asyncio.gather(*(limited(c) for c in calls), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
