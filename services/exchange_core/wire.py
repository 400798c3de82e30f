"""Fast protobuf encoding of engine events, for the engine's hot loop.

Builds exactly the bytes of the messages in protos/exchange_proto/events.proto (Event,
EventBatch, Reply, MarketData) without allocating protobuf objects: field numbers come from the
generated descriptors at import, values from the event objects. Bytes are appended to a
`librt.strings.BytesWriter` (mypyc's native byte buffer: appending a byte is a C store, not a
call), and a batch's events go straight into its EventBatch (`EventBatchWriter`). Compiled by
mypyc with the core. Proto3 rules: zero values and empty strings are not written, fields go in
number order, negative int64 values are ten-byte varints. tests/unit/test_wire.py holds it
byte-equal to the official encoder; decoding uses the official parser.
"""

from typing import Any, Final

from librt.strings import BytesWriter, read_i64_le, write_i16_le, write_i64_le
from mypy_extensions import i16, i64, u8

from exchange_proto import events_pb2 as epb
from matching.events import (
    AmendRejected,
    BookDelta,
    CancelRejected,
    Event,
    ListStatus,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderRejected,
    OrderTriggered,
    Trade,
)

# Each event class's field in events.proto's Event oneof (exchange_core.protocol reads it too).
EVENT_FIELD: Final[dict[type[Event], str]] = {
    OrderAccepted: "order_accepted",
    OrderRejected: "order_rejected",
    CancelRejected: "cancel_rejected",
    Trade: "trade",
    OrderCancelled: "order_cancelled",
    OrderExpired: "order_expired",
    OrderDone: "order_done",
    BookDelta: "book_delta",
    OrderTriggered: "order_triggered",
    OrderAmended: "order_amended",
    AmendRejected: "amend_rejected",
    ListStatus: "list_status",
}


class _Layout:
    """How one event class is written: the key of its field in the Event oneof, and per field
    its key, attribute name and whether it is text."""

    def __init__(self, tag: int, fields: list[tuple[int, str, bool]]) -> None:
        self.tag = tag
        self.fields = fields


def _layouts() -> dict[type, _Layout]:
    event_fields = epb.Event.DESCRIPTOR.fields_by_name
    out: dict[type, _Layout] = {}
    for cls, name in EVENT_FIELD.items():
        field = event_fields[name]
        message = field.message_type
        if message is None:
            raise TypeError(f"Event.{name} is not a message field")
        sub = sorted(message.fields, key=lambda f: f.number)
        out[cls] = _Layout(
            _key(field.number, 2),
            [
                (_key(f.number, 2 if _delimited(f) else 0), f.name, f.type == f.TYPE_STRING)
                for f in sub
                if f.type != f.TYPE_MESSAGE
            ],
        )
    return out


def _delimited(field: Any) -> bool:
    """Whether a field is written length-delimited: text, or a repeated number (packed)."""
    return bool(field.type == field.TYPE_STRING or field.is_repeated)


def _key(number: int, wire_type: int) -> int:
    """A field's key (its number and wire type), written as a varint."""
    return (number << 3) | wire_type


# The largest of mypyc's unboxed ints: comparing with it takes no slow path, and up to it a value
# fits an i64.
_SMALL: Final = (1 << 62) - 1


def _varint(w: BytesWriter, value: int) -> None:
    """`value` as a varint (negative: its ten-byte two's complement)."""
    if 0 <= value <= _SMALL:  # the common case, in native 64-bit arithmetic
        v: i64 = value
        while v >= 0x80:
            w.append(u8((v & 0x7F) | 0x80))
            v >>= 7
        w.append(u8(v))
        return
    if value < 0:
        value += 1 << 64
    while value >= 0x80:
        w.append((value & 0x7F) | 0x80)
        value >>= 7
    w.append(value)


def _size(value: int) -> int:
    """The length of `value`'s varint."""
    if value < 0:
        return 10
    n = 1
    while value >= 0x80:
        value >>= 7
        n += 1
    return n


# Up to it a varint is at most seven bytes: with a one-byte key, one 8-byte store.
_PACKED: Final = 1 << 49


