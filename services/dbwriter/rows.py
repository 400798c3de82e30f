"""From engine events to history rows: pure, no I/O. The writer's hot path (measured by
bench/db_bench.py), compiled by mypyc: events read from an entry's bytes (dbwriter.scan) become
rows of PostgreSQL's binary COPY format (dbwriter.copyformat) at once, without tuples of Python
values in between, and the writer sends those payloads as they are.

A `HistoryRows` collects the rows of any number of evt:{SYMBOL} entries, fed in stream order:
one trade row per Trade event (columns `TRADE_COLUMNS`), and per order one row holding its state
after the last event seen for it, seq included (columns `ORDER_COLUMNS`), so that a batch writes
each order once.

Static order fields (client id, side, type, price, ...) are only in OrderAccepted. An order
accepted in an earlier batch gets a row without them (NULL, `created_at` included): the writer
then updates the cumulative fields of the row that batch wrote, and derives PARTIALLY_FILLED /
FILLED of a fill from the stored quantity. So the writer keeps no per-order memory between
batches and a restart needs no reload. Rejected orders were never accepted and get no row (as on
Binance); cancels and expiries end with the order's OrderDone. An amendment (OrderAmended) sets
the quantity and client id of the row, which the writer then stores too.

A value outside its column's range (a smallint status, a bigint id of 2**63 or more) raises
struct.error when its row is made: PostgreSQL could not store it either.
"""

from struct import Struct
from typing import Final

from dbwriter.copyformat import HEADER, NULL, PG_EPOCH_MS, TRAILER
from dbwriter.scan import ACCEPTED, AMENDED, DONE, Scanned, parse_batch, scan_batch
from exchange_core.protowire import Irregular
from matching import OrderStatus

NEW: Final = int(OrderStatus.NEW)
PARTIALLY_FILLED: Final = int(OrderStatus.PARTIALLY_FILLED)
FILLED: Final = int(OrderStatus.FILLED)

# The columns of `trades` and `orders`, in the order of the rows' fields, and their SQL types
# (also those of the writer's staging tables).
TRADE_COLUMNS: dict[str, str] = {
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
    "symbol": "text",
}
ORDER_COLUMNS: dict[str, str] = {
    "order_id": "bigint",
    "user_id": "bigint",
    "side": "smallint",
    "type": "smallint",
    "time_in_force": "smallint",
    "price": "bigint",
    "qty": "bigint",
    "quote_qty": "bigint",
    "created_at": "timestamptz",  # NULL: an order accepted in an earlier batch
    "status": "smallint",  # NULL: a fill of an order accepted earlier (derived when written)
    "executed_qty": "bigint",
    "cumulative_quote_qty": "bigint",
    "updated_at": "timestamptz",
    "seq": "bigint",
    "stop_price": "bigint",  # 0: not a stop order
    "trailing_delta": "integer",  # basis points; 0: not trailing
    "iceberg_qty": "bigint",  # 0: not an iceberg order
    "symbol": "text",
    "client_order_id": "text",
}

_INT16: Final = Struct(">h")
_INT32: Final = Struct(">i")
_INT64: Final = Struct(">q")
_I16: Final = "ih"  # a smallint field: its length, its value
_I32: Final = "ii"
_I64: Final = "iq"


class OrderRow:
    """An order's row while a batch is collected (with its market's symbol and row format).
    `accepted`: its static fields are known (the
    batch holds its OrderAccepted); else they are NULL, and so are `qty` until an amendment sets
    it (`has_qty`) and `status` until an event sets it (`has_status`)."""

    def __init__(self, market: "_Market", order_id: int, user_id: int, accepted: bool) -> None:
        self.symbol, self.format = market.symbol, market.order  # not the market: no cycle
        self.order_id = order_id
        self.user_id = user_id
        self.accepted = accepted
        self.client_id: bytes | None = None
        self.side = self.type = self.time_in_force = 0
        self.price = self.qty = self.quote_qty = self.created = 0
        self.has_qty = self.has_status = accepted
        self.status = NEW
        self.executed = self.executed_quote = self.updated = self.seq = 0
        self.stop_price = self.trailing_delta = self.iceberg_qty = 0


