"""Signed trading endpoints (Binance Spot): order, openOrders, allOrders."""

from typing import Any

from fastapi import APIRouter, Request

from gateway.auth import Caller, context, request_params

router = APIRouter(prefix="/api/v3", tags=["trade"])


@router.post("/order")
async def new_order(request: Request, who: Caller) -> dict[str, Any]:
    """Place an order: LIMIT (GTC/IOC/FOK), LIMIT_MAKER, MARKET by quantity or quoteOrderQty."""
    return await context(request).orders.place(who.user_id, await request_params(request))  # type: ignore[no-any-return]


@router.get("/order")
async def query_order(request: Request, who: Caller) -> dict[str, Any]:
    """One order by orderId or origClientOrderId."""
    return await context(request).orders.get_order(who.user_id, await request_params(request))  # type: ignore[no-any-return]


@router.delete("/order")
async def cancel_order(request: Request, who: Caller) -> dict[str, Any]:
    """Cancel an open order by orderId or origClientOrderId."""
    return await context(request).orders.cancel(who.user_id, await request_params(request))  # type: ignore[no-any-return]


@router.get("/openOrders")
async def open_orders(request: Request, who: Caller) -> list[dict[str, Any]]:
    """Open orders in one market (`symbol`) or all."""
    return await context(request).orders.open_orders(who.user_id, await request_params(request))  # type: ignore[no-any-return]


@router.delete("/openOrders")
async def cancel_open_orders(request: Request, who: Caller) -> list[dict[str, Any]]:
    """Cancel every open order in one market."""
    return await context(request).orders.cancel_all(who.user_id, await request_params(request))  # type: ignore[no-any-return]


@router.get("/allOrders")
async def all_orders(request: Request, who: Caller) -> list[dict[str, Any]]:
    """The user's orders in one market, newest `limit` or from `orderId`."""
    return await context(request).orders.all_orders(who.user_id, await request_params(request))  # type: ignore[no-any-return]