def _put(w: BytesWriter, key: i64, value: int) -> None:
    """A varint field whose key is one byte (field numbers 1-15), unless `value` is zero. Up to
    2**49 - 1 the key and the varint are assembled in a native 64-bit int and stored at once
    (with a value below 128 as two bytes, else as eight, the writer then cut back to the
    varint's end); other values byte by byte (`_varint`)."""
    if value:
        if 0 < value < _PACKED:
            v: i64 = value
            if v < 0x80:
                write_i16_le(w, i16(key | (v << 8)))
                return
            packed: i64 = key | (((v & 0x7F) | 0x80) << 8)
            v >>= 7
            shift: i64 = 16
            while v >= 0x80:
                packed |= ((v & 0x7F) | 0x80) << shift
                v >>= 7
                shift += 8
            packed |= v << shift
            size = len(w)
            write_i64_le(w, packed)
            w.truncate(size + (shift >> 3) + 1)
            return
        w.append(u8(key))
        _varint(w, value)


def _put_key(w: BytesWriter, key: int, value: int) -> None:
    """A varint field of any key, unless `value` is zero."""
    if value:
        _varint(w, key)
        _varint(w, value)


class _LastText:
    """The last string written and its UTF-8 bytes: an order's events carry the same
    client_order_id object (accepted, then done or cancelled), encoded once."""

    def __init__(self) -> None:
        self.text = ""
        self.data = b""


_TEXT: Final = _LastText()


def _put_text(w: BytesWriter, key: i64, text: str) -> None:
    """A string field, unless `text` is empty."""
    if text:
        last = _TEXT
        if text is last.text:
            data = last.data
        else:
            data = text.encode()
            last.text = text
            last.data = data
        size: i64 = len(data)
        if key < 0x80 and size < 0x80:
            write_i16_le(w, i16(key | (size << 8)))
        else:
            _varint(w, key)
            _varint(w, size)
        w.write(data)


def _message(w: BytesWriter, key: int, data: bytes) -> None:
    """A length-delimited field (written even when empty: a message in a repeated field)."""
    _varint(w, key)
    _varint(w, len(data))
    w.write(data)


# Field keys as literals, `_key(number, wire type)` in each comment: mypyc compiles a literal
# Final into the code that reads it, a computed one into a checked read of a global.
_PRICE: Final = 8  # _key(1, 0)
_QUANTITY: Final = 16  # _key(2, 0)
_SEQ: Final = 8  # _key(1, 0)
_TS: Final = 16  # _key(2, 0)
_BIDS: Final = 10  # _key(1, 2)
_ASKS: Final = 18  # _key(2, 2)


def _levels(w: BytesWriter, key: i64, levels: tuple[tuple[int, int], ...]) -> None:
    """Repeated PriceLevel fields under `key` (one byte). A PriceLevel is at most 22 bytes: its
    length is one byte, filled in after its fields."""
    for price, qty in levels:
        at: i64 = len(w) + 1
        write_i16_le(w, i16(key))
        _put(w, _PRICE, price)
        _put(w, _QUANTITY, qty)
        w[at] = u8(len(w) - at - 1)


_LAYOUT: Final = _layouts()

# The keys of the oneof members written by hand (`_open`), checked against the descriptors below.
_TAG_ACCEPTED: Final = 82  # field 10
_TAG_TRADE: Final = 106  # field 13
_TAG_CANCELLED: Final = 114  # field 14
_TAG_DONE: Final = 130  # field 16: two bytes
_TAG_DELTA: Final = 138  # field 17: two bytes


def _body(e: Event) -> bytes:
    """The event's own message (without seq and ts)."""
    w = BytesWriter()
    _write_body(w, e)
    return w.getvalue()


def _write_body(w: BytesWriter, e: Event) -> None:
    """The event's own message: attribute by attribute for the frequent events (their keys and
    field order are checked at import), by name for the rest."""
    if isinstance(e, Trade):
        _trade(w, e)
    elif isinstance(e, OrderAccepted):
        _accepted(w, e)
    elif isinstance(e, OrderDone):
        _done(w, e)
    elif isinstance(e, OrderCancelled):
        _cancelled(w, e)
    elif isinstance(e, BookDelta):
        _delta(w, e)
    else:
        _write_by_name(w, e)


