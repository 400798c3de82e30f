"""From engine events to history rows: pure, no I/O. The writer's hot path (measured by
bench/db_bench.py), compiled by mypyc: an entry's bytes are read straight into plain tuples and
lists (exchange_core.protowire), without building protobuf objects; a form that reading leaves
to the official parser (exchange_core.protowire.Irregular) is read by it, with the same result
(tests/unit/test_dbwriter_rows_wire.py holds the two equal).

A `HistoryRows` collects the rows of any number of evt:{SYMBOL} entries, fed in stream order:
one trade row per Trade event (columns `TRADE_COLUMNS`), and per order one row holding its state
after the last event seen for it, seq included (columns `ORDER_COLUMNS`), so that a batch writes
each order once.

Static order fields (client id, side, type, price, ...) are only in OrderAccepted. An order
accepted in an earlier batch gets a row without them (None, `created_at` None included): the
writer then updates the cumulative fields of the row that batch wrote, and derives
PARTIALLY_FILLED/FILLED of a fill from the stored quantity. So the writer keeps no per-order
memory between batches and a restart needs no reload. Rejected orders were never accepted and
get no row (as on Binance); cancels and expiries end with the order's OrderDone. An amendment
(OrderAmended) sets the quantity and client id of the row, which the writer then stores too.
"""

from datetime import UTC, datetime, timedelta
from typing import Any, Final

from exchange_core.protowire import (
    LENGTH,
    VARINT,
    Irregular,
    as_enum,
    as_int64,
    read_key,
    read_text,
    read_varint,
    skip_field,
)
from exchange_proto import events_pb2 as epb
from matching import OrderStatus

NEW = int(OrderStatus.NEW)
PARTIALLY_FILLED = int(OrderStatus.PARTIALLY_FILLED)
FILLED = int(OrderStatus.FILLED)

# The columns of `trades` and `orders` the rows hold, and their SQL types (also those of the
# writer's staging tables). Times are datetimes, each made once per HistoryRows.
TRADE_COLUMNS: dict[str, str] = {
    "symbol": "text",
    "id": "bigint",
    "time": "timestamptz",
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
    "created_at": "timestamptz",
    "status": "smallint",  # None: a fill of an order accepted earlier (derived when written)
    "executed_qty": "bigint",
    "cumulative_quote_qty": "bigint",
    "updated_at": "timestamptz",
    "seq": "bigint",
    "stop_price": "bigint",  # 0: not a stop order
    "trailing_delta": "integer",  # basis points; 0: not trailing
    "iceberg_qty": "bigint",  # 0: not an iceberg order
}
# Positions in an order row.
CLIENT_ID, QTY, CREATED, STATUS, EXECUTED, EXECUTED_QUOTE, UPDATED, SEQ = 3, 8, 10, 11, 12, 13, 14, 15

# The Event oneof members the writer reads (field numbers of Event.kind), and how each field of
# their messages is read, by field number: U uint64, S int64, E enum, T the client order id
# (string), X not read. Checked against events.proto at import (_check_layouts).
ACCEPTED: Final = 10
TRADE: Final = 13
DONE: Final = 16
AMENDED: Final = 21
_U: Final = 0
_S: Final = 1
_E: Final = 2
_T: Final = 3
_X: Final = 4
_LAYOUTS: Final[dict[int, list[int]]] = {
    ACCEPTED: [_X, _U, _U, _T, _E, _E, _E, _S, _S, _S, _S, _E, _S, _S, _S],
    TRADE: [_X, _U, _S, _S, _S, _E, _U, _U, _U, _U, _S, _S, _S, _S, _S, _S],
    DONE: [_X, _U, _U, _T, _E, _E, _S, _S],
    AMENDED: [_X, _U, _U, _T, _X, _E, _S, _S, _S, _S, _S],
}
# Every member of Event's oneof (the kinds the writer does not read are skipped).
_ONEOF: Final = frozenset({10, 11, 12, 13, 14, 15, 16, 17, 20, 21, 22, 23})


class Scanned:
    """One event the writer reads: its oneof member, seq, ts, its message's fields by number
    (as `_LAYOUTS` reads them) and its client order id."""

    def __init__(self, kind: int, seq: int, ts: int, values: list[int], text: str) -> None:
        self.kind = kind
        self.seq = seq
        self.ts = ts
        self.values = values
        self.text = text


