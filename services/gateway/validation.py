"""Parsing and validating order parameters against the markets registry, before anything
reaches Redis. Errors are Binance's codes and messages."""

import re
import secrets
import string
from dataclasses import dataclass

from exchange_core.errors import (
    BAD_PRECISION,
    BAD_SYMBOL,
    FILTER_FAILURE,
    ILLEGAL_CHARS,
    INVALID_ORDER_TYPE,
    INVALID_PARAMETER,
    INVALID_SIDE,
    INVALID_TIF,
    MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    NEW_ORDER_REJECTED,
    PARAM_NOT_REQUIRED,
    ApiError,
)
from exchange_core.ledger import MAX_AMOUNT
from exchange_core.markets import Market
from exchange_core.units import UnitError, to_units
from matching.enums import OrderType, Side, StpMode, TimeInForce

DEFAULT_STP = StpMode.EXPIRE_MAKER
SUPPORTED_TYPES = (
    "LIMIT",
    "LIMIT_MAKER",
    "MARKET",
    "STOP_LOSS",
    "STOP_LOSS_LIMIT",
    "TAKE_PROFIT",
    "TAKE_PROFIT_LIMIT",
)
STOP_MARKET_TYPES = (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT)
STOP_LIMIT_TYPES = (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
NOT_SUPPORTED_PARAMS = ("strategyId", "strategyType")
# Names to members, looked up as plain dicts (an enum's `[name]` and `__members__` cost more).
_SIDES = dict(Side.__members__)
_ORDER_TYPES = dict(OrderType.__members__)
_TIME_IN_FORCES = dict(TimeInForce.__members__)
_STP_MODES = dict(StpMode.__members__)
ICEBERG_TYPES = (OrderType.LIMIT, OrderType.LIMIT_MAKER)
# ICEBERG_PARTS and MAX_NUM_ICEBERG_ORDERS filters (Binance's usual values): an iceberg order has at
# most ICEBERG_PARTS_LIMIT visible parts (ceil(quantity / icebergQty)); a user has at most
# MAX_NUM_ICEBERG_ORDERS open iceberg orders per symbol.
ICEBERG_PARTS_LIMIT = 10
MAX_NUM_ICEBERG_ORDERS = 5
# TRAILING_DELTA filter bounds, in basis points (Binance's usual values).
MIN_TRAILING_DELTA = 10
MAX_TRAILING_DELTA = 2000
_CLIENT_ID = re.compile(r"^[a-zA-Z0-9\-_.]{1,36}$")
_DECIMAL = re.compile(r"^([0-9]{1,20})(\.[0-9]{1,20})?$")
_DIGITS = re.compile(r"^[0-9]{1,20}$")
# Integer parameters are Java longs at Binance: larger values are refused like malformed ones.
MAX_INT_PARAM = 2**63 - 1
# startTime/endTime bound: the last millisecond of year 9999, the end of Python's datetime range.
MAX_TIME_MS = 253_402_300_799_999
_ALPHABET = string.ascii_letters + string.digits
# Upper bounds of PRICE_FILTER.maxPrice and NOTIONAL.maxNotional, in whole quote units (Binance's
# BTCUSDT values); exchangeInfo advertises them and parse_new_order enforces them.
MAX_PRICE_WHOLE = 1_000_000
MAX_NOTIONAL_WHOLE = 9_000_000


def missing(name: str) -> ApiError:
    return ApiError(
        MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def not_required(name: str) -> ApiError:
    return ApiError(PARAM_NOT_REQUIRED, f"Parameter '{name}' sent when not required.")


def filter_failure(name: str) -> ApiError:
    return ApiError(FILTER_FAILURE, f"Filter failure: {name}")


def market_of(params: dict[str, str], markets: dict[str, Market]) -> Market:
    symbol = params.get("symbol", "").upper()
    if not symbol:
        raise missing("symbol")
    market = markets.get(symbol)
    if market is None:
        raise ApiError(BAD_SYMBOL, "Invalid symbol.")
    return market


def max_price_units(market: Market) -> int:
    """PRICE_FILTER's maxPrice in quote units: MAX_PRICE_WHOLE rounded down to the tick grid."""
    cap: int = MAX_PRICE_WHOLE * 10**market.quote.decimals
    return cap - cap % market.spec.tick_units


def max_notional_units(market: Market) -> int:
    """NOTIONAL's maxNotional in quote units (applies to LIMIT and LIMIT_MAKER, not to MARKET)."""
    cap: int = MAX_NOTIONAL_WHOLE * 10**market.quote.decimals
    return cap


def decimal_units(params: dict[str, str], name: str, decimals: int) -> int:
    text = params[name].strip()
    if not _DECIMAL.fullmatch(text):
        raise ApiError(
            ILLEGAL_CHARS,
            f"Illegal characters found in parameter '{name}'; legal range is '{_DECIMAL.pattern}'.",
        )
    try:
        return to_units(text, decimals)
    except UnitError as exc:
        raise ApiError(BAD_PRECISION, "Precision is over the maximum defined for this asset.") from exc


def client_order_id(params: dict[str, str], name: str = "newClientOrderId") -> str:
    """The given client order id, or a fresh random one (22 characters, like Binance's)."""
    given = params.get(name)
    if given is None or given == "":
        return "".join(secrets.choice(_ALPHABET) for _ in range(22))
    if not _CLIENT_ID.fullmatch(given):
        raise ApiError(
            ILLEGAL_CHARS,
            f"Illegal characters found in parameter '{name}'; legal range is '{_CLIENT_ID.pattern}'.",
        )
    return given


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A validated new order: amounts in smallest units, enums as their values."""

    market: Market
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    price: int
    quantity: int
    quote_quantity: int
    client_order_id: str
    stp_mode: StpMode
    resp_type: str
    stop_price: int = 0
    trailing_delta: int = 0
    iceberg_qty: int = 0


def parse_new_order(params: dict[str, str], markets: dict[str, Market]) -> OrderRequest:
    """Validate POST /api/v3/order parameters against the symbol's filters as exchangeInfo shows them.
    STOP_LOSS / TAKE_PROFIT take `quantity` and `stopPrice`; STOP_LOSS_LIMIT / TAKE_PROFIT_LIMIT
    take what LIMIT takes and `stopPrice`; `trailingDelta` (bips) makes either trail, `stopPrice`
    then optional (-1013 TRAILING_DELTA outside [10, 2000]). `icebergQty` makes a LIMIT or
    LIMIT_MAKER order (GTC) an iceberg order (see `_iceberg_qty`).

    Raises ApiError with Binance's code: -1102 (missing), -1121 (symbol), -1117 (side), -1116 (type),
    -1106 (parameter not required), -1115 (timeInForce), -1100 (malformed decimal), -1111
    (precision), -1013 (PRICE_FILTER: off the tick grid or above maxPrice; LOT_SIZE /
    MARKET_LOT_SIZE; NOTIONAL: under minNotional, over maxNotional for LIMIT and LIMIT_MAKER, or a
    quoteOrderQty past the ledger's exact range, MAX_AMOUNT units),
    -1130 (selfTradePreventionMode, newOrderRespType).
    """
    market = market_of(params, markets)
    spec = market.spec
    side_name = params.get("side", "").upper()
    if not side_name:
        raise missing("side")
    if side_name not in ("BUY", "SELL"):
        raise ApiError(INVALID_SIDE, "Invalid side.")
    type_name = params.get("type", "").upper()
    if not type_name:
        raise missing("type")
    if type_name not in SUPPORTED_TYPES:
        raise ApiError(INVALID_ORDER_TYPE, "Invalid orderType.")
    for name in NOT_SUPPORTED_PARAMS:
        if params.get(name):
            raise not_required(name)
    order_type = _ORDER_TYPES[type_name]
    trailing_delta = _trailing_delta(params, order_type)
    stop_price = _stop_price(params, market, order_type, trailing_delta)
    tif = TimeInForce.GTC
    if order_type == OrderType.LIMIT or order_type in STOP_LIMIT_TYPES:
        tif_name = params.get("timeInForce", "").upper()
        if not tif_name:
            raise missing("timeInForce")
        if tif_name not in _TIME_IN_FORCES:
            raise ApiError(INVALID_TIF, "Invalid timeInForce.")
        tif = _TIME_IN_FORCES[tif_name]
    elif params.get("timeInForce") and not (
        order_type == OrderType.LIMIT_MAKER and params["timeInForce"] == "GTC"
    ):
        raise not_required("timeInForce")
    price = quantity = quote_quantity = 0
    if order_type in STOP_MARKET_TYPES:
        if params.get("price"):
            raise not_required("price")
        if params.get("quoteOrderQty"):
            raise not_required("quoteOrderQty")
        if not params.get("quantity"):
            raise missing("quantity")
        quantity = decimal_units(params, "quantity", market.base.decimals)
        check_lot(market, quantity, "MARKET_LOT_SIZE")
    elif order_type == OrderType.MARKET:
        if params.get("price"):
            raise not_required("price")
        has_qty, has_quote = bool(params.get("quantity")), bool(params.get("quoteOrderQty"))
        if has_qty and has_quote:
            raise not_required("quoteOrderQty")
        if not (has_qty or has_quote):
            raise ApiError(
                MANDATORY_PARAM_EMPTY_OR_MALFORMED,
                "Param 'quantity' or 'quoteOrderQty' must be sent, but both were empty/null!",
            )
        if has_qty:
            quantity = decimal_units(params, "quantity", market.base.decimals)
            check_lot(market, quantity, "MARKET_LOT_SIZE")
        else:
            quote_quantity = decimal_units(params, "quoteOrderQty", market.quote.decimals)
            if not spec.min_notional_units <= quote_quantity <= MAX_AMOUNT:
                raise filter_failure("NOTIONAL")
    else:
        if not params.get("price"):
            raise missing("price")
        if not params.get("quantity"):
            raise missing("quantity")
        if params.get("quoteOrderQty"):
            raise not_required("quoteOrderQty")
        price = decimal_units(params, "price", market.quote.decimals)
        if price <= 0 or price % spec.tick_units or price > max_price_units(market):
            raise filter_failure("PRICE_FILTER")
        quantity = decimal_units(params, "quantity", market.base.decimals)
        check_lot(market, quantity, "LOT_SIZE")
        if not spec.min_notional_units <= spec.notional(price, quantity) <= max_notional_units(market):
            raise filter_failure("NOTIONAL")
    iceberg_qty = _iceberg_qty(params, market, order_type, tif, quantity)
    stp_name = params.get("selfTradePreventionMode", "").upper()
    if stp_name and stp_name not in _STP_MODES:
        raise ApiError(INVALID_PARAMETER, "Invalid data sent for a parameter.")
    resp_type = params.get("newOrderRespType", "FULL").upper()
    if resp_type not in ("ACK", "RESULT", "FULL"):
        raise ApiError(INVALID_PARAMETER, "Invalid data sent for a parameter.")
    return OrderRequest(
        market=market,
        side=_SIDES[side_name],
        order_type=order_type,
        time_in_force=tif,
        price=price,
        quantity=quantity,
        quote_quantity=quote_quantity,
        client_order_id=client_order_id(params),
        stp_mode=_STP_MODES[stp_name] if stp_name else DEFAULT_STP,
        resp_type=resp_type,
        stop_price=stop_price,
        trailing_delta=trailing_delta,
        iceberg_qty=iceberg_qty,
    )


def _iceberg_qty(
    params: dict[str, str], market: Market, order_type: OrderType, tif: TimeInForce, quantity: int
) -> int:
    """`icebergQty` in base units, 0 when not sent. Binance's answers: -1106 for a type other than
    LIMIT and LIMIT_MAKER; -2010 "Unsupported order combination" with a time in force other than
    GTC; -1013 LOT_SIZE off the grid or out of its bounds; -2010 "IcebergQty exceeds QTY." unless
    below the quantity; -1013 ICEBERG_PARTS for more than ICEBERG_PARTS_LIMIT parts."""
    if not params.get("icebergQty"):
        return 0
    if order_type not in ICEBERG_TYPES:
        raise not_required("icebergQty")
    if tif != TimeInForce.GTC:
        raise ApiError(NEW_ORDER_REJECTED, "Unsupported order combination")
    iceberg = decimal_units(params, "icebergQty", market.base.decimals)
    check_lot(market, iceberg, "LOT_SIZE")
    if iceberg >= quantity:
        raise ApiError(NEW_ORDER_REJECTED, "IcebergQty exceeds QTY.")
    if -(-quantity // iceberg) > ICEBERG_PARTS_LIMIT:
        raise filter_failure("ICEBERG_PARTS")
    return iceberg


def _trailing_delta(params: dict[str, str], order_type: OrderType) -> int:
    """`trailingDelta` in basis points: optional for the stop types (TRAILING_DELTA filter), not
    allowed for the others."""
    if not params.get("trailingDelta"):
        return 0
    if order_type not in STOP_MARKET_TYPES and order_type not in STOP_LIMIT_TYPES:
        raise not_required("trailingDelta")
    delta = int_param(params, "trailingDelta") or 0
    if not MIN_TRAILING_DELTA <= delta <= MAX_TRAILING_DELTA:
        raise filter_failure("TRAILING_DELTA")
    return delta


def _stop_price(params: dict[str, str], market: Market, order_type: OrderType, trailing_delta: int) -> int:
    """`stopPrice` in quote units: mandatory for the stop types unless they trail (PRICE_FILTER
    applies to it), not allowed for the others."""
    if order_type not in STOP_MARKET_TYPES and order_type not in STOP_LIMIT_TYPES:
        if params.get("stopPrice"):
            raise not_required("stopPrice")
        return 0
    if not params.get("stopPrice"):
        if trailing_delta:
            return 0
        raise missing("stopPrice")
    stop_price = decimal_units(params, "stopPrice", market.quote.decimals)
    if stop_price <= 0 or stop_price % market.spec.tick_units or stop_price > max_price_units(market):
        raise filter_failure("PRICE_FILTER")
    return stop_price


def check_lot(market: Market, quantity: int, filter_name: str) -> None:
    spec = market.spec
    if (
        quantity <= 0
        or quantity % spec.step_units
        or not spec.min_qty_units <= quantity <= spec.max_qty_units
    ):
        raise filter_failure(filter_name)


def parse_int(text: str, name: str) -> int:
    """`text` as a non-negative integer: 1 to 20 ASCII digits (no sign, space or other script's
    digits) up to 2^63-1. Raises ApiError(-1100) for anything else."""
    if not _DIGITS.fullmatch(text) or int(text) > MAX_INT_PARAM:
        raise ApiError(
            ILLEGAL_CHARS,
            f"Illegal characters found in parameter '{name}'; legal range is '{_DIGITS.pattern}'.",
        )
    return int(text)


def int_param(params: dict[str, str], name: str, default: int | None = None) -> int | None:
    """Parameter `name` parsed by parse_int, or `default` when it is absent or empty."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    return parse_int(raw, name)


def time_param(params: dict[str, str], name: str) -> int | None:
    """A time parameter in ms (startTime, endTime), None when absent; -1100 as int_param,
    -1130 past MAX_TIME_MS."""
    value = int_param(params, name)
    if value is not None and value > MAX_TIME_MS:
        raise ApiError(INVALID_PARAMETER, f"Invalid value for '{name}': at most {MAX_TIME_MS}.")
    return value
