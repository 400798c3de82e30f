"""Signed account endpoints: account (balances), myTrades, myPreventedMatches, myAllocations,
account/commission, rateLimit/order."""

from fastapi import APIRouter, Request

from exchange_core.clock import now_ms
from exchange_core.markets import Market
from exchange_core.units import from_units
from gateway.accounts import asset_decimals
from gateway.callers import Caller
from gateway.context import GatewayContext, context
from gateway.formatting import trade_json
from gateway.params import request_params
from gateway.prevented import prevented_matches
from gateway.ratelimit import RateLimiter
from gateway.responses import JsonObject
from gateway.routes.public import my_filters_body
from gateway.validation import market_of

router = APIRouter(prefix="/api/v3", tags=["account"])


async def balance_rows(ctx: GatewayContext, user_id: int, omit_zero: bool) -> list[dict[str, str]]:
    """The user's balances, {"asset", "free", "locked"} by asset name: every asset of a market
    and any other held (REST account's `balances`, gRPC GetBalances)."""
    decimals = asset_decimals(ctx.markets)
    held = await ctx.ledger.balances(user_id)
    rows = []
    for asset in sorted(set(decimals) | set(held)):
        free, locked = held.get(asset, (0, 0))
        if omit_zero and not free and not locked:
            continue
        d = decimals.get(asset, 8)
        rows.append({"asset": asset, "free": from_units(free, d), "locked": from_units(locked, d)})
    return rows


@router.get("/account")
async def account(request: Request, who: Caller) -> JsonObject:
    """Balances (free and locked) and permissions, Binance's shape."""
    return await account_info(context(request), who.user_id, await request_params(request))


async def account_info(ctx: GatewayContext, user_id: int, params: dict[str, str]) -> JsonObject:
    """REST account and the WebSocket API's account.status: balances (without the empty ones
    when omitZeroBalances=true), commissions and permissions, Binance's shape."""
    omit_zero = params.get("omitZeroBalances", "false").lower() == "true"
    balances = await balance_rows(ctx, user_id, omit_zero)
    fees = next(iter(ctx.markets.values()))
    maker_bps = int(fees.spec.maker_fee_ppm // 100)
    taker_bps = int(fees.spec.taker_fee_ppm // 100)
    return {
        "makerCommission": maker_bps,
        "takerCommission": taker_bps,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": from_units(fees.spec.maker_fee_ppm * 100, 8),
            "taker": from_units(fees.spec.taker_fee_ppm * 100, 8),
            "buyer": "0.00000000",
            "seller": "0.00000000",
        },
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": now_ms(),
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": user_id,
    }


@router.get("/myTrades")
async def my_trades(request: Request, who: Caller) -> list[JsonObject]:
    """The user's trades in one market."""
    found = await context(request).orders.my_trades(who.user_id, await request_params(request))
    return [trade_json(t) for t in found]


@router.get("/myPreventedMatches")
async def my_prevented_matches(request: Request, who: Caller) -> list[JsonObject]:
    """The matches self-trade prevention stopped in one market (gateway.prevented)."""
    return await prevented_matches(context(request), who.user_id, await request_params(request))


def allocations(ctx: GatewayContext, params: dict[str, str]) -> list[JsonObject]:
    """GET /api/v3/myAllocations (and the WebSocket API's myAllocations): the user's allocations
    from Smart Order Routing in `symbol` (-1102 without it, -1121 for an unknown one). This venue
    has no SOR, so there are none: the list is always empty."""
    market_of(params, ctx.markets)
    return []


@router.get("/myAllocations")
async def my_allocations(request: Request, who: Caller) -> list[JsonObject]:
    """The user's SOR allocations in one market: none (no SOR here)."""
    return allocations(context(request), await request_params(request))


def fee_fraction(ppm: int) -> str:
    """A fee in parts per million as Binance's 8-decimal fraction string (1000 -> "0.00100000")."""
    return from_units(ppm * 100, 8)


def commission_rates(market: Market) -> JsonObject:
    """Binance's account/commission answer for `market`: the registry's maker and taker fees,
    no buyer/seller or tax commission, no discount (there is no discount asset here)."""
    zero = fee_fraction(0)
    return {
        "symbol": market.symbol,
        "standardCommission": {
            "maker": fee_fraction(market.spec.maker_fee_ppm),
            "taker": fee_fraction(market.spec.taker_fee_ppm),
            "buyer": zero,
            "seller": zero,
        },
        "taxCommission": {"maker": zero, "taker": zero, "buyer": zero, "seller": zero},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": zero,
        },
    }


@router.get("/account/commission")
async def account_commission(request: Request, who: Caller) -> JsonObject:
    """The commission rates of one market (`symbol`, required), from the markets registry:
    {symbol, standardCommission{maker, taker, buyer, seller}, taxCommission{...}, discount{...}},
    rates as decimal fractions ("0.00100000" is 0.1%)."""
    params = await request_params(request)
    return commission_rates(market_of(params, context(request).markets))


@router.get("/myFilters")
async def my_filters(request: Request, who: Caller) -> JsonObject:
    """The filters that apply to the caller on `symbol` (routes.public.my_filters_body)."""
    return my_filters_body(context(request), await request_params(request))


@router.get("/rateLimit/order")
async def order_rate_limits(request: Request, who: Caller) -> list[JsonObject]:
    """The caller's order count in each ORDERS rate limit in force: [{rateLimitType, interval,
    intervalNum, limit, count}]. Orders are counted per API key once authenticated (a filled
    order is not taken off, as the limits themselves count). Like the limits, the counts are this
    gateway process's own: with several gateway processes behind one address this is one
    process's count. A web session, which places orders without an API key, counts 0."""
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter.order_counts(who.api_key)
