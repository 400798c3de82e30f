"""From engine events to history rows: pure, no I/O. The writer's hot path (measured by
bench/db_bench.py): protobuf fields are read once into plain tuples and lists.

A `HistoryRows` collects the rows of any number of evt:{SYMBOL} entries, fed in stream order:
one trade row per Trade event (columns `TRADE_COLUMNS`), and per order one row holding its state
after the last event seen for it, seq included (columns `ORDER_COLUMNS`), so that a batch writes
each order once.

Static order fields (client id, side, type, price, ...) are only in OrderAccepted. An order
accepted in an earlier batch gets a row without them (None, `created_ms` None included): the
writer then updates the cumulative fields of the row that batch wrote, and derives
PARTIALLY_FILLED/FILLED of a fill from the stored quantity. So the writer keeps no per-order
memory between batches and a restart needs no reload. Rejected orders were never accepted and
get no row (as on Binance); cancels and expiries end with the order's OrderDone. An amendment
(OrderAmended) sets the quantity and client id of the row, which the writer then stores too.
"""

from typing import Any

from exchange_proto import events_pb2 as epb
from matching import OrderStatus

NEW = int(OrderStatus.NEW)
PARTIALLY_FILLED = int(OrderStatus.PARTIALLY_FILLED)
FILLED = int(OrderStatus.FILLED)

# Staging columns and their SQL types (ts/created_ms/updated_ms: ms since the epoch).
TRADE_COLUMNS: dict[str, str] = {
    "symbol": "text",
    "id": "bigint",
    "ts": "bigint",
    "price": "bigint",
    "qty": "bigint",
    "quote_qty": "bigint",
    "taker_side": "smallint",
    "maker_order_id": "bigint",
    "taker_order_id": "bigint",
    "maker_user_id": "bigint",
    "taker_user_id": "bigint",
    "maker_fee": "bigint",
    "taker_fee": "bigint",
    "seq": "bigint",
}
ORDER_COLUMNS: dict[str, str] = {
    "symbol": "text",
    "order_id": "bigint",
    "user_id": "bigint",
    "client_order_id": "text",
    "side": "smallint",
    "type": "smallint",
    "time_in_force": "smallint",
    "price": "bigint",
    "qty": "bigint",
    "quote_qty": "bigint",
    "created_ms": "bigint",
    "status": "smallint",  # None: a fill of an order accepted earlier (derived when written)
    "executed_qty": "bigint",
    "cumulative_quote_qty": "bigint",
    "updated_ms": "bigint",
    "seq": "bigint",
    "stop_price": "bigint",  # 0: not a stop order
    "trailing_delta": "integer",  # basis points; 0: not trailing
    "iceberg_qty": "bigint",  # 0: not an iceberg order
}
# Positions in an order row.
CLIENT_ID, QTY, CREATED, STATUS, EXECUTED, EXECUTED_QUOTE, UPDATED, SEQ = 3, 8, 10, 11, 12, 13, 14, 15

TradeRow = tuple[str, int, int, int, int, int, int, int, int, int, int, int, int, int]
OrderRow = list[Any]  # ORDER_COLUMNS, mutable while the batch is collected


class HistoryRows:
    """The trades and order states of a run of event entries (any symbols)."""

    def __init__(self) -> None:
        self.trades: list[TradeRow] = []
        self.orders: dict[tuple[str, int], OrderRow] = {}
        self.events = 0

    def __bool__(self) -> bool:
        return bool(self.trades or self.orders)

    def order_rows(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.orders.values()]

    def add_entry(self, data: bytes) -> None:
        """Add the events of one evt:{SYMBOL} entry (an encoded EventBatch)."""
        batch = epb.EventBatch.FromString(data)
        symbol = batch.symbol
        events = batch.events
        self.events += len(events)
        orders = self.orders
        fill = self._fill
        add_trade = self.trades.append
        for event in events:
            kind = event.WhichOneof("kind")
            if kind == "order_accepted":
                a = event.order_accepted
                ts = event.ts
                orders[(symbol, a.order_id)] = [
                    symbol, a.order_id, a.user_id, a.client_order_id, a.side, a.order_type, a.time_in_force,
                    a.price, a.quantity, a.quote_quantity, ts, NEW, 0, 0, ts, event.seq, a.stop_price,
                    a.trailing_delta, a.iceberg_qty,
                ]  # fmt: skip
            elif kind == "order_done":
                d = event.order_done
                row = orders.get((symbol, d.order_id))
                if row is None:
                    row = orders[(symbol, d.order_id)] = _bare_row(symbol, d.order_id, d.user_id)
                row[CLIENT_ID] = d.client_order_id
                row[STATUS] = d.status
                row[EXECUTED] = d.filled
                row[EXECUTED_QUOTE] = d.filled_quote
                row[UPDATED] = event.ts
                row[SEQ] = event.seq
            elif kind == "order_amended":
                m = event.order_amended
                row = orders.get((symbol, m.order_id))
                if row is None:
                    row = orders[(symbol, m.order_id)] = _bare_row(symbol, m.order_id, m.user_id)
                row[CLIENT_ID] = m.client_order_id
                row[QTY] = m.quantity
                row[STATUS] = PARTIALLY_FILLED if m.filled else NEW
                row[EXECUTED] = m.filled
                row[EXECUTED_QUOTE] = m.filled_quote
                row[UPDATED] = event.ts
                row[SEQ] = event.seq
            elif kind == "trade":
                t = event.trade
                ts, seq = event.ts, event.seq
                maker, taker = t.maker_order_id, t.taker_order_id
                maker_user, taker_user = t.maker_user_id, t.taker_user_id
                add_trade(
                    (symbol, t.trade_id, ts, t.price, t.quantity, t.quote_quantity, t.taker_side, maker,
                     taker, maker_user, taker_user, t.maker_fee, t.taker_fee, seq)
                )  # fmt: skip
                fill(symbol, maker, maker_user, t.maker_filled, t.maker_filled_quote, ts, seq)
                fill(symbol, taker, taker_user, t.taker_filled, t.taker_filled_quote, ts, seq)

    def _fill(
        self, symbol: str, order_id: int, user_id: int, filled: int, quote: int, ts: int, seq: int
    ) -> None:
        """One order's side of a trade: its cumulative fill after it, and its status if known."""
        row = self.orders.get((symbol, order_id))
        if row is None:
            row = self.orders[(symbol, order_id)] = _bare_row(symbol, order_id, user_id)
        qty = row[QTY]
        if qty is not None:
            row[STATUS] = FILLED if qty and filled >= qty else PARTIALLY_FILLED
        row[EXECUTED] = filled
        row[EXECUTED_QUOTE] = quote
        row[UPDATED] = ts
        row[SEQ] = seq


def _bare_row(symbol: str, order_id: int, user_id: int) -> OrderRow:
    """The row of an order accepted in an earlier batch: no static fields, status unknown."""
    return [
        symbol,
        order_id,
        user_id,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        0,
        0,
        0,
        0,
        None,
        None,
        None,
    ]
