"""Binance's JSON shapes of order lists (REST and the WebSocket API): the list object of
orderList, openOrderList and allOrderList, and the answers to a new list (orderList/oco, the
deprecated order/oco) and to a cancelled one (DELETE orderList, and a list DELETE openOrders
cancelled), which add `orderReports`."""

from exchange_core.listrecords import (
    CONTINGENCY_NAMES,
    LIST_STATUS_NAMES,
    STATUS_TYPE_NAMES,
    OrderListRecord,
)
from gateway.formatting import cancel_json, new_order_json
from gateway.responses import JsonObject
from gateway.results import CancelledOrder, CancelledOrderList, PlacedOrderList, StoredOrderList


def _list_json(record: OrderListRecord, list_client_order_id: str, transaction_time: int) -> JsonObject:
    return {
        "orderListId": record.order_list_id,
        "contingencyType": CONTINGENCY_NAMES[record.contingency],
        "listStatusType": STATUS_TYPE_NAMES[record.status_type],
        "listOrderStatus": LIST_STATUS_NAMES[record.list_status],
        "listClientOrderId": list_client_order_id,
        "transactionTime": transaction_time,
        "symbol": record.symbol,
        "orders": [
            {"symbol": record.symbol, "orderId": m.order_id, "clientOrderId": m.client_order_id}
            for m in record.orders
        ],
    }


def order_list_json(stored: StoredOrderList) -> JsonObject:
    """GET /api/v3/orderList (and openOrderList, allOrderList) for a stored order list."""
    r = stored.record
    return _list_json(r, r.list_client_order_id, r.transaction_time)


def new_order_list_json(placed: PlacedOrderList) -> JsonObject:
    """POST /api/v3/orderList/oco (and order/oco): the list and each member's new-order answer
    (RESULT shape; with newOrderRespType FULL, `fills` too)."""
    r = placed.record
    body = _list_json(r, r.list_client_order_id, r.transaction_time)
    body["orderReports"] = [new_order_json(p) for p in placed.reports]
    return body


def cancel_order_list_json(cancelled: CancelledOrderList) -> JsonObject:
    """DELETE /api/v3/orderList: the list, done, and each member's cancel answer."""
    body = _list_json(cancelled.record, cancelled.list_client_order_id, cancelled.transact_time)
    body["orderReports"] = [cancel_json(c) for c in cancelled.reports]
    return body


def cancel_all_json(done: list[CancelledOrder | CancelledOrderList]) -> list[JsonObject]:
    """DELETE /api/v3/openOrders: each cancelled order, or the list a cancelled order list is."""
    return [cancel_order_list_json(d) if isinstance(d, CancelledOrderList) else cancel_json(d) for d in done]
