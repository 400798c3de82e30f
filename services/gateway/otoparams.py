"""Parsing OTO and OTOCO order lists: POST /api/v3/orderList/oto (working* and pending*
parameters) and POST /api/v3/orderList/otoco (working*, pendingSide, pendingQuantity and the
pendingAbove* / pendingBelow* pair), Binance's parameter names. Each member is validated as POST
/api/v3/order validates an order (gateway.validation.parse_new_order: the same filters and
Binance codes); the combination rules are the engine's (docs/matching.md, Order lists), but a
type no member in its place may hold is refused here (-1158)."""

from dataclasses import dataclass

from exchange_core.errors import NEW_ORDER_REJECTED, ApiError
from exchange_core.markets import Market
from gateway.ocoparams import OCO_ORDER_TYPE_REJECTED, OCO_TYPES
from gateway.validation import OrderRequest, client_order_id, market_of, missing, parse_new_order
from matching.enums import ContingencyType

WORKING_TYPES = ("LIMIT", "LIMIT_MAKER")
PENDING_TYPES = ("LIMIT", "MARKET", *OCO_TYPES)
# Parameters every member takes from the list's own.
_SHARED = ("symbol", "selfTradePreventionMode", "newOrderRespType")
# A member's own parameters: the suffix after its prefix (working, pending, pendingAbove,
# pendingBelow) and the name parse_new_order knows it by.
_OWN = (
    ("ClientOrderId", "newClientOrderId"),
    ("Price", "price"),
    ("StopPrice", "stopPrice"),
    ("TrailingDelta", "trailingDelta"),
    ("TimeInForce", "timeInForce"),
    ("IcebergQty", "icebergQty"),
)


@dataclass(frozen=True, slots=True)
class PendingListRequest:
    """A validated OTO or OTOCO: its members in list order, the working order first, then the
    pending order (OTO) or the pending pair (OTOCO: below, then above; same side and quantity)."""

    market: Market
    list_client_order_id: str
    contingency: ContingencyType
    members: tuple[OrderRequest, ...]
    resp_type: str


def _type(params: dict[str, str], name: str, allowed: tuple[str, ...], what: str) -> str:
    value = params.get(name, "").upper()
    if not value:
        raise missing(name)
    if value not in allowed:
        raise ApiError(OCO_ORDER_TYPE_REJECTED, f"Order type not supported in {what}.")
    return value


def _member(
    params: dict[str, str], markets: dict[str, Market], prefix: str, order_type: str, side: str, quantity: str
) -> OrderRequest:
    leg = {name: params[name] for name in _SHARED if params.get(name)}
    leg.update({"type": order_type, "side": side, "quantity": quantity})
    leg.update({name: params[prefix + suffix] for suffix, name in _OWN if params.get(prefix + suffix)})
    return parse_new_order(leg, markets)


def _required(params: dict[str, str], *names: str) -> list[str]:
    for name in names:
        if not params.get(name):
            raise missing(name)
    return [params[name] for name in names]


def _working(params: dict[str, str], markets: dict[str, Market], what: str) -> OrderRequest:
    order_type = _type(params, "workingType", WORKING_TYPES, what)
    side, _, quantity = _required(params, "workingSide", "workingPrice", "workingQuantity")
    return _member(params, markets, "working", order_type, side, quantity)


def parse_oto(params: dict[str, str], markets: dict[str, Market]) -> PendingListRequest:
    """POST /api/v3/orderList/oto: `workingType` LIMIT or LIMIT_MAKER with workingSide,
    workingPrice, workingQuantity (-1102 when missing); `pendingType` any type (STOP_LOSS,
    TAKE_PROFIT... too) with pendingSide and pendingQuantity; the `working*` / `pending*`
    ClientOrderId, Price, StopPrice, TrailingDelta, TimeInForce and IcebergQty go to their member,
    which then gives parse_new_order's errors."""
    market = market_of(params, markets)
    working = _working(params, markets, "OTO")
    pending_type = _type(params, "pendingType", PENDING_TYPES, "OTO")
    side, quantity = _required(params, "pendingSide", "pendingQuantity")
    pending = _member(params, markets, "pending", pending_type, side, quantity)
    return _request(params, market, ContingencyType.OTO, (working, pending))


def parse_otoco(params: dict[str, str], markets: dict[str, Market]) -> PendingListRequest:
    """POST /api/v3/orderList/otoco: the working order as for parse_oto, then the pending pair
    (an OCO: pendingSide, pendingQuantity, `pendingAboveType` and `pendingBelowType` each one of
    ocoparams.OCO_TYPES, -1158 otherwise) with their `pendingAbove*` / `pendingBelow*` parameters."""
    market = market_of(params, markets)
    working = _working(params, markets, "OTOCO")
    side, quantity = _required(params, "pendingSide", "pendingQuantity")
    below_type = _type(params, "pendingBelowType", OCO_TYPES, "OCO")
    above_type = _type(params, "pendingAboveType", OCO_TYPES, "OCO")
    below = _member(params, markets, "pendingBelow", below_type, side, quantity)
    above = _member(params, markets, "pendingAbove", above_type, side, quantity)
    return _request(params, market, ContingencyType.OTOCO, (working, below, above))


def _request(
    params: dict[str, str], market: Market, contingency: ContingencyType, members: tuple[OrderRequest, ...]
) -> PendingListRequest:
    ids = [m.client_order_id for m in members]
    if len(set(ids)) != len(ids):
        raise ApiError(NEW_ORDER_REJECTED, "Duplicate order sent.")
    return PendingListRequest(
        market=market,
        list_client_order_id=client_order_id(params, "listClientOrderId"),
        contingency=contingency,
        members=members,
        resp_type=members[0].resp_type,
    )
