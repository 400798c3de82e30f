"""The taking agents of one market: noise takers, momentum and mean-reversion traders, and the
occasional sweeper. Each arrives as a Poisson process, decides (marketsim.decisions) and sends one
MARKET order through the public REST API with its own account, within its inventory limit."""

import asyncio
import logging
import random
import secrets
import time
from dataclasses import dataclass
from decimal import Decimal

from botkit.client import ApiRejection, ExchangeClient, GatewayUnavailable
from botkit.ladder import FairPrice
from botkit.rules import MarketRules
from botkit.stats import Stats
from exchange_core.runtime import pause
from marketsim.decisions import (
    BUY,
    SELL,
    MidHistory,
    Position,
    mean_reversion_side,
    momentum_side,
    pareto_multiple,
    sweep_steps,
)

log = logging.getLogger("marketsim")

NOISE = "noise"
MOMENTUM = "momentum"
MEAN_REVERSION = "meanrev"
SWEEPER = "sweeper"
TAKER_KINDS = (NOISE, MOMENTUM, MEAN_REVERSION, SWEEPER)
REJECTION_LOG_S = 60.0


@dataclass(frozen=True, slots=True)
class TakerConfig:
    """One kind of taker. Sizes are multiples of the market's minNotional: `size_multiple` times
    a Pareto(`size_alpha`) draw capped at `size_cap`; the net position stays within
    `limit_multiple` minNotionals. `threshold_bps` and `lookback_s` steer momentum and mean
    reversion; a sweeper takes `sweep_levels` (low, high) whole levels."""

    kind: str
    orders_per_minute: float
    size_multiple: float = 3.0
    size_alpha: float = 1.5
    size_cap: float = 200.0
    limit_multiple: int = 20_000
    threshold_bps: float = 3.0
    lookback_s: float = 30.0
    sweep_levels: tuple[int, int] = (3, 8)


class TakerAgent:
    """One taker kind in one market: `run` sleeps an exponential time, then `act`s."""

    def __init__(
        self,
        name: str,
        client: ExchangeClient,
        rules: MarketRules,
        fair: FairPrice,
        config: TakerConfig,
        rng: random.Random,
        stats: Stats,
    ) -> None:
        self.name = name
        self.client = client
        self.rules = rules
        self.fair = fair
        self.config = config
        self.rng = rng
        self.stats = stats
        limit = rules.steps_for_notional(
            max(1, round(fair.value)), rules.min_notional * config.limit_multiple
        )
        self.position = Position(limit)
        self.history = MidHistory(config.lookback_s)
        self._quiet_until: dict[tuple[int, str], float] = {}
        self._run_id = secrets.token_hex(4)
        self._orders = 0

    async def run(self, stop: asyncio.Event, max_backoff_s: float) -> None:
        rate = self.config.orders_per_minute / 60.0
        if rate <= 0:
            return
        backoff = 0.0
        while not stop.is_set():
            await pause(stop, backoff or self.rng.expovariate(rate))
            if stop.is_set():
                return
            try:
                await self.act()
                backoff = 0.0
            except GatewayUnavailable as exc:
                self.stats.unavailable += 1
                backoff = min(max_backoff_s, backoff * 2 or 0.5)
                log.warning("%s %s: gateway unavailable (%s)", self.name, self.rules.symbol, exc)

    async def act(self) -> None:
        """One arrival: decide a side and quantity (None: sit this one out) and take."""
        decided = await self.decide()
        if decided is None:
            return
        side, steps = decided
        allowed = self.position.allowed(side, steps)
        if allowed < self.rules.min_steps:
            reducing = self.position.reducing_side()
            if self.config.kind != NOISE or reducing is None:
                return
            side, allowed = reducing, self.position.allowed(reducing, steps)
        await self.take(side, allowed)

    async def decide(self) -> tuple[str, int] | None:
        kind = self.config.kind
        if kind == SWEEPER:
            return await self._sweep()
        side: str | None
        if kind == NOISE:
            side = self.rng.choice((BUY, SELL))
        else:
            mid = await self._mid()
            if mid is None:
                return None
            self.history.add(time.monotonic(), mid)
            if kind == MOMENTUM:
                side = momentum_side(self.history, self.config.threshold_bps)
            else:
                side = mean_reversion_side(self.history, self.config.threshold_bps)
        if side is None:
            return None
        c = self.config
        multiple = c.size_multiple * pareto_multiple(self.rng, c.size_alpha, c.size_cap)
        notional = self.rules.min_notional * Decimal(str(round(multiple, 3)))
        return side, self.rules.steps_for_notional(max(1, round(self.fair.value)), notional)

    async def _mid(self) -> float | None:
        body = await self.client.public("/api/v3/ticker/bookTicker", {"symbol": self.rules.symbol})
        bid, ask = Decimal(str(body["bidPrice"])), Decimal(str(body["askPrice"]))
        if bid <= 0 or ask <= 0:
            return None
        return float((bid + ask) / 2)

    async def _sweep(self) -> tuple[str, int] | None:
        """A side at random and the quantity of a few whole levels of the book's other side."""
        side = self.rng.choice((BUY, SELL))
        low, high = self.config.sweep_levels
        book = await self.client.public("/api/v3/depth", {"symbol": self.rules.symbol, "limit": high})
        levels = [self.rules.steps_exact(str(qty)) for _, qty in book["asks" if side == BUY else "bids"]]
        steps = sweep_steps(levels, self.rng.randint(low, high))
        return (side, steps) if steps > 0 else None

    async def take(self, side: str, steps: int) -> None:
        self._orders += 1
        params: dict[str, str | int] = {
            "symbol": self.rules.symbol,
            "side": side,
            "type": "MARKET",
            "quantity": self.rules.qty_text(min(steps, self.rules.max_steps)),
            "newClientOrderId": f"sim-{self.name}-{self._run_id}-{self._orders}",
            "newOrderRespType": "FULL",
        }
        try:
            body = await self.client.signed("POST", "/api/v3/order", params)
        except ApiRejection as exc:
            self._rejected(exc)
            return
        self.stats.takers += 1
        self.stats.trades += len(body.get("fills", []))
        self.position.filled(side, self.rules.steps_exact(str(body.get("executedQty", "0"))))

    def _rejected(self, exc: ApiRejection) -> None:
        self.stats.rejected += 1
        now = time.monotonic()
        key = (exc.code, exc.msg)
        if now >= self._quiet_until.get(key, 0.0):
            self._quiet_until[key] = now + REJECTION_LOG_S
            log.warning("%s %s: order rejected: %s %s", self.name, self.rules.symbol, exc.code, exc.msg)
