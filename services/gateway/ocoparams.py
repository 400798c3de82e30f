"""Parsing OCO order lists: POST /api/v3/orderList/oco (aboveType/belowType, ...) and the
deprecated POST /api/v3/order/oco (price, stopPrice, stopLimitPrice, ...). Each member is
validated as POST /api/v3/order validates an order (gateway.validation.parse_new_order: the
same filters and Binance codes); the combination rules are the engine's (docs/matching.md,
Order lists), but a type no OCO may hold is refused here."""

from dataclasses import dataclass

from exchange_core.errors import NEW_ORDER_REJECTED, ApiError
from exchange_core.markets import Market
from gateway.validation import OrderRequest, client_order_id, market_of, missing, parse_new_order

OCO_ORDER_TYPE_REJECTED = -1158
OCO_TYPES = ("STOP_LOSS_LIMIT", "STOP_LOSS", "LIMIT_MAKER", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT")
# Parameters every member takes from the list's own.
_SHARED = ("symbol", "side", "quantity", "selfTradePreventionMode", "newOrderRespType")


@dataclass(frozen=True, slots=True)
class OcoRequest:
    """A validated OCO: its members in list order (Binance's: below then above; the stop leg
    first for the deprecated endpoint), each an OrderRequest of the same side and quantity."""

    market: Market
    list_client_order_id: str
    members: tuple[OrderRequest, OrderRequest]
    resp_type: str


def _member(params: dict[str, str], markets: dict[str, Market], given: dict[str, str]) -> OrderRequest:
    leg = {name: params[name] for name in _SHARED if params.get(name)}
    leg.update({k: v for k, v in given.items() if v})
    return parse_new_order(leg, markets)


def _leg_type(params: dict[str, str], name: str) -> str:
    value = params.get(name, "").upper()
    if not value:
        raise missing(name)
    if value not in OCO_TYPES:
        raise ApiError(OCO_ORDER_TYPE_REJECTED, "Order type not supported in OCO.")
    return value


def parse_oco(params: dict[str, str], markets: dict[str, Market]) -> OcoRequest:
    """POST /api/v3/orderList/oco. `aboveType` and `belowType` are each one of OCO_TYPES (-1102
    when missing, -1158 otherwise); `above*`/`below*` parameters (ClientOrderId, Price,
    StopPrice, TrailingDelta, TimeInForce, IcebergQty) go to their member, which then gives
    parse_new_order's errors."""
    market = market_of(params, markets)
    for name in ("side", "quantity"):
        if not params.get(name):
            raise missing(name)
    members = []
    for prefix in ("below", "above"):
        leg_type = _leg_type(params, f"{prefix}Type")
        members.append(
            _member(
                params,
                markets,
                {
                    "type": leg_type,
                    "newClientOrderId": params.get(f"{prefix}ClientOrderId", ""),
                    "price": params.get(f"{prefix}Price", ""),
                    "stopPrice": params.get(f"{prefix}StopPrice", ""),
                    "trailingDelta": params.get(f"{prefix}TrailingDelta", ""),
                    "timeInForce": params.get(f"{prefix}TimeInForce", ""),
                    "icebergQty": params.get(f"{prefix}IcebergQty", ""),
                },
            )
        )
    return _request(params, market, members[0], members[1])


def parse_deprecated_oco(params: dict[str, str], markets: dict[str, Market]) -> OcoRequest:
    """POST /api/v3/order/oco: a LIMIT_MAKER member at `price` and a stop member at `stopPrice`,
    STOP_LOSS_LIMIT at `stopLimitPrice` (with `stopLimitTimeInForce`) when that is sent, else
    STOP_LOSS. The stop member comes first in the list, as Binance answers it."""
    market = market_of(params, markets)
    for name in ("side", "quantity", "price", "stopPrice"):
        if not params.get(name):
            raise missing(name)
    stop_limit = bool(params.get("stopLimitPrice"))
    stop = _member(
        params,
        markets,
        {
            "type": "STOP_LOSS_LIMIT" if stop_limit else "STOP_LOSS",
            "newClientOrderId": params.get("stopClientOrderId", ""),
            "price": params.get("stopLimitPrice", ""),
            "stopPrice": params["stopPrice"],
            "trailingDelta": params.get("trailingDelta", ""),
            "timeInForce": params.get("stopLimitTimeInForce", "") if stop_limit else "",
            "icebergQty": params.get("stopIcebergQty", ""),
        },
    )
    limit = _member(
        params,
        markets,
        {
            "type": "LIMIT_MAKER",
            "newClientOrderId": params.get("limitClientOrderId", ""),
            "price": params["price"],
            "icebergQty": params.get("limitIcebergQty", ""),
        },
    )
    return _request(params, market, stop, limit)


def _request(params: dict[str, str], market: Market, first: OrderRequest, second: OrderRequest) -> OcoRequest:
    if first.client_order_id == second.client_order_id:
        raise ApiError(NEW_ORDER_REJECTED, "Duplicate order sent.")
    return OcoRequest(
        market=market,
        list_client_order_id=client_order_id(params, "listClientOrderId"),
        members=(first, second),
        resp_type=first.resp_type,
    )
