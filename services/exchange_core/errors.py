"""Binance's error model: `{"code": -1121, "msg": "Invalid symbol."}`, one table for all edges.

Every engine `Reason` maps to a Binance code and message here, used by REST and gRPC alike.
"""

from matching.enums import Reason


class ApiError(Exception):
    """An error the client sees: Binance code, message and HTTP status."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


# Binance codes used across the API.
UNKNOWN = -1000
DISCONNECTED = -1001
UNAUTHORIZED = -1002
TOO_MANY_REQUESTS = -1003
TIMEOUT = -1007
TOO_MANY_ORDERS = -1015
UNSUPPORTED_OPERATION = -1020
INVALID_TIMESTAMP = -1021
INVALID_SIGNATURE = -1022
ILLEGAL_CHARS = -1100
TOO_MANY_PARAMETERS = -1101
MANDATORY_PARAM_EMPTY_OR_MALFORMED = -1102
UNKNOWN_PARAM = -1104
PARAM_EMPTY = -1105
PARAM_NOT_REQUIRED = -1106
BAD_PRECISION = -1111
INVALID_TIF = -1115
INVALID_ORDER_TYPE = -1116
INVALID_SIDE = -1117
EMPTY_NEW_CL_ORD_ID = -1118
BAD_INTERVAL = -1120
BAD_SYMBOL = -1121
INVALID_SYMBOL_STATUS = -1122
INVALID_LISTEN_KEY = -1125
BAD_RECV_WINDOW = -1131
OPTIONAL_PARAMS_BAD_COMBO = -1128
INVALID_PARAMETER = -1130
FILTER_FAILURE = -1013
CANCEL_REPLACE_PARTIALLY_FAILED = -2021
CANCEL_REPLACE_FAILED = -2022
NEW_ORDER_REJECTED = -2010
CANCEL_REJECTED = -2011
NO_SUCH_ORDER = -2013
BAD_API_KEY_FMT = -2014
REJECTED_MBX_KEY = -2015
ORDER_AMEND_REJECTED = -2038

INSUFFICIENT_BALANCE_MSG = "Account has insufficient balance for requested action."

_REASONS: dict[int, tuple[int, str]] = {
    Reason.UNKNOWN_MARKET: (BAD_SYMBOL, "Invalid symbol."),
    Reason.INVALID_PRICE: (FILTER_FAILURE, "Filter failure: PRICE_FILTER"),
    Reason.PRICE_OFF_TICK: (FILTER_FAILURE, "Filter failure: PRICE_FILTER"),
    Reason.INVALID_QUANTITY: (FILTER_FAILURE, "Filter failure: LOT_SIZE"),
    Reason.QUANTITY_OFF_STEP: (FILTER_FAILURE, "Filter failure: LOT_SIZE"),
    Reason.QUANTITY_BELOW_MIN: (FILTER_FAILURE, "Filter failure: LOT_SIZE"),
    Reason.QUANTITY_ABOVE_MAX: (FILTER_FAILURE, "Filter failure: LOT_SIZE"),
    Reason.BELOW_MIN_NOTIONAL: (FILTER_FAILURE, "Filter failure: NOTIONAL"),
    Reason.INVALID_ORDER_TYPE: (INVALID_ORDER_TYPE, "Invalid orderType."),
    Reason.INVALID_TIME_IN_FORCE: (INVALID_TIF, "Invalid timeInForce."),
    Reason.INVALID_SIDE: (INVALID_SIDE, "Invalid side."),
    Reason.INVALID_STP_MODE: (INVALID_PARAMETER, "Invalid selfTradePreventionMode."),
    Reason.DUPLICATE_ORDER_ID: (NEW_ORDER_REJECTED, "Duplicate order sent."),
    Reason.DUPLICATE_CLIENT_ORDER_ID: (NEW_ORDER_REJECTED, "Duplicate order sent."),
    Reason.INSUFFICIENT_RESERVE: (NEW_ORDER_REJECTED, INSUFFICIENT_BALANCE_MSG),
    Reason.WOULD_TAKE: (NEW_ORDER_REJECTED, "Order would immediately match and take."),
    Reason.INVALID_STOP_PRICE: (FILTER_FAILURE, "Filter failure: PRICE_FILTER"),
    Reason.WOULD_TRIGGER: (NEW_ORDER_REJECTED, "Stop price would trigger immediately."),
    Reason.INVALID_ICEBERG_QTY: (NEW_ORDER_REJECTED, "Unsupported order combination"),
    Reason.INVALID_CONTINGENCY: (NEW_ORDER_REJECTED, "Unsupported order combination"),
    Reason.ORDER_LIST_LEGS_DIFFER: (NEW_ORDER_REJECTED, "Unsupported order combination"),
    Reason.INVALID_OCO_LEG_TYPES: (NEW_ORDER_REJECTED, "Unsupported order combination"),
    Reason.INVALID_OCO_PRICES: (
        NEW_ORDER_REJECTED,
        "The relationship of the prices for the orders is not correct.",
    ),
    Reason.ORDER_IN_LIST: (
        ORDER_AMEND_REJECTED,
        "Order amend is not supported for a member of an open order list.",
    ),
    Reason.UNKNOWN_ORDER: (CANCEL_REJECTED, "Unknown order sent."),
    Reason.ORDER_NOT_OWNED: (CANCEL_REJECTED, "Unknown order sent."),
}


def amend_error(reason: int) -> ApiError:
    """The client-facing error for an engine rejection of an amendment (-2038 where Binance's
    matching engine refuses it, the filter failures as for new orders)."""
    if reason in (Reason.UNKNOWN_ORDER, Reason.ORDER_NOT_OWNED):
        return ApiError(ORDER_AMEND_REJECTED, "Unknown order sent.")
    if reason == Reason.QUANTITY_NOT_REDUCED:
        return ApiError(ORDER_AMEND_REJECTED, "Order amend (quantity increase) is not supported.")
    if reason == Reason.DUPLICATE_CLIENT_ORDER_ID:
        return ApiError(ORDER_AMEND_REJECTED, "Duplicate order sent.")
    return reason_error(reason)


def reason_error(reason: int) -> ApiError:
    """The client-facing error for an engine rejection reason."""
    code, msg = _REASONS.get(reason, (UNKNOWN, "An unknown error occurred while processing the request."))
    return ApiError(code, msg)
