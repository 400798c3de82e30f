"""Public market-data endpoints (Binance Spot): depth, trades, historicalTrades, aggTrades,
klines, uiKlines, avgPrice (the tickers are in gateway.routes.tickers).

The book comes from the engine's depth snapshot (depth:{SYMBOL}, written with each batch);
trades, candles and 24h statistics from the history the DB processor writes.
"""

import json
from typing import TypedDict

from fastapi import APIRouter, Request

from exchange_core import marketdb, redisio
from exchange_core.clock import now_ms
from exchange_core.errors import BAD_INTERVAL, INVALID_PARAMETER, ApiError
from exchange_core.klines import Kline, time_zone_offset
from exchange_core.markets import Market
from exchange_core.units import from_units
from gateway.context import GatewayContext, context
from gateway.params import request_params
from gateway.responses import JsonObject
from gateway.validation import int_param, market_of, time_param

router = APIRouter(prefix="/api/v3", tags=["market"])

DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000, 5000)
INTERVALS = (
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
)


class DepthSnapshot(TypedDict):
    """depth:{SYMBOL} as the engine writes it: integer units, [price, qty] best first."""

    lastUpdateId: int
    bids: list[list[int]]
    asks: list[list[int]]


class OrderBook(TypedDict):
    """GET /api/v3/depth's body: [price, qty] as decimal strings, best first."""

    lastUpdateId: int
    bids: list[list[str]]
    asks: list[list[str]]


def bounded(params: dict[str, str], name: str, default: int, maximum: int) -> int:
    """`name` as a count from 1 (default `default`); above `maximum` it is clamped to `maximum`,
    as Binance does. -1100 for a non-number (from int_param), -1130 for a value below 1."""
    value = int_param(params, name, default)
    if value is None or value < 1:
        raise ApiError(INVALID_PARAMETER, f"Invalid value for '{name}': at least 1.")
    return min(value, maximum)


async def book(request: Request, market: Market) -> DepthSnapshot:
    """The engine's latest depth snapshot: {"lastUpdateId", "bids", "asks"} in integer units."""
    return await depth_snapshot(context(request), market)


async def depth_snapshot(ctx: GatewayContext, market: Market) -> DepthSnapshot:
    """The engine's latest depth snapshot: {"lastUpdateId", "bids", "asks"} in integer units."""
    raw = await redisio.get(ctx.redis, ctx.keys.depth(market.symbol))
    if raw is None:
        return {"lastUpdateId": 0, "bids": [], "asks": []}
    snapshot: DepthSnapshot = json.loads(raw)
    return snapshot


def top_of_book(snapshot: DepthSnapshot) -> tuple[list[int], list[int]]:
    """Best bid and best ask as [price, qty] in integer units ([0, 0] for an empty side)."""
    bid = snapshot["bids"][0] if snapshot["bids"] else [0, 0]
    ask = snapshot["asks"][0] if snapshot["asks"] else [0, 0]
    return bid, ask


def levels(market: Market, rows: list[list[int]], limit: int) -> list[list[str]]:
    q, b = market.quote.decimals, market.base.decimals
    return [[from_units(price, q), from_units(qty, b)] for price, qty in rows[:limit]]


@router.get("/depth")
async def depth(request: Request) -> JsonObject:
    """Order book: `limit` levels per side (default 100, up to 5000; levels beyond the engine's
    snapshot of 1000 are not kept). lastUpdateId chains with the WebSocket depth diffs."""
    return dict(await order_book(context(request), await request_params(request)))


async def order_book(ctx: GatewayContext, params: dict[str, str]) -> OrderBook:
    """GET /api/v3/depth (and gRPC GetOrderBook): `symbol`, `limit`."""
    market = market_of(params, ctx.markets)
    limit = bounded(params, "limit", 100, 5000)
    snapshot = await depth_snapshot(ctx, market)
    return {
        "lastUpdateId": snapshot["lastUpdateId"],
        "bids": levels(market, snapshot["bids"], limit),
        "asks": levels(market, snapshot["asks"], limit),
    }


def trade_json(market: Market, t: marketdb.TradeRow) -> JsonObject:
    return {
        "id": t.id,
        "price": from_units(t.price, market.quote.decimals),
        "qty": from_units(t.qty, market.base.decimals),
        "quoteQty": from_units(t.quote_qty, market.quote.decimals),
        "time": t.time,
        "isBuyerMaker": t.is_buyer_maker,
        "isBestMatch": True,
    }


@router.get("/trades")
async def recent_trades(request: Request) -> list[JsonObject]:
    """The latest trades (default 500, up to 1000), oldest first."""
    return await latest_trades(context(request), await request_params(request))


async def latest_trades(ctx: GatewayContext, params: dict[str, str]) -> list[JsonObject]:
    """GET /api/v3/trades and the WebSocket API's trades.recent."""
    market, rows = await latest_trade_rows(ctx, params)
    return [trade_json(market, t) for t in rows]


async def latest_trade_rows(
    ctx: GatewayContext, params: dict[str, str]
) -> tuple[Market, list[marketdb.TradeRow]]:
    """The market and its latest trades (REST trades, gRPC GetTrades): `symbol`, `limit`."""
    market = market_of(params, ctx.markets)
    limit = bounded(params, "limit", 500, 1000)
    async with ctx.pool.acquire() as conn:
        return market, await marketdb.recent_trades(conn, market.symbol, limit)


