"""The canonical form of a market's state: what a snapshot holds and what the state hash covers.

An order record is `(order_id, user_id, client_order_id, side, price, remaining, filled,
filled_quote, reserve_left, order_type, time_in_force, stp_mode, ts, iceberg_qty, hidden)` with
price in quote units per whole base unit and quantities in base units (`hidden`: the part of
`remaining` an iceberg order does not show; 0 for others). Records are listed in book order: bids
from the best price down, then asks from the best price up, each level in time order.

A waiting stop order's record is `(order_id, user_id, client_order_id, side, order_type,
time_in_force, price, quantity, stop_price, reserve, stp_mode, ts, trailing_delta, active,
reference)`; they are listed in ascending order id. Version 1 snapshots (before stop orders)
decode with none; versions 1 and 2 (before iceberg orders) decode with `iceberg_qty` and
`hidden` 0.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final, cast

OrderRecord = tuple[int, int, str, int, int, int, int, int, int, int, int, int, int, int, int]
TriggerRecord = tuple[int, int, str, int, int, int, int, int, int, int, int, int, int, int, int]

ORDER_RECORD_LEN: Final = 15
PRE_ICEBERG_RECORD_LEN: Final = 13
TRIGGER_RECORD_LEN: Final = 15
CLIENT_ORDER_ID: Final = 2  # the one text field of both records

SNAPSHOT_VERSION = 3


def _fields(r: list[Any], count: int) -> tuple[Any, ...]:
    """A record's first `count` decoded fields: the client order id text, every other an int."""
    return tuple(str(r[i]) if i == CLIENT_ORDER_ID else int(r[i]) for i in range(count))


@dataclass(frozen=True, slots=True)
class MarketState:
    symbol: str
    seq: int
    trade_id: int
    last_price: int
    orders: tuple[OrderRecord, ...]
    triggers: tuple[TriggerRecord, ...] = ()

    def encode(self) -> bytes:
        """Canonical bytes: compact JSON with a version tag."""
        body = [
            SNAPSHOT_VERSION,
            self.symbol,
            self.seq,
            self.trade_id,
            self.last_price,
            [list(r) for r in self.orders],
            [list(r) for r in self.triggers],
        ]
        return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> "MarketState":
        body = json.loads(data)
        version = body[0]
        if version == 1:
            body.append([])
        elif version not in (2, SNAPSHOT_VERSION):
            raise ValueError(f"unsupported snapshot version {version}")
        _, symbol, seq, trade_id, last_price, orders, triggers = body
        if version < SNAPSHOT_VERSION:
            orders = [[*r[:PRE_ICEBERG_RECORD_LEN], 0, 0] for r in orders]
        records = tuple(cast(OrderRecord, _fields(r, ORDER_RECORD_LEN)) for r in orders)
        pending = tuple(cast(TriggerRecord, _fields(r, TRIGGER_RECORD_LEN)) for r in triggers)
        return cls(str(symbol), int(seq), int(trade_id), int(last_price), records, pending)

    def digest(self) -> str:
        """SHA-256 of the canonical bytes, hex."""
        return digest_of(self.encode())


def digest_of(encoded: bytes) -> str:
    """The digest of a state from its canonical bytes (`MarketState.encode()`)."""
    return hashlib.sha256(encoded).hexdigest()
