"""Public ticker endpoints (Binance Spot): ticker/24hr, ticker (rolling window), ticker/tradingDay,
ticker/price, ticker/bookTicker.

Statistics come from the trade history the DB processor writes (exchange_core.marketdb), best
bid and ask from the engine's depth snapshot. `type=MINI` leaves out the price change, the
weighted average and (24hr) the book and previous close, as Binance does.
"""

import json
import re
from decimal import Decimal

from fastapi import APIRouter, Request

from exchange_core import marketdb
from exchange_core.clock import now_ms
from exchange_core.errors import INVALID_PARAMETER, TOO_MANY_PARAMETERS, ApiError
from exchange_core.klines import DAY, HOUR, MINUTE
from exchange_core.markets import Market
from exchange_core.units import from_units
from gateway.context import GatewayContext, context
from gateway.params import request_params
from gateway.responses import JsonObject
from gateway.routes.market import depth_snapshot, time_zone_param, top_of_book
from gateway.validation import market_of, missing

router = APIRouter(prefix="/api/v3", tags=["market"])

MAX_SYMBOLS = 100
_WINDOW = re.compile(r"^([0-9]{1,2})([mhd])$")
_WINDOW_UNITS = {"m": (MINUTE, 59), "h": (HOUR, 23), "d": (DAY, 7)}


def symbols_of(ctx: GatewayContext, params: dict[str, str]) -> list[Market] | None:
    """`symbol` or `symbols` (a JSON list) -> markets; None when neither was given."""
    markets = ctx.markets
    if params.get("symbol"):
        return [market_of(params, markets)]
    if params.get("symbols"):
        return markets_named(params["symbols"], markets)
    return None


def markets_named(text: str, markets: dict[str, Market]) -> list[Market]:
    """`symbols` (a JSON list of names) -> markets. Raises -1130 for text that is not a JSON list
    (nested too deeply included), -1121 for a name that is no market."""
    try:
        names = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ApiError(INVALID_PARAMETER, "Invalid symbols.") from exc
    if not isinstance(names, list):
        raise ApiError(INVALID_PARAMETER, "Invalid symbols.")
    return [market_of({"symbol": str(n)}, markets) for n in names]


def required_symbols(ctx: GatewayContext, params: dict[str, str]) -> list[Market]:
    """`symbol` or `symbols` as the rolling and trading-day tickers want them: one is required
    (-1102), at most 100 symbols (-1101)."""
    chosen = symbols_of(ctx, params)
    if not chosen:
        raise missing("symbol")
    if len(chosen) > MAX_SYMBOLS:
        raise ApiError(
            TOO_MANY_PARAMETERS, f"Too many values sent for parameter 'symbols', max allowed {MAX_SYMBOLS}."
        )
    return chosen


def mini_of(params: dict[str, str]) -> bool:
    """`type`: FULL (the default) or MINI; -1130 for anything else."""
    kind = params.get("type") or "FULL"
    if kind not in ("FULL", "MINI"):
        raise ApiError(INVALID_PARAMETER, "Invalid value for 'type': FULL or MINI.")
    return kind == "MINI"


def window_ms(params: dict[str, str]) -> int:
    """`windowSize`: 1m..59m, 1h..23h or 1d..7d (default 1d), in ms; -1130 for anything else."""
    match = _WINDOW.fullmatch(params.get("windowSize") or "1d")
    unit, most = _WINDOW_UNITS[match.group(2)] if match else (0, 0)
    if match is None or not 1 <= int(match.group(1)) <= most:
        raise ApiError(INVALID_PARAMETER, "Invalid windowSize: 1m-59m, 1h-23h or 1d-7d.")
    return int(match.group(1)) * unit


async def window_stats(ctx: GatewayContext, market: Market, open_ms: int, now: int) -> marketdb.Ticker24h:
    """The ticker statistics of [open_ms, now] (zeros for a market that never traded)."""
    async with ctx.pool.acquire() as conn:
        stats = await marketdb.window_ticker(conn, market.symbol, open_ms, now)
    return stats or marketdb.Ticker24h(0, 0, 0, 0, 0, 0, 0, -1, -1, open_ms, now, 0)


def stats_json(market: Market, stats: marketdb.Ticker24h, mini: bool) -> JsonObject:
    """Binance's rolling-window ticker fields (FULL or MINI) of `stats`."""
    q, b = market.quote.decimals, market.base.decimals
    out: JsonObject = {"symbol": market.symbol}
    if not mini:
        change = stats.last - stats.open if stats.count else 0
        percent = Decimal(change * 100) / Decimal(stats.open) if stats.count and stats.open else Decimal(0)
        weighted = stats.quote_volume * 10**b // stats.volume if stats.volume else 0
        out["priceChange"] = from_units(change, q)
        out["priceChangePercent"] = f"{percent:.3f}"
        out["weightedAvgPrice"] = from_units(weighted, q)
    out.update(
        {
            "openPrice": from_units(stats.open, q),
            "highPrice": from_units(stats.high, q),
            "lowPrice": from_units(stats.low, q),
            "lastPrice": from_units(stats.last, q),
            "volume": from_units(stats.volume, b),
            "quoteVolume": from_units(stats.quote_volume, q),
            "openTime": stats.open_time,
            "closeTime": stats.close_time,
            "firstId": stats.first_id,
            "lastId": stats.last_id,
            "count": stats.count,
        }
    )
    return out


