"""The canonical form of a market's state: what a snapshot holds and what the state hash covers.

An order record is `(order_id, user_id, client_order_id, side, price, remaining, filled,
filled_quote, reserve_left, order_type, time_in_force, stp_mode, ts, iceberg_qty, hidden)` with
price in quote units per whole base unit and quantities in base units (`hidden`: the part of
`remaining` an iceberg order does not show; 0 for others). Records are listed in book order: bids
from the best price down, then asks from the best price up, each level in time order.

A waiting stop order's record is `(order_id, user_id, client_order_id, side, order_type,
time_in_force, price, quantity, stop_price, reserve, stp_mode, ts, trailing_delta, active,
reference)`; they are listed in ascending order id.

An open order list's record is `(order_list_id, user_id, list_client_order_id, contingency,
order_ids)`, its member ids in list order; they are listed in ascending list id, after
`last_list_id`, the last list id the engine gave.

A pending order of an open OTO or OTOCO list (not yet placed) is recorded as `(order_id, user_id,
client_order_id, order_list_id, side, order_type, time_in_force, price, quantity, quote_quantity,
reserve, stp_mode, stop_price, trailing_delta, iceberg_qty)`, its PlaceOrder's fields; they are
listed in ascending order id, after the lists.

Last comes `last_prevented_match_id`, the last prevented match id the engine gave (self-trade
prevention, docs/matching.md).

Version 1 snapshots (before stop orders) decode with no stop orders; versions 1 and 2 (before
iceberg orders) with `iceberg_qty` and `hidden` 0; versions 1 to 3 (before order lists) with no
order list and `last_list_id` 0; versions 1 to 4 (before OTO and OTOCO lists) with no pending order;
versions 1 to 5 (before prevented match ids) with `last_prevented_match_id` 0.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Final, cast

OrderRecord = tuple[int, int, str, int, int, int, int, int, int, int, int, int, int, int, int]
TriggerRecord = tuple[int, int, str, int, int, int, int, int, int, int, int, int, int, int, int]
ListRecord = tuple[int, int, str, int, tuple[int, ...]]
PendingRecord = tuple[int, int, str, int, int, int, int, int, int, int, int, int, int, int, int]

ORDER_RECORD_LEN: Final = 15
PRE_ICEBERG_RECORD_LEN: Final = 13
TRIGGER_RECORD_LEN: Final = 15
PENDING_RECORD_LEN: Final = 15
CLIENT_ORDER_ID: Final = 2  # the one text field of the three records

SNAPSHOT_VERSION = 6
PRE_LIST_VERSION: Final = 3
PRE_PENDING_VERSION: Final = 4
PRE_PREVENTED_VERSION: Final = 5


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
    last_list_id: int = 0
    lists: tuple[ListRecord, ...] = ()
    pending: tuple[PendingRecord, ...] = ()
    last_prevented_match_id: int = 0

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
            self.last_list_id,
            [[*r[:4], list(r[4])] for r in self.lists],
            [list(r) for r in self.pending],
            self.last_prevented_match_id,
        ]
        return json.dumps(body, separators=(",", ":"), ensure_ascii=True).encode()

    @classmethod
    def decode(cls, data: bytes) -> "MarketState":
        body = json.loads(data)
        version = body[0]
        if version == 1:
            body.append([])
        elif version not in (
            2,
            PRE_LIST_VERSION,
            PRE_PENDING_VERSION,
            PRE_PREVENTED_VERSION,
            SNAPSHOT_VERSION,
        ):
            raise ValueError(f"unsupported snapshot version {version}")
        if version <= PRE_LIST_VERSION:
            body.extend([0, []])
        if version <= PRE_PENDING_VERSION:
            body.append([])
        if version <= PRE_PREVENTED_VERSION:
            body.append(0)
        _, symbol, seq, trade_id, last_price, orders, triggers, last_list_id, lists, unplaced, prevented = (
            body
        )
        if version < PRE_LIST_VERSION:
            orders = [[*r[:PRE_ICEBERG_RECORD_LEN], 0, 0] for r in orders]
        records = tuple(cast(OrderRecord, _fields(r, ORDER_RECORD_LEN)) for r in orders)
        pending = tuple(cast(TriggerRecord, _fields(r, TRIGGER_RECORD_LEN)) for r in triggers)
        open_lists = tuple(
            (int(r[0]), int(r[1]), str(r[2]), int(r[3]), tuple(int(i) for i in r[4])) for r in lists
        )
        return cls(
            str(symbol),
            int(seq),
            int(trade_id),
            int(last_price),
            records,
            pending,
            int(last_list_id),
            open_lists,
            tuple(cast(PendingRecord, _fields(r, PENDING_RECORD_LEN)) for r in unplaced),
            int(prevented),
        )

    def digest(self) -> str:
        """SHA-256 of the canonical bytes, hex."""
        return digest_of(self.encode())


def digest_of(encoded: bytes) -> str:
    """The digest of a state from its canonical bytes (`MarketState.encode()`)."""
    return hashlib.sha256(encoded).hexdigest()
