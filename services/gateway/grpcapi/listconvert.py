"""Between the gRPC messages of order lists and the REST code path: PlaceOco's, PlaceOto's and
PlaceOtoco's requests become orderList/oco's, oto's and otoco's parameters (so that validation
is REST's); the order-list results
(gateway.results) become messages with REST's names and decimal strings."""

from exchange_core.listrecords import (
    CONTINGENCY_NAMES,
    LIST_STATUS_NAMES,
    STATUS_TYPE_NAMES,
    OrderListRecord,
)
from exchange_proto import trading_api_pb2 as tpb
from gateway.grpcapi.convert import _RESP, _SIDE, _STP, _TIF, _TYPE, cancelled, params, placed
from gateway.results import CancelledOrderList, PlacedOrderList


def oco_params(r: tpb.PlaceOcoRequest) -> dict[str, str]:
    """orderList/oco's parameters from a PlaceOcoRequest."""
    out = params(
        symbol=r.symbol,
        side=_SIDE.name(r.side),
        quantity=r.quantity,
        listClientOrderId=r.list_client_order_id,
        newOrderRespType=_RESP.name(r.new_order_resp_type),
        selfTradePreventionMode=_STP.name(r.self_trade_prevention_mode),
    )
    out.update(_oco_member("above", r.above))
    out.update(_oco_member("below", r.below))
    return out


def _oco_member(prefix: str, m: tpb.OcoMember) -> dict[str, str]:
    """An OCO member's parameters, each name `prefix` + Binance's suffix."""
    given: dict[str, str | int] = {
        f"{prefix}Type": _TYPE.name(m.type),
        f"{prefix}Price": m.price,
        f"{prefix}StopPrice": m.stop_price,
        f"{prefix}TrailingDelta": m.trailing_delta,
        f"{prefix}TimeInForce": _TIF.name(m.time_in_force),
        f"{prefix}ClientOrderId": m.client_order_id,
        f"{prefix}IcebergQty": m.iceberg_qty,
    }
    return params(**given)


def _member_params(prefix: str, m: tpb.ListOrderMember) -> dict[str, str]:
    given: dict[str, str | int] = {
        f"{prefix}Type": _TYPE.name(m.type),
        f"{prefix}Side": _SIDE.name(m.side),
        f"{prefix}Price": m.price,
        f"{prefix}Quantity": m.quantity,
        f"{prefix}StopPrice": m.stop_price,
        f"{prefix}TrailingDelta": m.trailing_delta,
        f"{prefix}TimeInForce": _TIF.name(m.time_in_force),
        f"{prefix}ClientOrderId": m.client_order_id,
        f"{prefix}IcebergQty": m.iceberg_qty,
    }
    return params(**given)


def _list_params(symbol: str, list_client_id: str, resp: int, stp: int) -> dict[str, str]:
    return params(
        symbol=symbol,
        listClientOrderId=list_client_id,
        newOrderRespType=_RESP.name(resp),
        selfTradePreventionMode=_STP.name(stp),
    )


def oto_params(r: tpb.PlaceOtoRequest) -> dict[str, str]:
    """orderList/oto's parameters from a PlaceOtoRequest."""
    out = _list_params(r.symbol, r.list_client_order_id, r.new_order_resp_type, r.self_trade_prevention_mode)
    out.update(_member_params("working", r.working))
    out.update(_member_params("pending", r.pending))
    return out


def otoco_params(r: tpb.PlaceOtocoRequest) -> dict[str, str]:
    """orderList/otoco's parameters from a PlaceOtocoRequest."""
    out = _list_params(r.symbol, r.list_client_order_id, r.new_order_resp_type, r.self_trade_prevention_mode)
    out.update(_member_params("working", r.working))
    out.update(params(pendingSide=_SIDE.name(r.pending_side), pendingQuantity=r.pending_quantity))
    out.update(_oco_member("pendingAbove", r.pending_above))
    out.update(_oco_member("pendingBelow", r.pending_below))
    return out


def list_ref_params(symbol: str, order_list_id: int, client_name: str, client_id: str) -> dict[str, str]:
    given: dict[str, str | int] = {"symbol": symbol, "orderListId": order_list_id, client_name: client_id}
    return params(**given)


def order_list(
    r: OrderListRecord, list_client_order_id: str = "", transaction_time: int = 0
) -> tpb.OrderList:
    """Binance's order list object (GET orderList), with the given client id and time when set."""
    out = tpb.OrderList(
        order_list_id=r.order_list_id,
        contingency_type=CONTINGENCY_NAMES[r.contingency],
        list_status_type=STATUS_TYPE_NAMES[r.status_type],
        list_order_status=LIST_STATUS_NAMES[r.list_status],
        list_client_order_id=list_client_order_id or r.list_client_order_id,
        transaction_time=transaction_time or r.transaction_time,
        symbol=r.symbol,
    )
    for m in r.orders:
        out.orders.add(symbol=r.symbol, order_id=m.order_id, client_order_id=m.client_order_id)
    return out


def placed_list(p: PlacedOrderList) -> tpb.PlaceOcoResponse:
    return tpb.PlaceOcoResponse(order_list=order_list(p.record), order_reports=[placed(r) for r in p.reports])


def cancelled_list(c: CancelledOrderList) -> tpb.CancelOrderListResponse:
    return tpb.CancelOrderListResponse(
        order_list=order_list(c.record, c.list_client_order_id, c.transact_time),
        order_reports=[cancelled(r) for r in c.reports],
    )
