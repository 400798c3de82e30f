"""GET /api/v3/myPreventedMatches and the WebSocket API's myPreventedMatches: the matches
self-trade prevention stopped, from the user's prevented match records (exchange_core.prevented,
written by settlement), in Binance's shape."""

from exchange_core import redisio
from exchange_core.errors import OPTIONAL_PARAMS_BAD_COMBO, ApiError
from exchange_core.prevented import PreventedMatch
from gateway.context import GatewayContext
from gateway.formatting import STP_NAMES, price_str, qty_str
from gateway.responses import JsonObject
from gateway.validation import int_param, market_of

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000  # a larger limit is clamped to it, as Binance does
NO_TRADE_GROUP = -1  # Binance's tradeGroupId of an account in no trade group (none here)


async def prevented_matches(ctx: GatewayContext, user_id: int, params: dict[str, str]) -> list[JsonObject]:
    """The user's prevented matches in `symbol` (required: -1102, unknown: -1121): the one with
    `preventedMatchId`; or those of order `orderId` (as taker or maker) from
    `fromPreventedMatchId` on, at most `limit` (500, at most 1000), in ascending id. Neither
    preventedMatchId nor orderId: -1128."""
    market = market_of(params, ctx.markets)
    match_id = int_param(params, "preventedMatchId")
    order_id = int_param(params, "orderId")
    from_id = int_param(params, "fromPreventedMatchId")
    if match_id is None and order_id is None:
        raise ApiError(OPTIONAL_PARAMS_BAD_COMBO, "Combination of optional parameters invalid.")
    key = ctx.keys.prevented_matches(user_id, market.symbol)
    if match_id is not None:
        raws = await redisio.zrange_between(ctx.redis, key, match_id, match_id)
        records = [PreventedMatch.decode(r) for r in raws]
    else:
        limit = min(int_param(params, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT, MAX_LIMIT)
        raws = await redisio.zrange_between(ctx.redis, key, from_id or 0, None)
        found = (PreventedMatch.decode(r) for r in raws)
        records = [m for m in found if order_id in (m.taker_order_id, m.maker_order_id)][:limit]
    symbol = market.symbol
    out: list[JsonObject] = []
    for m in records:
        row: JsonObject = {
            "symbol": symbol,
            "preventedMatchId": m.prevented_match_id,
            "takerOrderId": m.taker_order_id,
            "makerSymbol": symbol,
            "makerOrderId": m.maker_order_id,
            "tradeGroupId": NO_TRADE_GROUP,
            "selfTradePreventionMode": STP_NAMES[m.stp_mode],
            "price": price_str(market, m.price),
        }
        if m.taker_prevented_qty:
            row["takerPreventedQuantity"] = qty_str(market, m.taker_prevented_qty)
        if m.maker_prevented_qty:
            row["makerPreventedQuantity"] = qty_str(market, m.maker_prevented_qty)
        row["transactTime"] = m.time
        out.append(row)
    return out
