"""Public REST endpoints: ping, time, exchangeInfo."""

from fastapi import APIRouter, Request

from exchange_core.clock import now_ms
from exchange_core.errors import (
    BAD_SYMBOL,
    INVALID_PARAMETER,
    INVALID_SYMBOL_STATUS,
    OPTIONAL_PARAMS_BAD_COMBO,
    ApiError,
)
from exchange_core.markets import Market
from exchange_core.marketstatus import TradingStatus
from exchange_core.units import from_units
from gateway.context import GatewayContext, context
from gateway.orderlimits import MAX_NUM_ORDERS, filters_json
from gateway.params import request_params
from gateway.responses import JsonObject
from gateway.symbolflags import symbol_flags
from gateway.validation import (
    DEFAULT_STP,
    ICEBERG_PARTS_LIMIT,
    MAX_TRAILING_DELTA,
    MIN_TRAILING_DELTA,
    SUPPORTED_TYPES,
    market_of,
    max_notional_units,
    max_price_units,
)
from matching.enums import StpMode

router = APIRouter(prefix="/api/v3", tags=["market"])


@router.get("/ping")
async def ping() -> JsonObject:
    """Test connectivity."""
    return {}


@router.get("/time")
async def server_time() -> dict[str, int]:
    """The server's time in ms."""
    return {"serverTime": now_ms()}


def symbol_info(
    market: Market,
    status: TradingStatus = TradingStatus.TRADING,
    show_permission_sets: bool = True,
    max_num_orders: int = MAX_NUM_ORDERS,
) -> JsonObject:
    """One market of exchangeInfo: its filters are exactly the rules the order path applies
    (parse_new_order, gateway.orderlimits); `status` is the market's trading status
    (gateway.marketstatus); `permissionSets` is empty unless `show_permission_sets`."""
    spec = market.spec
    q, b = market.quote.decimals, market.base.decimals
    return {
        "symbol": spec.symbol,
        "status": status.value,
        "baseAsset": spec.base,
        "baseAssetPrecision": b,
        "quoteAsset": spec.quote,
        "quotePrecision": q,
        "quoteAssetPrecision": q,
        "baseCommissionPrecision": b,
        "quoteCommissionPrecision": q,
        "orderTypes": list(SUPPORTED_TYPES),
        **symbol_flags(),
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": from_units(spec.tick_units, q),
                "maxPrice": from_units(max_price_units(market), q),
                "tickSize": from_units(spec.tick_units, q),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": from_units(spec.min_qty_units, b),
                "maxQty": from_units(spec.max_qty_units, b),
                "stepSize": from_units(spec.step_units, b),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": from_units(spec.min_qty_units, b),
                "maxQty": from_units(spec.max_qty_units, b),
                "stepSize": from_units(spec.step_units, b),
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": from_units(spec.min_notional_units, q),
                "applyMinToMarket": True,
                "maxNotional": from_units(max_notional_units(market), q),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": MIN_TRAILING_DELTA,
                "maxTrailingAboveDelta": MAX_TRAILING_DELTA,
                "minTrailingBelowDelta": MIN_TRAILING_DELTA,
                "maxTrailingBelowDelta": MAX_TRAILING_DELTA,
            },
            {"filterType": "ICEBERG_PARTS", "limit": ICEBERG_PARTS_LIMIT},
            *filters_json(max_num_orders),
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]] if show_permission_sets else [],
        "defaultSelfTradePreventionMode": DEFAULT_STP.name,
        "allowedSelfTradePreventionModes": [m.name for m in StpMode],
        "makerCommission": market.maker_fee,
        "takerCommission": market.taker_fee,
    }


@router.get("/exchangeInfo")
async def exchange_info(request: Request) -> JsonObject:
    """Trading rules and symbol information, Binance's shape (`symbol` or `symbols` to filter)."""
    return exchange_info_body(context(request), await request_params(request))


def exchange_info_body(ctx: GatewayContext, params: dict[str, str]) -> JsonObject:
    """exchangeInfo (REST and the WebSocket API): every market, or those of `symbol` or `symbols`
    (a JSON list such as ["BTCUSDT","ETHUSDT"]), or those whose status is `symbolStatus`
    (TRADING, HALT, BREAK; not with `symbol` or `symbols`); -1121 for a symbol that is not
    listed, -1122 for an unknown symbolStatus, -1128 for symbolStatus with a symbol.
    `showPermissionSets=false` leaves every symbol's permissionSets empty (-1130 for a value other
    than true or false)."""
    wanted_status = symbol_status_param(params)
    show_permission_sets = show_permission_sets_param(params)
    wanted: list[str] | None = None
    if params.get("symbol"):
        wanted = [params["symbol"].upper()]
    elif params.get("symbols"):
        wanted = [s.strip().strip('"').upper() for s in params["symbols"].strip("[]").split(",") if s.strip()]
    if wanted is not None and any(s not in ctx.markets for s in wanted):
        raise ApiError(BAD_SYMBOL, "Invalid symbol.")
    markets = [ctx.markets[s] for s in wanted] if wanted is not None else list(ctx.markets.values())
    statuses = {m.symbol: ctx.statuses.get(m.symbol).status for m in markets}
    if wanted_status is not None:
        markets = [m for m in markets if statuses[m.symbol] is wanted_status]
    return {
        "timezone": "UTC",
        "serverTime": now_ms(),
        "rateLimits": ctx.settings.rate_limits().advertised(),
        "exchangeFilters": [],
        "symbols": [
            symbol_info(m, statuses[m.symbol], show_permission_sets, ctx.settings.max_num_orders)
            for m in markets
        ],
    }


def my_filters_body(ctx: GatewayContext, params: dict[str, str]) -> JsonObject:
    """GET myFilters (and the WebSocket API's myFilters): the filters that apply to the caller on
    `symbol` (required; -1121 for an unknown one): the market's filters as exchangeInfo lists
    them; there are no exchange filters and no per-account asset (MAX_ASSET) filters here."""
    market = market_of(params, ctx.markets)
    status = ctx.statuses.get(market.symbol).status
    symbol_filters = symbol_info(market, status, max_num_orders=ctx.settings.max_num_orders)["filters"]
    return {"exchangeFilters": [], "symbolFilters": symbol_filters, "assetFilters": []}


def show_permission_sets_param(params: dict[str, str]) -> bool:
    """exchangeInfo's `showPermissionSets` (default true)."""
    value = params.get("showPermissionSets", "").lower()
    if value in ("", "true"):
        return True
    if value == "false":
        return False
    raise ApiError(INVALID_PARAMETER, "Invalid value for 'showPermissionSets'.")


def symbol_status_param(params: dict[str, str]) -> TradingStatus | None:
    """exchangeInfo's `symbolStatus`, checked (see exchange_info_body)."""
    value = params.get("symbolStatus")
    if not value:
        return None
    if params.get("symbol") or params.get("symbols"):
        raise ApiError(OPTIONAL_PARAMS_BAD_COMBO, "Combination of optional parameters invalid.")
    try:
        return TradingStatus(value.upper())
    except ValueError:
        raise ApiError(INVALID_SYMBOL_STATUS, "Invalid symbolStatus.") from None
