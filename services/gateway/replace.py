"""POST /api/v3/order/cancelReplace and POST /api/v3/order/test, on top of the OrderService.

cancelReplace (Binance semantics): the new order's parameters are validated first (a filter
failure is a plain error and cancels nothing); then the cancel; then, unless the cancel failed in
STOP_ON_FAILURE mode, the new order. The answer says what happened to each half:
200 both succeeded; 409 {-2021 "Order cancel-replace partially failed."} one of them failed;
400 {-2022 "Order cancel-replace failed."} both failed, or the cancel failed and the new order
was not attempted (both raised as ReplaceFailed, whose body carries the halves as `data`).
Failed halves carry their own {"code", "msg"}.
"""

from collections.abc import Awaitable, Callable
from typing import TypeVar

from exchange_core.errors import (
    CANCEL_REPLACE_FAILED,
    CANCEL_REPLACE_PARTIALLY_FAILED,
    INVALID_PARAMETER,
    MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    ApiError,
)
from gateway.formatting import cancel_json, new_order_json
from gateway.orders import OrderService
from gateway.responses import JsonObject
from gateway.validation import missing, parse_new_order

MODES = ("STOP_ON_FAILURE", "ALLOW_FAILURE")
FAILED_MSG = "Order cancel-replace failed."
T = TypeVar("T")


class ReplaceFailed(ApiError):
    """A failed cancelReplace: an error answer that carries `data` (what happened to each half)
    beside its code and message."""

    def __init__(self, code: int, msg: str, status: int, data: JsonObject) -> None:
        super().__init__(code, msg, status)
        self.data = data

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg, "data": self.data}


async def cancel_replace(
    orders: OrderService, user_id: int, params: dict[str, str], api_key: str | None = None
) -> JsonObject:
    """The body of a cancelReplace request whose halves both succeeded (`api_key`: the caller's,
    as for OrderService.place); raises ApiError for invalid parameters, ReplaceFailed (409 or 400)
    when a half failed."""
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
    cancelled, cancel_response = await _attempt(orders.cancel(user_id, cancel_params), cancel_json)
    if not cancelled and mode == "STOP_ON_FAILURE":
        raise ReplaceFailed(
            CANCEL_REPLACE_FAILED, FAILED_MSG, 400, _halves("FAILURE", "NOT_ATTEMPTED", cancel_response, None)
        )
    placed, new_response = await _attempt(orders.place_request(user_id, req, api_key), new_order_json)
    results = _halves(_result(cancelled), _result(placed), cancel_response, new_response)
    if cancelled and placed:
        return results
    if cancelled or placed:
        raise ReplaceFailed(
            CANCEL_REPLACE_PARTIALLY_FAILED, "Order cancel-replace partially failed.", 409, results
        )
    raise ReplaceFailed(CANCEL_REPLACE_FAILED, FAILED_MSG, 400, results)


async def test_order(orders: OrderService, params: dict[str, str]) -> JsonObject:
    """POST /api/v3/order/test: validate a new order as POST /api/v3/order does (a market that is
    not trading included), place nothing."""
    spec = parse_new_order(params, orders.ctx.markets).market.spec
    orders.ctx.statuses.ensure_trading(spec.symbol)
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


async def _attempt(call: Awaitable[T], answer: Callable[[T], JsonObject]) -> tuple[bool, JsonObject]:
    """(succeeded, its answer as JSON or its {"code", "msg"}) for a business failure (HTTP 4xx);
    anything else (a timeout with an unknown outcome) propagates."""
    try:
        return True, answer(await call)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        return False, exc.body()


def _result(succeeded: bool) -> str:
    return "SUCCESS" if succeeded else "FAILURE"


def _halves(
    cancel_result: str, new_result: str, cancel_response: JsonObject, new_response: JsonObject | None
) -> JsonObject:
    return {
        "cancelResult": cancel_result,
        "newOrderResult": new_result,
        "cancelResponse": cancel_response,
        "newOrderResponse": new_response,
    }