def _scan_message(data: bytes, pos: int, end: int, layout: list[int]) -> tuple[list[int], str]:
    values = [0] * len(layout)
    text = ""
    while pos < end:
        number, wire_type, pos = read_key(data, pos)
        how = layout[number] if number < len(layout) else _X
        if how == _X:
            pos = skip_field(data, pos, wire_type)
        elif how == _T:
            if wire_type != LENGTH:
                raise Irregular
            text, pos = read_text(data, pos, end)
        else:
            if wire_type != VARINT:
                raise Irregular
            value, pos = read_varint(data, pos)
            values[number] = value if how == _U else as_int64(value) if how == _S else as_enum(value)
    if pos != end:
        raise Irregular
    return values, text


def _scan_event(data: bytes, pos: int, end: int) -> Scanned | None:
    """The event at data[pos:end] if the writer reads its kind, else None."""
    seq = ts = kind = start = stop = 0
    while pos < end:
        number, wire_type, pos = read_key(data, pos)
        if number == 1 or number == 2:
            if wire_type != VARINT:
                raise Irregular
            value, pos = read_varint(data, pos)
            if number == 1:
                seq = value
            else:
                ts = as_int64(value)
        elif number in _ONEOF:
            if wire_type != LENGTH or kind:  # a second member: the parser's merge rules decide
                raise Irregular
            size, start = read_varint(data, pos)
            kind, stop = number, start + size
            if stop > end:
                raise Irregular
            pos = stop
        else:
            pos = skip_field(data, pos, wire_type)
    if pos != end:
        raise Irregular
    layout = _LAYOUTS.get(kind)
    if layout is None:
        return None
    values, text = _scan_message(data, start, stop, layout)
    return Scanned(kind, seq, ts, values, text)


def scan_batch(data: bytes) -> tuple[str, int, list[Scanned]]:
    """(symbol, number of events, the events the writer reads) of an encoded EventBatch.
    Raises Irregular (or UnicodeDecodeError) for what it leaves to the official parser."""
    symbol = ""
    count = 0
    events: list[Scanned] = []
    pos, end = 0, len(data)
    while pos < end:
        number, wire_type, pos = read_key(data, pos)
        if number == 1:
            if wire_type != LENGTH:
                raise Irregular
            symbol, pos = read_text(data, pos, end)
        elif number == 2:
            if wire_type != LENGTH:
                raise Irregular
            size, pos = read_varint(data, pos)
            stop = pos + size
            if stop > end:
                raise Irregular
            count += 1
            event = _scan_event(data, pos, stop)
            if event is not None:
                events.append(event)
            pos = stop
        else:
            pos = skip_field(data, pos, wire_type)
    if pos != end:
        raise Irregular
    return symbol, count, events


TradeRow = tuple[str, int, datetime, int, int, int, int, int, int, int, int, int, int, int]
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
OrderRow = list[Any]  # ORDER_COLUMNS, mutable while the batch is collected


