"""Start-up steps every API bot of this project takes (the market maker, the market simulation):
wait for the gateway, read the markets' rules, pick a market's starting fair price, and retry a
start-up request with backoff."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from botkit.client import ApiRejection, ExchangeClient, GatewayUnavailable
from botkit.rules import MarketRules, RulesError, rules_from_exchange_info
from exchange_core.runtime import pause

log = logging.getLogger("marketmaker")

T = TypeVar("T")
NOT_FOUND = 404
# Fair price at start of a market with no trade yet (MM_START_PRICES, SIM_START_PRICES).
DEFAULT_START_PRICES = "BTCUSDT=65000,ETHUSDT=3200,SOLUSDT=150,ETHBTC=0.049"


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
            raise ValueError(f"start prices: malformed entry {item!r}")
        prices[symbol.upper()] = price
    return prices


async def wait_for_gateway(client: ExchangeClient, stop: asyncio.Event, max_backoff_s: float) -> bool:
    """Ping until the gateway answers and the clock is synchronised; False if stopped first."""
    delay = 0.2
    while not stop.is_set():
        try:
            await client.public("/api/v3/ping")
            await client.sync_clock()
            return True
        except (GatewayUnavailable, ApiRejection) as exc:
            log.info("waiting for the gateway at %s (%s)", client.http.base_url, exc)
        await pause(stop, delay)
        delay = min(max_backoff_s, delay * 2)
    return False


async def retry(stop: asyncio.Event, call: Callable[[], Awaitable[T]], max_backoff_s: float) -> T | None:
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
        delay = min(max_backoff_s, delay * 2)
    return None


async def market_rules(client: ExchangeClient, wanted: list[str]) -> list[MarketRules]:
    """The rules of every TRADING market of exchangeInfo, or of those named in `wanted`."""
    info = await client.public("/api/v3/exchangeInfo")
    out = []
    for entry in info.get("symbols", []):
        if entry.get("status", "TRADING") != "TRADING" or (wanted and entry.get("symbol") not in wanted):
            continue
        try:
            out.append(rules_from_exchange_info(entry))
        except RulesError as exc:
            log.warning("%s; not traded", exc)
    unknown = set(wanted) - {r.symbol for r in out}
    if unknown:
        log.warning("markets named but not traded here: %s", ", ".join(sorted(unknown)))
    return out


async def start_price(
    client: ExchangeClient, market: MarketRules, configured: Decimal | None
) -> Decimal | None:
    """The last trade's price (GET /api/v3/ticker/price) if the endpoint exists and the market
    has traded, else `configured`."""
    try:
        body = await client.public("/api/v3/ticker/price", {"symbol": market.symbol})
        last = Decimal(str(body["price"]))
        if last.is_finite() and last > 0:
            return last
    except ApiRejection as exc:
        if exc.status != NOT_FOUND:
            log.info("%s: no last price (%s %s)", market.symbol, exc.code, exc.msg)
    except (GatewayUnavailable, KeyError, TypeError, InvalidOperation) as exc:
        log.info("%s: no last price (%r)", market.symbol, exc)
    return configured
