"""Enumerations of the matching domain.

Every reason code lives in `Reason`, grouped by the stage that gives it (1xx validation,
2xx risk, 3xx matching, 4xx cancel). The REST and gRPC edges map them to Binance codes in one
table; the core never raises for a business rejection.
"""

from enum import IntEnum


class Side(IntEnum):
    BUY = 1
    SELL = 2


class OrderType(IntEnum):
    LIMIT = 1
    LIMIT_MAKER = 2
    MARKET = 3
    STOP_LOSS = 4
    STOP_LOSS_LIMIT = 5
    TAKE_PROFIT = 6
    TAKE_PROFIT_LIMIT = 7


class TimeInForce(IntEnum):
    GTC = 1
    IOC = 2
    FOK = 3


class StpMode(IntEnum):
    """Self-trade prevention, as Binance: which side expires when a user would trade with itself."""

    NONE = 0
    EXPIRE_TAKER = 1
    EXPIRE_MAKER = 2
    EXPIRE_BOTH = 3


class OrderStatus(IntEnum):
    NEW = 1
    PARTIALLY_FILLED = 2
    FILLED = 3
    CANCELED = 4
    EXPIRED = 5
    EXPIRED_IN_MATCH = 6
    REJECTED = 7
    PENDING_NEW = 8  # a pending order of an OTO or OTOCO list not placed yet (no core event has it)


class ContingencyType(IntEnum):
    """The kind of an order list, as Binance's `contingencyType`."""

    OCO = 1
    OTO = 2
    OTOCO = 3


class ListStatusType(IntEnum):
    """Why an order list's status is reported, as Binance's `listStatusType`."""

    RESPONSE = 1
    EXEC_STARTED = 2
    ALL_DONE = 3


class ListOrderStatus(IntEnum):
    """An order list's status, as Binance's `listOrderStatus`."""

    EXECUTING = 1
    ALL_DONE = 2
    REJECT = 3


class Reason(IntEnum):
    """Why a command was rejected or an order ended without filling completely."""

    NONE = 0
    # validation
    UNKNOWN_MARKET = 101
    INVALID_PRICE = 102
    PRICE_OFF_TICK = 103
    INVALID_QUANTITY = 104
    QUANTITY_OFF_STEP = 105
    QUANTITY_BELOW_MIN = 106
    QUANTITY_ABOVE_MAX = 107
    BELOW_MIN_NOTIONAL = 108
    INVALID_ORDER_TYPE = 109
    INVALID_TIME_IN_FORCE = 110
    DUPLICATE_ORDER_ID = 111
    DUPLICATE_CLIENT_ORDER_ID = 112
    INVALID_SIDE = 113
    INVALID_STP_MODE = 114
    INVALID_STOP_PRICE = 115
    INVALID_TRAILING_DELTA = 116
    INVALID_ICEBERG_QTY = 117
    QUANTITY_NOT_REDUCED = 118
    INVALID_CONTINGENCY = 119
    ORDER_LIST_LEGS_DIFFER = 120
    INVALID_OCO_LEG_TYPES = 121
    INVALID_OCO_PRICES = 122
    ORDER_IN_LIST = 123
    # risk
    INSUFFICIENT_RESERVE = 201
    # matching
    WOULD_TAKE = 301
    NO_LIQUIDITY = 302
    FOK_NOT_FILLABLE = 303
    IOC_REMAINDER = 304
    MARKET_REMAINDER = 305
    SELF_TRADE_TAKER = 306
    SELF_TRADE_MAKER = 307
    RESERVE_EXHAUSTED = 308
    WOULD_TRIGGER = 309
    ORDER_LIST_SIBLING = 310
    # cancel
    UNKNOWN_ORDER = 401
    ORDER_NOT_OWNED = 402
    CANCELED_BY_USER = 403