class _Market:
    """A symbol's orders of the batch, and the row formats of its trades and new orders."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol.encode()
        size = len(self.symbol)
        self.trade = Struct(f">h{_I64 * 5}{_I16}{_I64 * 7}i{size}s")
        self.order = Struct(f">h{_I64 * 2}{_I16 * 3}{_I64 * 4}{_I16}{_I64 * 5}{_I32}{_I64}i{size}si")
        self.orders: dict[int, OrderRow] = {}


class HistoryRows:
    """The trades and order states of a run of event entries (any symbols)."""

    def __init__(self) -> None:
        self.events = 0
        self.trade_count = 0
        self._trades: list[bytes] = []
        self._markets: dict[str, _Market] = {}
        self._scanned: list[Scanned] = []
        # The payloads, once made (`seal`); made again after more entries are added.
        self._sealed: tuple[bytes, bytes, int, bytes, int] | None = None
        # While `seal` makes them part by part: the order rows, how many are packed, the packed.
        self._pending: list[OrderRow] | None = None
        self._packed = self._new_count = self._known_count = 0
        self._new: list[bytes] = []
        self._known: list[bytes] = []

    def __bool__(self) -> bool:
        return self.trade_count > 0 or any(m.orders for m in self._markets.values())

    def add_entry(self, data: bytes) -> None:
        """Add the events of one evt:{SYMBOL} entry (an encoded EventBatch)."""
        try:
            symbol, count, read = scan_batch(data, self._scanned)
        except (Irregular, UnicodeDecodeError, IndexError):
            symbol, count, read = parse_batch(data, self._scanned)
        self._add(symbol, count, read)

    def add_parsed(self, data: bytes) -> None:
        """add_entry by the official parser (what the wire reading leaves to it decides here)."""
        symbol, count, read = parse_batch(data, self._scanned)
        self._add(symbol, count, read)

    def _add(self, symbol: str, count: int, read: int) -> None:
        self._sealed = self._pending = None
        self.events += count
        market = self._markets.get(symbol)
        if market is None:
            market = self._markets[symbol] = _Market(symbol)
        orders, name, pack = market.orders, market.symbol, market.trade.pack
        size = len(name)
        scanned = self._scanned
        for i in range(read):
            event = scanned[i]
            kind, seq = event.kind, event.seq
            ts = (event.ts - PG_EPOCH_MS) * 1000
            if kind == ACCEPTED:
                row = orders[event.v1] = OrderRow(market, event.v1, event.v2, True)
                row.client_id = event.text
                row.side, row.type, row.time_in_force = event.v4, event.v5, event.v6
                row.price, row.qty, row.quote_qty = event.v7, event.v8, event.v9
                row.created = row.updated = ts
                row.seq = seq
                row.stop_price, row.trailing_delta, row.iceberg_qty = event.v12, event.v13, event.v14
            elif kind == DONE:
                row = _row(market, event.v1, event.v2)
                row.client_id = event.text
                row.status, row.has_status = event.v5, True
                row.executed, row.executed_quote = event.v6, event.v7
                row.updated, row.seq = ts, seq
            elif kind == AMENDED:
                row = _row(market, event.v1, event.v2)
                row.client_id = event.text
                row.qty, row.has_qty = event.v6, True
                row.status, row.has_status = (PARTIALLY_FILLED if event.v9 else NEW), True
                row.executed, row.executed_quote = event.v9, event.v10
                row.updated, row.seq = ts, seq
            else:
                self._trades.append(
                    pack(14, 8, event.v1, 8, ts, 8, event.v2, 8, event.v3, 8, event.v4, 2, event.v5,
                         8, event.v6, 8, event.v8, 8, event.v7, 8, event.v9, 8, event.v10, 8, event.v11,
                         8, seq, size, name)
                )  # fmt: skip
                self.trade_count += 1
                _fill(_row(market, event.v6, event.v7), event.v12, event.v13, ts, seq)
                _fill(_row(market, event.v8, event.v9), event.v14, event.v15, ts, seq)

    def seal(self, rows: int = 0) -> bool:
        """Make the payloads: at once (`rows` 0), or at most `rows` order rows a call, so that the
        writer's loop goes on between calls (it makes them while the previous round is written).
        True once made."""
        if self._sealed is not None:
            return True
        if self._pending is None:
            self._pending = [row for market in self._markets.values() for row in market.orders.values()]
            self._packed = self._new_count = self._known_count = 0
            self._new, self._known = [HEADER], [HEADER]
        pending, new, known = self._pending, self._new, self._known
        end = len(pending) if rows <= 0 else min(len(pending), self._packed + rows)
        for i in range(self._packed, end):
            row = pending[i]
            name = row.symbol
            if row.accepted:
                client_id = row.client_id or b""
                new.append(
                    row.format.pack(
                        19, 8, row.order_id, 8, row.user_id, 2, row.side, 2, row.type, 2, row.time_in_force,
                        8, row.price, 8, row.qty, 8, row.quote_qty, 8, row.created, 2, row.status,
                        8, row.executed, 8, row.executed_quote, 8, row.updated, 8, row.seq, 8, row.stop_price,
                        4, row.trailing_delta, 8, row.iceberg_qty, len(name), name, len(client_id),
                    )
                )  # fmt: skip
                new.append(client_id)
                self._new_count += 1
            else:
                known.append(_known_row(row, name))
                self._known_count += 1
        self._packed = end
        if end < len(pending):
            return False
        new.append(TRAILER)
        known.append(TRAILER)
        trades = HEADER + b"".join(self._trades) + TRAILER
        self._sealed = (trades, b"".join(new), self._new_count, b"".join(known), self._known_count)
        self._pending, self._new, self._known = None, [], []
        return True

    def trades_payload(self) -> bytes:
        """The trade rows (`trade_count` of them), as a binary COPY payload."""
        self.seal()
        assert self._sealed is not None
        return self._sealed[0]

    def orders_payloads(self) -> tuple[bytes, int, bytes, int]:
        """The rows of the orders accepted in these entries, and of the others, as binary COPY
        payloads, each with its number of rows."""
        self.seal()
        assert self._sealed is not None
        _, new, new_count, known, known_count = self._sealed
        return new, new_count, known, known_count


def _row(market: _Market, order_id: int, user_id: int) -> OrderRow:
    """The order's row, a new one without static fields if the entries did not accept it."""
    row = market.orders.get(order_id)
    if row is None:
        row = market.orders[order_id] = OrderRow(market, order_id, user_id, False)
    return row