def _trades_query(ctx: GatewayContext, params: dict[str, str]) -> tuple[Market, int]:
    """A trade listing's market (`symbol`) and `limit` (500, at most 1000)."""
    return market_of(params, ctx.markets), bounded(params, "limit", 500, 1000)


@router.get("/historicalTrades")
async def historical_trades(request: Request) -> list[JsonObject]:
    """Older trades from trade id `fromId` (default: the latest `limit`)."""
    return await older_trades(context(request), await request_params(request))


async def older_trades(ctx: GatewayContext, params: dict[str, str]) -> list[JsonObject]:
    """GET /api/v3/historicalTrades and the WebSocket API's trades.historical."""
    market, limit = _trades_query(ctx, params)
    from_id = int_param(params, "fromId")
    async with ctx.pool.acquire() as conn:
        if from_id is None:
            rows = await marketdb.recent_trades(conn, market.symbol, limit)
        else:
            rows = await marketdb.trades_from(conn, market.symbol, from_id, limit)
    return [trade_json(market, t) for t in rows]


@router.get("/aggTrades")
async def agg_trades(request: Request) -> list[JsonObject]:
    """Trades of one taker order at one price, aggregated; by fromId or startTime/endTime."""
    return await aggregate_trades(context(request), await request_params(request))


async def aggregate_trades(ctx: GatewayContext, params: dict[str, str]) -> list[JsonObject]:
    """GET /api/v3/aggTrades and the WebSocket API's trades.aggregate."""
    market, limit = _trades_query(ctx, params)
    async with ctx.pool.acquire() as conn:
        rows = await marketdb.agg_trades(
            conn,
            market.symbol,
            int_param(params, "fromId"),
            time_param(params, "startTime"),
            time_param(params, "endTime"),
            limit,
        )
    q, b = market.quote.decimals, market.base.decimals
    return [
        {
            "a": a.id,
            "p": from_units(a.price, q),
            "q": from_units(a.qty, b),
            "f": a.first_id,
            "l": a.last_id,
            "T": a.time,
            "m": a.is_buyer_maker,
            "M": True,
        }
        for a in rows
    ]


@router.get("/klines")
async def klines(request: Request) -> list[list[object]]:
    """Candles for any Binance interval (1s to 1M), oldest first (default 500, up to 1000).
    `timeZone` (default 0; hours such as 8 or -1, or hours:minutes such as 05:45, in [-12:00,
    +14:00]) moves the candles' boundaries to local time (1d from local midnight, 1M from the
    local month's start); startTime and endTime stay UTC."""
    return await candles(context(request), await request_params(request))


@router.get("/uiKlines")
async def ui_klines(request: Request) -> list[list[object]]:
    """Candles for presentation: the same parameters and answer as klines (Binance may adjust
    these for charts; here they are klines' candles)."""
    return await candles(context(request), await request_params(request))


def time_zone_param(params: dict[str, str]) -> int:
    """`timeZone` (default 0) as ms ahead of UTC; -1130 for a malformed or out-of-range one."""
    try:
        return time_zone_offset(params.get("timeZone") or "0")
    except ValueError as exc:
        raise ApiError(
            INVALID_PARAMETER, "Invalid timeZone: hours or hours:minutes in [-12:00, +14:00]."
        ) from exc


async def candles(ctx: GatewayContext, params: dict[str, str]) -> list[list[object]]:
    """GET /api/v3/klines and uiKlines (and the WebSocket API's): Binance's rows."""
    market, rows = await candle_rows(ctx, params)
    q, b = market.quote.decimals, market.base.decimals
    return [
        [
            k.open_time,
            from_units(k.open, q),
            from_units(k.high, q),
            from_units(k.low, q),
            from_units(k.close, q),
            from_units(k.volume, b),
            k.close_time,
            from_units(k.quote_volume, q),
            k.trades,
            from_units(k.taker_volume, b),
            from_units(k.taker_quote_volume, q),
            "0",
        ]
        for k in rows
    ]


async def candle_rows(ctx: GatewayContext, params: dict[str, str]) -> tuple[Market, list[Kline]]:
    """The market and its candles (REST klines, gRPC GetKlines): `symbol`, `interval`,
    `startTime`, `endTime`, `limit`, `timeZone`. Raises -1120 for an unknown interval, -1130 for
    a bad time zone or limit."""
    market = market_of(params, ctx.markets)
    interval = params.get("interval", "")
    if interval not in INTERVALS:
        raise ApiError(BAD_INTERVAL, "Invalid interval.")
    limit = bounded(params, "limit", 500, 1000)
    offset = time_zone_param(params)
    async with ctx.pool.acquire() as conn:
        rows = await marketdb.klines(
            conn,
            market.symbol,
            interval,
            time_param(params, "startTime"),
            time_param(params, "endTime"),
            limit,
            offset,
        )
    return market, rows


@router.get("/avgPrice")
async def avg_price(request: Request) -> JsonObject:
    """Volume-weighted average price of the last 5 minutes."""
    return await average_price(context(request), await request_params(request))


async def average_price(ctx: GatewayContext, params: dict[str, str]) -> JsonObject:
    """GET /api/v3/avgPrice and the WebSocket API's avgPrice."""
    market = market_of(params, ctx.markets)
    now = now_ms()
    async with ctx.pool.acquire() as conn:
        price = await marketdb.avg_price(conn, market.symbol, now)
    return {"mins": 5, "price": from_units(price or 0, market.quote.decimals), "closeTime": now}
