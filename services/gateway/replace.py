"""POST /api/v3/order/cancelReplace and POST /api/v3/order/test, on top of the OrderService.

cancelReplace (Binance semantics): the new order's parameters are validated first (a filter
failure is a plain error and cancels nothing); then the cancel; then, unless the cancel failed in
STOP_ON_FAILURE mode, the new order. The answer says what happened to each half:
200 both succeeded; 409 {-2021 "Order cancel-replace partially failed."} one of them failed;
400 {-2022 "Order cancel-replace failed."} both failed, or the cancel failed and the new order
was not attempted. Failed halves carry their own {"code", "msg"}.
"""

from typing import Any

from exchange_core.errors import (
    CANCEL_REPLACE_FAILED,
    CANCEL_REPLACE_PARTIALLY_FAILED,
    INVALID_PARAMETER,
    MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    ApiError,
)
from gateway.orders import OrderService
from gateway.validation import missing, parse_new_order

MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")


async def cancel_replace(
    orders: OrderService, user_id: int, params: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, body) of a cancelReplace request; raises ApiError for invalid parameters."""
    req = parse_new_order(params, orders.ctx.markets)
    mode = params.get("cancelReplaceMode", "").upper()
    if not mode:
        raise missing("cancelReplaceMode")
    if mode not in MODES:
        raise ApiError(INVALID_PARAMETER, "Invalid data sent for a parameter.")
    if not params.get("cancelOrderId") and not params.get("cancelOrigClientOrderId"):
        raise ApiError(
            MANDATORY_PARAM_EMPTY_OR_MALFORMED,
            "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!",
        )
    cancel_params = {"symbol": req.market.symbol}
    for theirs, ours in (
        ("cancelOrderId", "orderId"),
        ("cancelOrigClientOrderId", "origClientOrderId"),
        ("cancelNewClientOrderId", "newClientOrderId"),
    ):
        if params.get(theirs):
            cancel_params[ours] = params[theirs]
    cancelled, cancel_response = await _attempt(orders.cancel(user_id, cancel_params))
    if not cancelled and mode == "STOP_ON_FAILURE":
        return 400, _failure(CANCEL_REPLACE_FAILED, "FAILURE", "NOT_ATTEMPTED", cancel_response, None)
    placed, new_response = await _attempt(orders.place_request(user_id, req))
    results = {
        "cancelResult": "SUCCESS" if cancelled else "FAILURE",
        "newOrderResult": "SUCCESS" if placed else "FAILURE",
        "cancelResponse": cancel_response,
        "newOrderResponse": new_response,
    }
    if cancelled and placed:
        return 200, results
    if cancelled or placed:
        return 409, {
            "code": CANCEL_REPLACE_PARTIALLY_FAILED,
            "msg": "Order cancel-replace partially failed.",
            "data": results,
        }
    return 400, {"code": CANCEL_REPLACE_FAILED, "msg": "Order cancel-replace failed.", "data": results}


async def test_order(orders: OrderService, params: dict[str, str]) -> dict[str, Any]:
    """POST /api/v3/order/test: validate a new order as POST /api/v3/order does, place nothing."""
    spec = parse_new_order(params, orders.ctx.markets).market.spec
    if params.get("computeCommissionRates", "").lower() != "true":
        return {}
    rate = {"maker": _ppm(spec.maker_fee_ppm), "taker": _ppm(spec.taker_fee_ppm)}
    return {
        "standardCommissionForOrder": rate,
        "taxCommissionForOrder": {"maker": "0.00000000", "taker": "0.00000000"},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": None,
            "discount": "0.00000000",
        },
    }


def _ppm(ppm: int) -> str:
    """Parts per million as Binance's 8-decimal rate string."""
    return f"{ppm // 1_000_000}.{ppm % 1_000_000 * 100:08d}"


async def _attempt(call: Any) -> tuple[bool, dict[str, Any]]:
    """(succeeded, its answer or its {"code", "msg"}) for a business failure (HTTP 4xx); anything
    else (a timeout with an unknown outcome) propagates."""
    try:
        return True, await call
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return False, exc.body()


def _failure(
    code: int, cancel_result: str, new_result: str, cancel_response: Any, new_response: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "msg": "Order cancel-replace failed.",
        "data": {
            "cancelResult": cancel_result,
            "newOrderResult": new_result,
            "cancelResponse": cancel_response,
            "newOrderResponse": new_response,
        },
    }
