"""A live venue's public trade stream as a PriceSource: the fair price is the last traded price of
a WebSocket stream in Binance's `<symbol>@aggTrade` format, raw (`/ws/btcusdt@aggTrade`: the
event itself) or combined (`/stream?streams=...`: `{"stream": ..., "data": event}`).

The connection is kept by `run`: on a disconnect (or a failed connect) it reconnects with
exponential backoff, and meanwhile the last price holds, so the makers keep quoting where the
market last was. When no trade has arrived for `stale_seconds` (source gone or silent), it logs a
warning every `stale_seconds` and counts it in `stale_warnings`; the price still holds, and
`is_stale()` says so (the simulation widens the makers' spreads meanwhile: marketsim.control).
"""

import asyncio
import json
import logging
import time
from decimal import Decimal, InvalidOperation

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

log = logging.getLogger("marketsim")

FIRST_BACKOFF_S = 0.5


def trade_price(message: str | bytes, symbol: str) -> Decimal | None:
    """The price of an aggTrade event of `symbol` in `message` (raw or combined-stream wrapped);
    None for anything else (another symbol, a subscription answer, malformed JSON)."""
    try:
        body = json.loads(message)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        body = body["data"]
    if not isinstance(body, dict) or body.get("e") != "aggTrade":
        return None
    if str(body.get("s", "")).upper() != symbol:
        return None
    try:
        price = Decimal(str(body["p"]))
    except (KeyError, InvalidOperation):
        return None
    return price if price > 0 else None


class MirrorSource:
    """The last price of `symbol`'s trades on the stream at `url`, in ticks of `tick`. `price_at`
    needs a first trade (`first_price`)."""

    def __init__(
        self, url: str, symbol: str, tick: Decimal, stale_seconds: float, max_backoff_s: float
    ) -> None:
        self.url = url
        self.symbol = symbol
        self.tick = tick
        self.stale_seconds = stale_seconds
        self.max_backoff_s = max_backoff_s
        self.value: float | None = None
        self.received_at = time.monotonic()
        self.first = asyncio.Event()
        self.connects = 0
        self.stale_warnings = 0

    def is_stale(self) -> bool:
        """True when no trade has arrived for more than `stale_seconds`."""
        return time.monotonic() - self.received_at > self.stale_seconds

    def price_at(self, seconds: float) -> float:
        if self.value is None:
            raise RuntimeError(f"{self.symbol}: no price from {self.url} yet")
        return self.value

    async def first_price(self, timeout: float) -> float | None:
        """The first traded price in ticks, or None when none came within `timeout` seconds."""
        try:
            await asyncio.wait_for(self.first.wait(), timeout)
        except TimeoutError:
            return None
        return self.value

    def on_message(self, message: str | bytes) -> None:
        price = trade_price(message, self.symbol)
        if price is None:
            return
        self.value = float(price / self.tick)
        self.received_at = time.monotonic()
        self.first.set()

    async def run(self) -> None:
        """Follow the stream until cancelled, reconnecting with backoff."""
        backoff = 0.0
        while True:
            try:
                async with connect(self.url, open_timeout=10, max_size=2**20) as ws:
                    self.connects += 1
                    log.info("%s: mirroring %s (connection %d)", self.symbol, self.url, self.connects)
                    while True:
                        try:
                            async with asyncio.timeout(self.stale_seconds):  # not wait_for: see runtime.pause
                                message = await ws.recv()
                        except TimeoutError:
                            self._warn_stale()
                            continue
                        self.on_message(message)
                        backoff = 0.0
            except (OSError, TimeoutError, WebSocketException) as exc:
                backoff = min(self.max_backoff_s, backoff * 2 or FIRST_BACKOFF_S)
                log.warning("%s: mirror source lost (%s); reconnecting in %.1f s", self.symbol, exc, backoff)
            if time.monotonic() - self.received_at > self.stale_seconds:
                self._warn_stale()
            await asyncio.sleep(backoff)

    def _warn_stale(self) -> None:
        self.stale_warnings += 1
        held = time.monotonic() - self.received_at
        log.warning("%s: no trade from %s for %.0f s; holding the last price", self.symbol, self.url, held)