def _fill(row: OrderRow, filled: int, quote: int, ts: int, seq: int) -> None:
    """One order's side of a trade: its cumulative fill after it, and its status if known."""
    if row.has_qty:
        row.status = FILLED if row.qty and filled >= row.qty else PARTIALLY_FILLED
        row.has_status = True
    row.executed, row.executed_quote = filled, quote
    row.updated, row.seq = ts, seq


def _known_row(row: OrderRow, symbol: bytes) -> bytes:
    """The row of an order accepted earlier: NULL where its static fields would be."""
    nulls = NULL * 3 + NULL + (_int64(row.qty) if row.has_qty else NULL) + NULL * 2
    client_id = NULL if row.client_id is None else _INT32.pack(len(row.client_id)) + row.client_id
    return b"".join(
        [
            _INT16.pack(19),
            _int64(row.order_id),
            _int64(row.user_id),
            nulls,
            _INT32.pack(2) + _INT16.pack(row.status) if row.has_status else NULL,
            _int64(row.executed),
            _int64(row.executed_quote),
            _int64(row.updated),
            _int64(row.seq),
            NULL * 3,
            _INT32.pack(len(symbol)) + symbol,
            client_id,
        ]
    )


def _int64(value: int) -> bytes:
    return b"\x00\x00\x00\x08" + _INT64.pack(value)
