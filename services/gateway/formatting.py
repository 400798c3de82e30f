"""Binance's JSON shapes (REST and the WebSocket API) of the order path's results
(gateway.results): stored order states and trades (exchange_core.records) and new orders.

Stored amounts are integers; here they become Binance's decimal strings with each asset's
precision.
"""

from exchange_core.markets import Market
from exchange_core.records import OrderRecord
from exchange_core.units import from_units
from gateway.responses import JsonObject
from gateway.results import (
    AmendedOrder,
    CancelledOrder,
    PlacedOrder,
    PreventedMatch,
    StoredOrder,
    StoredTrade,
)
from matching.enums import OrderStatus, OrderType, Side, StpMode, TimeInForce

ORDER_LIST_ID = -1  # an order outside any order list
# Enum names by value: a dictionary look-up per field instead of an enum construction.
STATUS_NAMES = {int(m): m.name for m in OrderStatus}
TIF_NAMES = {int(m): m.name for m in TimeInForce}
TYPE_NAMES = {int(m): m.name for m in OrderType}
SIDE_NAMES = {int(m): m.name for m in Side}
STP_NAMES = {int(m): m.name for m in StpMode}


def price_str(market: Market, units: int) -> str:
    return from_units(units, market.quote.decimals)


def qty_str(market: Market, units: int) -> str:
    return from_units(units, market.base.decimals)


def quote_str(market: Market, units: int) -> str:
    return from_units(units, market.quote.decimals)


def fee_str(market: Market, units: int, asset: str) -> str:
    """A commission in `asset` (the market's base or quote) as a decimal string."""
    return from_units(units, market.base.decimals if asset == market.base.name else market.quote.decimals)


def is_working(s: OrderRecord) -> bool:
    """Binance's isWorking: open, and for a stop order, triggered."""
    is_stop = s.order_type >= OrderType.STOP_LOSS
    return s.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED) and (not is_stop or bool(s.triggered))


def _state_json(market: Market, s: OrderRecord, orig_quote: bool = False) -> JsonObject:
    """What order answers say, in this order, of the order's price and progress (with
    origQuoteOrderQty among them when `orig_quote`, as in the answer to a new order)."""
    quote = {"origQuoteOrderQty": quote_str(market, s.quote_quantity)} if orig_quote else {}
    return {
        "price": price_str(market, s.price),
        "origQty": qty_str(market, s.quantity),
        "executedQty": qty_str(market, s.executed),
        **quote,
        "cummulativeQuoteQty": quote_str(market, s.executed_quote),
        "status": STATUS_NAMES[s.status],
        "timeInForce": TIF_NAMES[s.time_in_force],
        "type": TYPE_NAMES[s.order_type],
        "side": SIDE_NAMES[s.side],
    }


def prevented_json(market: Market, s: OrderRecord) -> JsonObject:
    """preventedMatchId and preventedQuantity of an order self-trade prevention expired (Binance's
    conditional fields of order answers); nothing for any other order."""
    if not s.prevented_match_id:
        return {}
    return {"preventedMatchId": s.prevented_match_id, "preventedQuantity": qty_str(market, s.prevented_qty)}


def order_json(stored: StoredOrder) -> JsonObject:
    """GET /api/v3/order (and openOrders, allOrders) for a stored order state."""
    market, s = stored.market, stored.record
    is_stop = s.order_type >= OrderType.STOP_LOSS
    return {
        "symbol": market.symbol,
        "orderId": s.order_id,
        "orderListId": s.order_list_id or ORDER_LIST_ID,
        "clientOrderId": s.client_order_id,
        **_state_json(market, s),
        "stopPrice": price_str(market, s.stop_price),
        "icebergQty": qty_str(market, s.iceberg_qty),
        "time": s.time,
        "updateTime": s.update_time,
        "isWorking": is_working(s),
        "workingTime": (s.triggered or -1) if is_stop else s.time,
        "origQuoteOrderQty": quote_str(market, s.quote_quantity),
        "selfTradePreventionMode": StpMode(s.stp_mode).name,
        **({"trailingDelta": s.trailing_delta} if s.trailing_delta else {}),
        **prevented_json(market, s),
    }


def cancel_json(cancelled: CancelledOrder) -> JsonObject:
    """DELETE /api/v3/order (and openOrders, order.cancel, cancelReplace) for the cancelled order's
    state, origQuoteOrderQty among its fields as in Binance's answer."""
    market, s = cancelled.market, cancelled.order
    return {
        "symbol": market.symbol,
        "origClientOrderId": s.client_order_id,
        "orderId": s.order_id,
        "orderListId": s.order_list_id or ORDER_LIST_ID,
        "clientOrderId": cancelled.client_order_id,
        "transactTime": cancelled.transact_time,
        **_state_json(market, s, orig_quote=True),
        **({"stopPrice": price_str(market, s.stop_price)} if s.stop_price else {}),
        **({"icebergQty": qty_str(market, s.iceberg_qty)} if s.iceberg_qty else {}),
        "selfTradePreventionMode": StpMode(s.stp_mode).name,
    }


