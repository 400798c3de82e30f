"""The stored order state and user trade: what settlement writes into Redis (the user's order
hash, its trade sets) and what the gateway reads back.

Both are compact JSON objects of integers with single-letter keys (decimals are made at the edge,
from each asset's precision). This module is the one definition of those keys: `encode` writes
the bytes settlement has always written, `decode` reads them back, including states written
before stop orders existed (no "sp", "tr", "td": 0) and before iceberg orders (no "iq": 0).

Order state keys: i order id, c client order id, S side, t order type, f time in force, p price,
q quantity, qq quote quantity, stp self-trade prevention mode, T creation time, st status,
x executed quantity, xq executed quote, u update time, sp stop price, tr trigger time (0 while a
stop order waits), td trailing delta, iq iceberg quantity (0: not an iceberg order), ol the
order list it was placed in (absent or 0: none; Binance shows -1), pm the prevented match that
expired it (self-trade prevention; absent or 0: none) and pq the quantity that expiry prevented
(absent: 0). The enums are matching.enums' values.

Trade keys: id trade id, o order id, p price, q quantity, qq quote quantity, fee fee (units of
fa), fa fee asset, T time, b the user bought, m the user was the maker, ol its order's order list
(absent or 0: none).
"""

from dataclasses import dataclass, fields
from typing import Any, TypeVar

import orjson

R = TypeVar("R", "OrderRecord", "TradeRecord")


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order's stored state."""

    order_id: int
    client_order_id: str
    side: int
    order_type: int
    time_in_force: int
    price: int
    quantity: int
    quote_quantity: int
    stp_mode: int
    time: int
    status: int
    executed: int
    executed_quote: int
    update_time: int
    stop_price: int = 0
    triggered: int = 0
    trailing_delta: int = 0
    iceberg_qty: int = 0
    order_list_id: int = 0
    prevented_match_id: int = 0
    prevented_qty: int = 0

    def encode(self) -> str:
        return _encode(self, ORDER_KEYS)

    @classmethod
    def decode(cls, raw: str | bytes) -> "OrderRecord":
        return _decode(cls, raw, ORDER_KEYS)


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One side of a trade, as its user's trade history keeps it."""

    trade_id: int
    order_id: int
    price: int
    quantity: int
    quote_quantity: int
    fee: int
    fee_asset: str
    time: int
    is_buyer: bool
    is_maker: bool
    order_list_id: int = 0

    def encode(self) -> str:
        return _encode(self, TRADE_KEYS)

    @classmethod
    def decode(cls, raw: str | bytes) -> "TradeRecord":
        return _decode(cls, raw, TRADE_KEYS)


# Each field's stored key, in the stored order (the order of the fields).
ORDER_KEYS = (
    "i",
    "c",
    "S",
    "t",
    "f",
    "p",
    "q",
    "qq",
    "stp",
    "T",
    "st",
    "x",
    "xq",
    "u",
    "sp",
    "tr",
    "td",
    "iq",
    "ol",
    "pm",
    "pq",
)
TRADE_KEYS = ("id", "o", "p", "q", "qq", "fee", "fa", "T", "b", "m", "ol")
_FIELDS = {
    OrderRecord: tuple(f.name for f in fields(OrderRecord)),
    TradeRecord: tuple(f.name for f in fields(TradeRecord)),
}
# Keys a record may lack (written before they existed): their fields' defaults.
_OPTIONAL: dict[str, Any] = {"sp": 0, "tr": 0, "td": 0, "iq": 0, "ol": 0, "pm": 0, "pq": 0}
# Keys left out when 0: the bytes written before they existed.
_OMITTED_WHEN_ZERO = ("ol", "pm", "pq")
assert all(len(_FIELDS[c]) == len(k) for c, k in ((OrderRecord, ORDER_KEYS), (TradeRecord, TRADE_KEYS)))


def _encode(record: OrderRecord | TradeRecord, keys: tuple[str, ...]) -> str:
    names = _FIELDS[type(record)]
    values = {key: getattr(record, name) for key, name in zip(keys, names, strict=True)}
    for key in _OMITTED_WHEN_ZERO:
        if values.get(key) == 0:
            del values[key]  # outside any order list, no prevented match: as written before them
    return orjson.dumps(values).decode()


def _decode(cls: type[R], raw: str | bytes, keys: tuple[str, ...]) -> R:
    d: dict[str, Any] = orjson.loads(raw)
    return cls(*(d[k] if k in d else _OPTIONAL[k] for k in keys))
