"""Binance's JSON shapes, from stored order states, trades and engine events.

Stored states are integers (see settlement.effects); here they become Binance's decimal strings
with each asset's precision.
"""

from typing import Any

from exchange_core.markets import Market
from exchange_core.units import from_units
from exchange_proto import events_pb2 as epb
from matching.enums import OrderStatus, OrderType, Side, StpMode, TimeInForce

ORDER_LIST_ID = -1


def price_str(market: Market, units: int) -> str:
    return from_units(units, market.quote.decimals)


def qty_str(market: Market, units: int) -> str:
    return from_units(units, market.base.decimals)


def quote_str(market: Market, units: int) -> str:
    return from_units(units, market.quote.decimals)


def order_json(market: Market, s: dict[str, Any]) -> dict[str, Any]:
    """GET /api/v3/order (and openOrders, allOrders) for a stored order state."""
    status = OrderStatus(s["st"])
    is_stop = s["t"] >= OrderType.STOP_LOSS
    triggered = s.get("tr", 0)
    return {
        "symbol": market.symbol,
        "orderId": s["i"],
        "orderListId": ORDER_LIST_ID,
        "clientOrderId": s["c"],
        "price": price_str(market, s["p"]),
        "origQty": qty_str(market, s["q"]),
        "executedQty": qty_str(market, s["x"]),
        "cummulativeQuoteQty": quote_str(market, s["xq"]),
        "status": status.name,
        "timeInForce": TimeInForce(s["f"]).name,
        "type": OrderType(s["t"]).name,
        "side": Side(s["S"]).name,
        "stopPrice": price_str(market, s.get("sp", 0)),
        "icebergQty": qty_str(market, 0),
        "time": s["T"],
        "updateTime": s["u"],
        "isWorking": status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        and (not is_stop or bool(triggered)),
        "workingTime": (triggered or -1) if is_stop else s["T"],
        "origQuoteOrderQty": quote_str(market, s["qq"]),
        "selfTradePreventionMode": StpMode(s["stp"]).name,
        **({"trailingDelta": s["td"]} if s.get("td") else {}),
    }


def cancel_json(market: Market, s: dict[str, Any], cancel_client_id: str, transact_ms: int) -> dict[str, Any]:
    """DELETE /api/v3/order for the cancelled order's state."""
    return {
        "symbol": market.symbol,
        "origClientOrderId": s["c"],
        "orderId": s["i"],
        "orderListId": ORDER_LIST_ID,
        "clientOrderId": cancel_client_id,
        "transactTime": transact_ms,
        "price": price_str(market, s["p"]),
        "origQty": qty_str(market, s["q"]),
        "executedQty": qty_str(market, s["x"]),
        "cummulativeQuoteQty": quote_str(market, s["xq"]),
        "status": OrderStatus(s["st"]).name,
        "timeInForce": TimeInForce(s["f"]).name,
        "type": OrderType(s["t"]).name,
        "side": Side(s["S"]).name,
        **({"stopPrice": price_str(market, s["sp"])} if s.get("sp") else {}),
        "selfTradePreventionMode": StpMode(s["stp"]).name,
    }


def trade_json(market: Market, t: dict[str, Any]) -> dict[str, Any]:
    """GET /api/v3/myTrades for a stored user trade."""
    return {
        "symbol": market.symbol,
        "id": t["id"],
        "orderId": t["o"],
        "orderListId": ORDER_LIST_ID,
        "price": price_str(market, t["p"]),
        "qty": qty_str(market, t["q"]),
        "quoteQty": quote_str(market, t["qq"]),
        "commission": from_units(
            t["fee"], market.base.decimals if t["fa"] == market.base.name else market.quote.decimals
        ),
        "commissionAsset": t["fa"],
        "time": t["T"],
        "isBuyer": t["b"],
        "isMaker": t["m"],
        "isBestMatch": True,
    }


def new_order_json(market: Market, order_id: int, resp_type: str, batch: epb.EventBatch) -> dict[str, Any]:
    """POST /api/v3/order from the engine's events for the order (ACK, RESULT or FULL)."""
    accepted = next(e.order_accepted for e in batch.events if e.WhichOneof("kind") == "order_accepted")
    first_ts = batch.events[0].ts
    body: dict[str, Any] = {
        "symbol": market.symbol,
        "orderId": order_id,
        "orderListId": ORDER_LIST_ID,
        "clientOrderId": accepted.client_order_id,
        "transactTime": first_ts,
    }
    if resp_type == "ACK":
        return body
    fills: list[dict[str, Any]] = []
    status = OrderStatus.NEW
    executed = executed_quote = 0
    for e in batch.events:
        kind = e.WhichOneof("kind")
        if kind == "trade" and e.trade.taker_order_id == order_id:
            t = e.trade
            executed, executed_quote = t.taker_filled, t.taker_filled_quote
            status = OrderStatus.PARTIALLY_FILLED
            buyer = int(t.taker_side) == int(Side.BUY)
            fills.append(
                {
                    "price": price_str(market, t.price),
                    "qty": qty_str(market, t.quantity),
                    "commission": from_units(
                        t.taker_fee, market.base.decimals if buyer else market.quote.decimals
                    ),
                    "commissionAsset": market.base.name if buyer else market.quote.name,
                    "tradeId": t.trade_id,
                }
            )
        elif kind == "order_done" and e.order_done.order_id == order_id:
            status = OrderStatus(e.order_done.status)
            executed, executed_quote = e.order_done.filled, e.order_done.filled_quote
    body.update(
        {
            "price": price_str(market, accepted.price),
            "origQty": qty_str(market, accepted.quantity),
            "executedQty": qty_str(market, executed),
            "origQuoteOrderQty": quote_str(market, accepted.quote_quantity),
            "cummulativeQuoteQty": quote_str(market, executed_quote),
            "status": status.name,
            "timeInForce": TimeInForce(accepted.time_in_force).name,
            "type": OrderType(accepted.order_type).name,
            "side": Side(accepted.side).name,
            "workingTime": -1 if accepted.stop_price else first_ts,
            "selfTradePreventionMode": StpMode(accepted.stp_mode).name,
        }
    )
    if accepted.stop_price or accepted.trailing_delta:
        body["stopPrice"] = price_str(market, accepted.stop_price)
    if accepted.trailing_delta:
        body["trailingDelta"] = accepted.trailing_delta
    if resp_type == "FULL":
        body["fills"] = fills
    return body
