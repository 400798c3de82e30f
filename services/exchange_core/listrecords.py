"""The stored order list: what settlement writes into Redis for each of a user's order lists (its
list hash, field "SYMBOL:listId") and what the gateway reads back to answer orderList,
openOrderList and allOrderList.

A compact JSON object with short keys: id list id, s symbol, ct contingency type, lst list status
type, los list order status, lc list client order id, T transaction time (the list's creation),
o its member orders in list order as [order id, client order id] pairs. The enums are
matching.enums' values (ContingencyType, ListStatusType, ListOrderStatus).
"""

from dataclasses import dataclass

import orjson

from matching.enums import ContingencyType, ListOrderStatus, ListStatusType


@dataclass(frozen=True, slots=True)
class ListMember:
    """One member order of a list: its id and client order id."""

    order_id: int
    client_order_id: str


@dataclass(frozen=True, slots=True)
class OrderListRecord:
    """One order list's stored state."""

    order_list_id: int
    symbol: str
    contingency: int
    status_type: int
    list_status: int
    list_client_order_id: str
    transaction_time: int
    orders: tuple[ListMember, ...]

    @property
    def is_open(self) -> bool:
        return self.status_type != ListStatusType.ALL_DONE

    @property
    def field(self) -> str:
        """Its field in the user's list hash."""
        return f"{self.symbol}:{self.order_list_id}"

    def encode(self) -> bytes:
        return orjson.dumps({
            "id": self.order_list_id, "s": self.symbol, "ct": self.contingency,
            "lst": self.status_type, "los": self.list_status, "lc": self.list_client_order_id,
            "T": self.transaction_time, "o": [[m.order_id, m.client_order_id] for m in self.orders],
        })  # fmt: skip

    @classmethod
    def decode(cls, raw: str | bytes) -> "OrderListRecord":
        d = orjson.loads(raw)
        members = tuple(ListMember(int(oid), str(cid)) for oid, cid in d["o"])
        return cls(d["id"], d["s"], d["ct"], d["lst"], d["los"], d["lc"], d["T"], members)


CONTINGENCY_NAMES = {int(v): v.name for v in ContingencyType}
STATUS_TYPE_NAMES = {int(v): v.name for v in ListStatusType}
LIST_STATUS_NAMES = {int(v): v.name for v in ListOrderStatus}
