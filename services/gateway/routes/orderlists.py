"""Signed order-list endpoints (Binance Spot): OCO placement (orderList/oco and the deprecated
order/oco, each counted as two orders), OTO (two orders) and OTOCO (three), cancelling a list,
and the orderList, openOrderList and allOrderList queries."""

from fastapi import APIRouter, Request

from gateway.callers import Caller, ListPlacer, Trader, TripleListPlacer
from gateway.context import context
from gateway.listformat import cancel_order_list_json, new_order_list_json, order_list_json
from gateway.params import request_params
from gateway.responses import FastJSON

router = APIRouter(prefix="/api/v3", tags=["trade"])


@router.post("/orderList/oco")
async def new_oco(request: Request, who: ListPlacer) -> FastJSON:
    """Place an OCO: `side`, `quantity`, `aboveType` and `belowType` (LIMIT_MAKER, STOP_LOSS,
    STOP_LOSS_LIMIT, TAKE_PROFIT, TAKE_PROFIT_LIMIT) with their `above*` / `below*` prices,
    stop prices, time in force and client order ids."""
    params = await request_params(request)
    return FastJSON(new_order_list_json(await context(request).order_lists.place_oco(who.user_id, params)))


@router.post("/order/oco")
async def new_deprecated_oco(request: Request, who: ListPlacer) -> FastJSON:
    """Place an OCO the deprecated way: a LIMIT_MAKER at `price`, a STOP_LOSS at `stopPrice` (or a
    STOP_LOSS_LIMIT at `stopLimitPrice`)."""
    params = await request_params(request)
    placed = await context(request).order_lists.place_deprecated_oco(who.user_id, params)
    return FastJSON(new_order_list_json(placed))


@router.post("/orderList/oto")
async def new_oto(request: Request, who: ListPlacer) -> FastJSON:
    """Place an OTO: a working LIMIT or LIMIT_MAKER order (`working*`) and a pending order
    (`pending*`) placed when the working one has filled completely."""
    params = await request_params(request)
    return FastJSON(new_order_list_json(await context(request).order_lists.place_oto(who.user_id, params)))


@router.post("/orderList/otoco")
async def new_otoco(request: Request, who: TripleListPlacer) -> FastJSON:
    """Place an OTOCO: a working order (`working*`) and a pending OCO pair (`pendingSide`,
    `pendingQuantity`, `pendingAbove*`, `pendingBelow*`) placed when the working one has filled
    completely."""
    params = await request_params(request)
    return FastJSON(new_order_list_json(await context(request).order_lists.place_otoco(who.user_id, params)))


@router.delete("/orderList")
async def cancel_order_list(request: Request, who: Trader) -> FastJSON:
    """Cancel an open order list by orderListId or listClientOrderId."""
    params = await request_params(request)
    return FastJSON(cancel_order_list_json(await context(request).order_lists.cancel(who.user_id, params)))


@router.get("/orderList")
async def query_order_list(request: Request, who: Caller) -> FastJSON:
    """One order list by orderListId or origClientOrderId."""
    params = await request_params(request)
    return FastJSON(order_list_json(await context(request).order_lists.get(who.user_id, params)))


@router.get("/openOrderList")
async def open_order_lists(request: Request, who: Caller) -> FastJSON:
    """The caller's open order lists."""
    found = await context(request).order_lists.open_lists(who.user_id)
    return FastJSON([order_list_json(s) for s in found])


@router.get("/allOrderList")
async def all_order_lists(request: Request, who: Caller) -> FastJSON:
    """The caller's order lists: newest `limit`, or from `fromId` / within startTime and endTime."""
    params = await request_params(request)
    found = await context(request).order_lists.all_lists(who.user_id, params)
    return FastJSON([order_list_json(s) for s in found])