def amend_json(amended: AmendedOrder) -> JsonObject:
    """PUT /api/v3/order/amend/keepPriority (and order.amend.keepPriority) for the amended order."""
    market, s = amended.market, amended.order
    order: JsonObject = {
        "symbol": market.symbol,
        "orderId": s.order_id,
        "orderListId": s.order_list_id or ORDER_LIST_ID,
        "origClientOrderId": amended.orig_client_order_id,
        "clientOrderId": s.client_order_id,
        "price": price_str(market, s.price),
        "qty": qty_str(market, s.quantity),
        "executedQty": qty_str(market, s.executed),
        "preventedQty": qty_str(market, 0),
        "quoteOrderQty": quote_str(market, s.quote_quantity),
        "cumulativeQuoteQty": quote_str(market, s.executed_quote),
        "status": OrderStatus(s.status).name,
        "timeInForce": TimeInForce(s.time_in_force).name,
        "type": OrderType(s.order_type).name,
        "side": Side(s.side).name,
        "workingTime": placed_working_time(s) if not s.triggered else s.triggered,
        **({"icebergQty": qty_str(market, s.iceberg_qty)} if s.iceberg_qty else {}),
        "selfTradePreventionMode": StpMode(s.stp_mode).name,
    }
    return {"transactTime": amended.transact_time, "executionId": amended.execution_id, "amendedOrder": order}


def trade_json(stored: StoredTrade) -> JsonObject:
    """GET /api/v3/myTrades for a stored user trade."""
    market, t = stored.market, stored.record
    return {
        "symbol": market.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "orderListId": t.order_list_id or ORDER_LIST_ID,
        "price": price_str(market, t.price),
        "qty": qty_str(market, t.quantity),
        "quoteQty": quote_str(market, t.quote_quantity),
        "commission": fee_str(market, t.fee, t.fee_asset),
        "commissionAsset": t.fee_asset,
        "time": t.time,
        "isBuyer": t.is_buyer,
        "isMaker": t.is_maker,
        "isBestMatch": True,
    }


def new_order_json(placed: PlacedOrder) -> JsonObject:
    """POST /api/v3/order for the engine's answer to a new order (ACK, RESULT or FULL)."""
    market, s = placed.market, placed.order
    body: JsonObject = {
        "symbol": market.symbol,
        "orderId": s.order_id,
        "orderListId": s.order_list_id or ORDER_LIST_ID,
        "clientOrderId": s.client_order_id,
        "transactTime": s.time,
    }
    if placed.resp_type == "ACK":
        return body
    body.update(_state_json(market, s, orig_quote=True))
    body["workingTime"] = placed_working_time(s)
    body["selfTradePreventionMode"] = STP_NAMES[s.stp_mode]
    if s.stop_price or s.trailing_delta:
        body["stopPrice"] = price_str(market, s.stop_price)
    if s.trailing_delta:
        body["trailingDelta"] = s.trailing_delta
    if s.iceberg_qty:
        body["icebergQty"] = qty_str(market, s.iceberg_qty)
    body.update(prevented_json(market, s))
    if placed.resp_type == "FULL":
        body["fills"] = [
            {
                "price": price_str(market, f.price),
                "qty": qty_str(market, f.quantity),
                "commission": fee_str(market, f.commission, f.commission_asset),
                "commissionAsset": f.commission_asset,
                "tradeId": f.trade_id,
            }
            for f in placed.fills
        ]
        if placed.prevented:
            body["preventedMatches"] = [prevented_match_json(market, m) for m in placed.prevented]
    return body


def prevented_match_json(market: Market, m: PreventedMatch) -> JsonObject:
    """One item of a FULL new-order answer's preventedMatches (Binance's STP FAQ): the quantity
    of each side that was expired, only for that side."""
    out: JsonObject = {
        "preventedMatchId": m.prevented_match_id,
        "makerOrderId": m.maker_order_id,
        "price": price_str(market, m.price),
    }
    if m.taker_qty:
        out["takerPreventedQuantity"] = qty_str(market, m.taker_qty)
    if m.maker_qty:
        out["makerPreventedQuantity"] = qty_str(market, m.maker_qty)
    return out


def placed_working_time(s: OrderRecord) -> int:
    """A new order's workingTime: -1 for a stop order with a stop price (not working yet)."""
    return -1 if s.stop_price else s.time