async def ticker_of(ctx: GatewayContext, market: Market, mini: bool) -> JsonObject:
    """ticker/24hr of one market: the rolling fields, and (FULL) the previous close, the last
    trade's quantity and the best bid and ask, in Binance's order."""
    now = now_ms()
    stats = await window_stats(ctx, market, now - DAY, now)
    out = stats_json(market, stats, mini)
    if mini:
        return out
    async with ctx.pool.acquire() as conn:
        last = await marketdb.recent_trades(conn, market.symbol, 1)
    bid, ask = top_of_book(await depth_snapshot(ctx, market))
    q, b = market.quote.decimals, market.base.decimals
    head = {k: out.pop(k) for k in ("symbol", "priceChange", "priceChangePercent", "weightedAvgPrice")}
    return {
        **head,
        "prevClosePrice": from_units(stats.prev_close, q),
        "lastPrice": out.pop("lastPrice"),
        "lastQty": from_units(last[-1].qty if last else 0, b),
        "bidPrice": from_units(bid[0], q),
        "bidQty": from_units(bid[1], b),
        "askPrice": from_units(ask[0], q),
        "askQty": from_units(ask[1], b),
        **out,
    }


@router.get("/ticker/24hr", response_model=None)
async def ticker_24hr(request: Request) -> JsonObject | list[JsonObject]:
    """Rolling 24-hour statistics for one market (`symbol`), several (`symbols`) or all;
    `type` FULL (default) or MINI."""
    return await tickers_24hr(context(request), await request_params(request))


async def tickers_24hr(ctx: GatewayContext, params: dict[str, str]) -> JsonObject | list[JsonObject]:
    """GET /api/v3/ticker/24hr and the WebSocket API's ticker.24hr."""
    chosen = symbols_of(ctx, params)
    mini = mini_of(params)
    if chosen is not None and params.get("symbol"):
        return await ticker_of(ctx, chosen[0], mini)
    return [await ticker_of(ctx, m, mini) for m in chosen or ctx.markets.values()]


@router.get("/ticker", response_model=None)
async def rolling_ticker(request: Request) -> JsonObject | list[JsonObject]:
    """Rolling-window statistics: `symbol` or `symbols` (one required, up to 100), `windowSize`
    1m-59m, 1h-23h or 1d-7d (default 1d), `type` FULL (default) or MINI. As on Binance, openTime
    is the start of the minute holding now - windowSize (so the window is up to 59,999 ms longer)
    and closeTime is the request's time."""
    return await window_tickers(context(request), await request_params(request))


async def window_tickers(ctx: GatewayContext, params: dict[str, str]) -> JsonObject | list[JsonObject]:
    """GET /api/v3/ticker and the WebSocket API's ticker."""
    chosen = required_symbols(ctx, params)
    width, mini = window_ms(params), mini_of(params)
    now = now_ms()
    open_ms = (now - width) // MINUTE * MINUTE
    out = [stats_json(m, await window_stats(ctx, m, open_ms, now), mini) for m in chosen]
    return out[0] if params.get("symbol") else out


@router.get("/ticker/tradingDay", response_model=None)
async def trading_day_ticker(request: Request) -> JsonObject | list[JsonObject]:
    """Statistics of the current trading day: `symbol` or `symbols` (one required, up to 100),
    `timeZone` (default 0: hours such as 8 or -1, or hours:minutes such as 05:45, in [-12:00,
    +14:00]), `type` FULL (default) or MINI. openTime is the day's start in that time zone,
    closeTime its last millisecond (both UTC ms); the trades are those up to now."""
    return await trading_day_tickers(context(request), await request_params(request))


async def trading_day_tickers(ctx: GatewayContext, params: dict[str, str]) -> JsonObject | list[JsonObject]:
    """GET /api/v3/ticker/tradingDay and the WebSocket API's ticker.tradingDay."""
    chosen = required_symbols(ctx, params)
    offset, mini = time_zone_param(params), mini_of(params)
    now = now_ms()
    day_start = (now + offset) // DAY * DAY - offset
    out = []
    for market in chosen:
        stats = await window_stats(ctx, market, day_start, now)
        out.append(stats_json(market, stats._replace(close_time=day_start + DAY - 1), mini))
    return out[0] if params.get("symbol") else out


@router.get("/ticker/price", response_model=None)
async def ticker_price(request: Request) -> JsonObject | list[JsonObject]:
    """The last trade price of one market, several or all."""
    return await last_prices(context(request), await request_params(request))


async def last_prices(ctx: GatewayContext, params: dict[str, str]) -> JsonObject | list[JsonObject]:
    """GET /api/v3/ticker/price and the WebSocket API's ticker.price."""
    chosen = symbols_of(ctx, params)
    out: list[JsonObject] = []
    async with ctx.pool.acquire() as conn:
        for market in chosen or ctx.markets.values():
            last = await marketdb.recent_trades(conn, market.symbol, 1)
            out.append(
                {
                    "symbol": market.symbol,
                    "price": from_units(last[-1].price if last else 0, market.quote.decimals),
                }
            )
    return out[0] if params.get("symbol") else out


@router.get("/ticker/bookTicker", response_model=None)
async def book_ticker(request: Request) -> JsonObject | list[JsonObject]:
    """Best bid and ask of one market, several or all."""
    return await book_tickers(context(request), await request_params(request))


async def book_tickers(ctx: GatewayContext, params: dict[str, str]) -> JsonObject | list[JsonObject]:
    """GET /api/v3/ticker/bookTicker and the WebSocket API's ticker.book."""
    chosen = symbols_of(ctx, params)
    out: list[JsonObject] = []
    for market in chosen or ctx.markets.values():
        snapshot = await depth_snapshot(ctx, market)
        bid, ask = top_of_book(snapshot)
        q, b = market.quote.decimals, market.base.decimals
        out.append(
            {
                "symbol": market.symbol,
                "bidPrice": from_units(bid[0], q),
                "bidQty": from_units(bid[1], b),
                "askPrice": from_units(ask[0], q),
                "askQty": from_units(ask[1], b),
            }
        )
    return out[0] if params.get("symbol") else out