def _trade(w: BytesWriter, e: Trade) -> None:
    _put(w, 8, e.trade_id)
    _put(w, 16, e.price)
    _put(w, 24, e.quantity)
    _put(w, 32, e.quote_quantity)
    _put(w, 40, e.taker_side)
    _put(w, 48, e.maker_order_id)
    _put(w, 56, e.maker_user_id)
    _put(w, 64, e.taker_order_id)
    _put(w, 72, e.taker_user_id)
    _put(w, 80, e.maker_fee)
    _put(w, 88, e.taker_fee)
    _put(w, 96, e.maker_filled)
    _put(w, 104, e.maker_filled_quote)
    _put(w, 112, e.taker_filled)
    _put(w, 120, e.taker_filled_quote)


def _accepted(w: BytesWriter, e: OrderAccepted) -> None:
    _put(w, 8, e.order_id)
    _put(w, 16, e.user_id)
    _put_text(w, 26, e.client_order_id)
    _put(w, 32, e.side)
    _put(w, 40, e.order_type)
    _put(w, 48, e.time_in_force)
    _put(w, 56, e.price)
    _put(w, 64, e.quantity)
    if e.quote_quantity:  # this and fields 11-15 are zero for a plain order: no call for them
        _put(w, 72, e.quote_quantity)
    _put(w, 80, e.reserve)
    if e.stp_mode or e.stop_price or e.trailing_delta or e.iceberg_qty or e.order_list_id:
        _put(w, 88, e.stp_mode)
        _put(w, 96, e.stop_price)
        _put(w, 104, e.trailing_delta)
        _put(w, 112, e.iceberg_qty)
        _put(w, 120, e.order_list_id)


def _done(w: BytesWriter, e: OrderDone) -> None:
    _put(w, 8, e.order_id)
    _put(w, 16, e.user_id)
    _put_text(w, 26, e.client_order_id)
    _put(w, 32, e.side)
    _put(w, 40, e.status)
    _put(w, 48, e.filled)
    _put(w, 56, e.filled_quote)
    _put(w, 64, e.release)


def _cancelled(w: BytesWriter, e: OrderCancelled) -> None:
    _put(w, 8, e.order_id)
    _put(w, 16, e.user_id)
    _put_text(w, 26, e.client_order_id)
    _put(w, 32, e.remaining)


def _delta(w: BytesWriter, e: BookDelta) -> None:
    if e.bids:  # most commands change one side
        _levels(w, _BIDS, e.bids)
    if e.asks:
        _levels(w, _ASKS, e.asks)


class _LastTs:
    """The last ts `_open` wrote and its field's bytes (at most 8) as a little-endian number:
    the events of a command, and the commands of one millisecond, share their ts."""

    def __init__(self) -> None:
        self.ts = 0
        self.data: i64 = 0
        self.size: i64 = 0


_LAST_TS: Final = _LastTs()


def _open(w: BytesWriter, seq: int, ts: int, tag: i64) -> i64:
    """An Event's seq and ts, the key of its oneof member `tag` (82-186: one or two bytes) and
    one byte kept for the member's length; returns where that byte is."""
    _put(w, _SEQ, seq)
    last = _LAST_TS
    at: i64 = len(w)
    if ts == last.ts and last.size:
        write_i64_le(w, last.data)
        w.truncate(at + last.size)
    else:
        _put(w, _TS, ts)
        size = len(w) - at
        data: i64 = 0
        if size <= 8:
            for i in range(size):
                data |= i64(w[at + i]) << (8 * i)
        last.ts = ts
        last.data = data
        last.size = size if size <= 8 else 0
    if tag < 0x80:
        write_i16_le(w, i16(tag))
    else:
        write_i16_le(w, i16((tag & 0x7F) | 0x80 | ((tag >> 7) << 8)))
        w.append(0)
    return len(w) - 1


