"""Signed trading endpoints (Binance Spot): order, openOrders, allOrders. Placing and cancelling
(Binance TRADE) need a key with the trading permission (`Trader`; `OrderPlacer` also counts the
order against the key's ORDERS rate limits); queries are open to any key."""

from fastapi import APIRouter, Request

from gateway.callers import Caller, OrderPlacer, Trader
from gateway.context import context
from gateway.formatting import amend_json, cancel_json, new_order_json, order_json
from gateway.listformat import cancel_all_json
from gateway.params import request_params
from gateway.replace import cancel_replace, test_order
from gateway.responses import FastJSON

router = APIRouter(prefix="/api/v3", tags=["trade"])


@router.post("/order")
async def new_order(request: Request, who: OrderPlacer) -> FastJSON:
    """Place an order: LIMIT (GTC/IOC/FOK), LIMIT_MAKER, MARKET by quantity or quoteOrderQty,
    STOP_LOSS / TAKE_PROFIT (quantity, stopPrice), STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT (as LIMIT,
    with stopPrice)."""
    placed = await context(request).orders.place(who.user_id, await request_params(request), who.api_key)
    return FastJSON(new_order_json(placed))


@router.post("/order/test")
async def new_order_test(request: Request, who: Trader) -> FastJSON:
    """Validate a new order exactly as POST /order does, without placing it ({} on success)."""
    return FastJSON(await test_order(context(request).orders, await request_params(request)))


@router.post("/order/cancelReplace")
async def cancel_and_replace(request: Request, who: OrderPlacer) -> FastJSON:
    """Cancel an order and place a new one in the same market (cancelReplaceMode STOP_ON_FAILURE or
    ALLOW_FAILURE); 409 when one half failed, 400 when both did or the new one was not attempted."""
    params = await request_params(request)
    return FastJSON(await cancel_replace(context(request).orders, who.user_id, params, who.api_key))


@router.put("/order/amend/keepPriority")
async def amend_keep_priority(request: Request, who: Trader) -> FastJSON:
    """Reduce an open order's quantity to `newQty` (orderId or origClientOrderId), keeping its place
    in the queue; `newClientOrderId` renames it (a random one when not sent)."""
    amended = await context(request).orders.amend(who.user_id, await request_params(request))
    return FastJSON(amend_json(amended))


@router.get("/order")
async def query_order(request: Request, who: Caller) -> FastJSON:
    """One order by orderId or origClientOrderId."""
    return FastJSON(
        order_json(await context(request).orders.get_order(who.user_id, await request_params(request)))
    )


@router.delete("/order")
async def cancel_order(request: Request, who: Trader) -> FastJSON:
    """Cancel an open order by orderId or origClientOrderId."""
    return FastJSON(
        cancel_json(await context(request).orders.cancel(who.user_id, await request_params(request)))
    )


@router.get("/openOrders")
async def open_orders(request: Request, who: Caller) -> FastJSON:
    """Open orders in one market (`symbol`) or all."""
    found = await context(request).orders.open_orders(who.user_id, await request_params(request))
    return FastJSON([order_json(o) for o in found])


@router.delete("/openOrders")
async def cancel_open_orders(request: Request, who: Trader) -> FastJSON:
    """Cancel every open order in one market (an order list's members: as the list)."""
    done = await context(request).order_lists.cancel_all(who.user_id, await request_params(request))
    return FastJSON(cancel_all_json(done))


@router.get("/allOrders")
async def all_orders(request: Request, who: Caller) -> FastJSON:
    """The user's orders in one market, newest `limit` or from `orderId`."""
    found = await context(request).orders.all_orders(who.user_id, await request_params(request))
    return FastJSON([order_json(o) for o in found])