class HistoryRows:
    """The trades and order states of a run of event entries (any symbols)."""

    def __init__(self) -> None:
        self.trades: list[TradeRow] = []
        self.orders: dict[tuple[str, int], OrderRow] = {}
        self.events = 0
        self.times: dict[int, datetime] = {}  # ms since the epoch -> its datetime

    def at(self, ms: int) -> datetime:
        """The datetime of `ms` since the epoch (a batch's events share few times)."""
        when = self.times.get(ms)
        if when is None:
            when = self.times[ms] = EPOCH + timedelta(milliseconds=ms)
        return when

    def __bool__(self) -> bool:
        return bool(self.trades or self.orders)

    def order_rows(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.orders.values()]

    def add_entry(self, data: bytes) -> None:
        """Add the events of one evt:{SYMBOL} entry (an encoded EventBatch)."""
        try:
            symbol, count, events = scan_batch(data)
        except (Irregular, UnicodeDecodeError, IndexError):
            self.add_parsed(data)
            return
        self.events += count
        orders = self.orders
        fill = self._fill
        add_trade = self.trades.append
        last_ms, ts = -1, EPOCH
        for event in events:
            if event.ts != last_ms:  # an engine batch's events share their time
                last_ms, ts = event.ts, self.at(event.ts)
            kind, v, seq = event.kind, event.values, event.seq
            if kind == ACCEPTED:
                orders[(symbol, v[1])] = [
                    symbol, v[1], v[2], event.text, v[4], v[5], v[6], v[7], v[8], v[9], ts, NEW, 0, 0, ts,
                    seq, v[12], v[13], v[14],
                ]  # fmt: skip
            elif kind == DONE:
                row = orders.get((symbol, v[1]))
                if row is None:
                    row = orders[(symbol, v[1])] = _bare_row(symbol, v[1], v[2])
                row[CLIENT_ID] = event.text
                row[STATUS] = v[5]
                row[EXECUTED] = v[6]
                row[EXECUTED_QUOTE] = v[7]
                row[UPDATED] = ts
                row[SEQ] = seq
            elif kind == AMENDED:
                row = orders.get((symbol, v[1]))
                if row is None:
                    row = orders[(symbol, v[1])] = _bare_row(symbol, v[1], v[2])
                row[CLIENT_ID] = event.text
                row[QTY] = v[6]
                row[STATUS] = PARTIALLY_FILLED if v[9] else NEW
                row[EXECUTED] = v[9]
                row[EXECUTED_QUOTE] = v[10]
                row[UPDATED] = ts
                row[SEQ] = seq
            else:
                add_trade(
                    (symbol, v[1], ts, v[2], v[3], v[4], v[5], v[6], v[8], v[7], v[9], v[10], v[11], seq)
                )
                fill(symbol, v[6], v[7], v[12], v[13], ts, seq)
                fill(symbol, v[8], v[9], v[14], v[15], ts, seq)

    def add_parsed(self, data: bytes) -> None:
        """add_entry by the official parser (what the wire reading leaves to it decides here)."""
        batch = epb.EventBatch.FromString(data)
        symbol = batch.symbol
        events = batch.events
        self.events += len(events)
        orders = self.orders
        fill = self._fill
        add_trade = self.trades.append
        at = self.at
        for event in events:
            kind = event.WhichOneof("kind")
            if kind == "order_accepted":
                a = event.order_accepted
                ts = at(event.ts)
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
                row[UPDATED] = at(event.ts)
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
                row[UPDATED] = at(event.ts)
                row[SEQ] = event.seq
            elif kind == "trade":
                t = event.trade
                ts, seq = at(event.ts), event.seq
                maker, taker = t.maker_order_id, t.taker_order_id
                maker_user, taker_user = t.maker_user_id, t.taker_user_id
                add_trade(
                    (symbol, t.trade_id, ts, t.price, t.quantity, t.quote_quantity, t.taker_side, maker,
                     taker, maker_user, taker_user, t.maker_fee, t.taker_fee, seq)
                )  # fmt: skip
                fill(symbol, maker, maker_user, t.maker_filled, t.maker_filled_quote, ts, seq)
                fill(symbol, taker, taker_user, t.taker_filled, t.taker_filled_quote, ts, seq)

    def _fill(
        self, symbol: str, order_id: int, user_id: int, filled: int, quote: int, ts: datetime, seq: int
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


def _check_layouts() -> None:
    """The field numbers and types `_LAYOUTS` reads must be those of events.proto's messages."""
    kinds = {4: _U, 3: _S, 14: _E, 9: _T}  # FieldDescriptor.TYPE_* (uint64, int64, enum, string)
    event = epb.DESCRIPTOR.message_types_by_name["Event"]
    oneof = {f.number for f in event.oneofs_by_name["kind"].fields}
    if oneof != set(_ONEOF):
        raise RuntimeError(f"dbwriter.rows skips Event kinds {sorted(_ONEOF)}, events.proto: {sorted(oneof)}")
    for number, layout in _LAYOUTS.items():
        message = event.fields_by_number[number].message_type
        assert message is not None
        fields = {f.number: f for f in message.fields}
        for field_number, how in enumerate(layout):
            if how == _X:
                continue
            field = fields.get(field_number)
            if (
                field is None
                or kinds.get(field.type) != how
                or (how == _T) != (field.name == "client_order_id")
            ):
                raise RuntimeError(f"dbwriter.rows reads field {field_number} of {message.name} wrongly")


_check_layouts()