def _body_by_name(e: Event) -> bytes:
    w = BytesWriter()
    _write_by_name(w, e)
    return w.getvalue()


def _write_by_name(w: BytesWriter, e: Event) -> None:
    for key, name, text in _LAYOUT[type(e)].fields:
        value = getattr(e, name)
        if text:
            _put_text(w, key, value)
        elif isinstance(value, tuple):  # a repeated number, packed
            if value:
                size = 0
                for number in value:
                    size += _size(number)
                _varint(w, key)
                _varint(w, size)
                for number in value:
                    _varint(w, number)
        else:
            _put_key(w, key, value)


def _check_field_order() -> None:
    """`_write_body` must write fields exactly as the generated descriptors number them, and
    `_open` the oneof keys they give."""
    samples: list[Event] = [
        Trade(*range(1, 18)),
        OrderAccepted(1, 2, 3, 4, "c", 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
        OrderDone(1, 2, 3, 4, "c", 6, 7, 8, 9, 10),
        OrderCancelled(1, 2, 3, 4, "c", 6),
    ]
    for sample in samples:
        if _body(sample) != _body_by_name(sample):
            raise RuntimeError(f"wire._body writes {type(sample).__name__}'s fields out of order")
    tags = {
        OrderAccepted: _TAG_ACCEPTED,
        Trade: _TAG_TRADE,
        OrderCancelled: _TAG_CANCELLED,
        OrderDone: _TAG_DONE,
        BookDelta: _TAG_DELTA,
    }
    for cls, tag in tags.items():
        if _LAYOUT[cls].tag != tag:
            raise RuntimeError(
                f"wire writes {cls.__name__} under key {tag}, events.proto says {_LAYOUT[cls].tag}"
            )


_check_field_order()


def _write_event(w: BytesWriter, event: Event, body: bytes) -> None:
    """The `Event` message of `event`, whose own message is `body`."""
    _put_key(w, _SEQ, event.seq)
    _put_key(w, _TS, event.ts)
    _message(w, _LAYOUT[type(event)].tag, body)


def _event_size(event: Event, body: bytes) -> int:
    """The length of `_write_event`'s bytes."""
    seq, ts, tag = event.seq, event.ts, _LAYOUT[type(event)].tag
    return (
        (_size(_SEQ) + _size(seq) if seq else 0)
        + (_size(_TS) + _size(ts) if ts else 0)
        + _size(tag)
        + _size(len(body))
        + len(body)
    )


def encode_event(event: Event) -> bytes:
    """The bytes of one `Event` message."""
    w = BytesWriter()
    _write_event(w, event, _body(event))
    return w.getvalue()


# Field keys as literals, as above.
_K1: Final = 10  # _key(1, 2)
_K2: Final = 18  # _key(2, 2)
_K3: Final = 26  # _key(3, 2)
_K5: Final = 42  # _key(5, 2)
_V2: Final = 16  # _key(2, 0)
_V3: Final = 24  # _key(3, 0)
_V4: Final = 32  # _key(4, 0)
_V6: Final = 48  # _key(6, 0)
_MD_TRADES: Final = 42  # _key(5, 2)
_MD_BIDS: Final = 50  # _key(6, 2)
_MD_ASKS: Final = 58  # _key(7, 2)


def encode_command_ref(
    command_id: str,
    reply_to: str,
    correlation_id: str,
    first_seq: int,
    last_seq: int,
    trace_context: dict[str, str] | None = None,
) -> bytes:
    """A `CommandRef` message (`trace_context`: its W3C trace context map, entries by key)."""
    w = BytesWriter()
    _put_text(w, _K1, command_id)
    _put_text(w, _K2, reply_to)
    _put_text(w, _K3, correlation_id)
    _put(w, _V4, last_seq)
    if trace_context:
        for name in sorted(trace_context):
            entry = BytesWriter()
            _message(entry, _K1, name.encode())
            _message(entry, _K2, trace_context[name].encode())
            _message(w, _K5, entry.getvalue())
    _put(w, _V6, first_seq)
    return w.getvalue()


class EventBatchWriter:
    """An `EventBatch` written as its events come: the symbol, then each event (`add`), then
    the command id and CommandRefs (`finish`). Keeps where each Trade's Event message lies, for
    the market-data message (`trades`)."""

    def __init__(self, symbol: str) -> None:
        self.w = BytesWriter()
        self.bounds = BytesWriter()  # each Trade's start and end, as 8-byte numbers
        self.events = 0
        _put_text(self.w, _K1, symbol)

    def add(self, event: Event) -> None:
        w = self.w
        # Most events and their bodies are shorter than 128 bytes: one byte is kept for each
        # length and filled in after; a longer event is written again with its lengths first.
        outer: i64 = len(w) + 1
        write_i16_le(w, i16(_K2))
        if isinstance(event, Trade):
            inner = _open(w, event.seq, event.ts, _TAG_TRADE)
            _trade(w, event)
        elif isinstance(event, OrderAccepted):
            inner = _open(w, event.seq, event.ts, _TAG_ACCEPTED)
            _accepted(w, event)
        elif isinstance(event, BookDelta):
            inner = _open(w, event.seq, event.ts, _TAG_DELTA)
            _delta(w, event)
        elif isinstance(event, OrderDone):
            inner = _open(w, event.seq, event.ts, _TAG_DONE)
            _done(w, event)
        elif isinstance(event, OrderCancelled):
            inner = _open(w, event.seq, event.ts, _TAG_CANCELLED)
            _cancelled(w, event)
        else:
            inner = _open(w, event.seq, event.ts, _LAYOUT[type(event)].tag)
            _write_by_name(w, event)
        start: i64 = outer + 1
        end: i64 = len(w)
        size = end - start
        if size < 0x80:
            w[inner] = u8(end - inner - 1)
            w[outer] = u8(size)
        else:
            w.truncate(outer - 1)
            body = _body(event)
            _varint(w, _K2)
            _varint(w, _event_size(event, body))
            start = len(w)
            _write_event(w, event, body)
            end = len(w)
        self.events += 1
        if isinstance(event, Trade):
            write_i64_le(self.bounds, start)
            write_i64_le(self.bounds, end)

    def finish(self, command_id: str, refs: list[bytes]) -> bytes:
        """The batch's bytes (as `encode_batch` of the same events and refs)."""
        w = self.w
        _put_text(w, _K3, command_id)
        for ref in refs:
            _message(w, _K5, ref)
        return w.getvalue()

    def trades(self, entry: bytes) -> list[bytes]:
        """The Trade events' `Event` messages, from `entry` (what `finish` returned)."""
        bounds = self.bounds.getvalue()
        out: list[bytes] = []
        for at in range(0, len(bounds), 16):
            out.append(entry[read_i64_le(bounds, at) : read_i64_le(bounds, at + 8)])
        return out


def encode_batch(symbol: str, events: list[bytes], command_id: str, refs: list[bytes] | None = None) -> bytes:
    """An `EventBatch` of already encoded events (and encoded CommandRefs)."""
    w = BytesWriter()
    _put_text(w, _K1, symbol)
    for data in events:
        _message(w, _K2, data)
    _put_text(w, _K3, command_id)
    if refs:
        for ref in refs:
            _message(w, _K5, ref)
    return w.getvalue()


def encode_reply(correlation_id: str, batch: bytes) -> bytes:
    w = BytesWriter()
    _put_text(w, _K1, correlation_id)
    _message(w, _K2, batch)
    return w.getvalue()


def encode_market_data(
    symbol: str,
    first_seq: int,
    last_seq: int,
    ts: int,
    trades: list[bytes],
    bids: tuple[tuple[int, int], ...],
    asks: tuple[tuple[int, int], ...],
) -> bytes:
    """A `MarketData` message; `trades` are encoded Trade events."""
    w = BytesWriter()
    _put_text(w, _K1, symbol)
    _put(w, _V2, first_seq)
    _put(w, _V3, last_seq)
    _put(w, _V4, ts)
    for data in trades:
        _message(w, _MD_TRADES, data)
    _levels(w, _MD_BIDS, bids)
    _levels(w, _MD_ASKS, asks)
    return w.getvalue()
