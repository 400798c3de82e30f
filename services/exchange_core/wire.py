"""Fast protobuf encoding of engine events, for the engine's hot loop.

Builds exactly the bytes of the messages in protos/exchange_proto/events.proto (Event,
EventBatch, Reply, MarketData) without allocating protobuf objects: field numbers come from the
generated descriptors at import, values from the event objects. Compiled by mypyc with the core.
Proto3 rules: zero values and empty strings are not written, fields go in number order, negative
int64 values are ten-byte varints. tests/unit/test_wire.py holds it byte-equal to the official
encoder; decoding uses the official parser.
"""

from typing import Any, Final

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
    its key (`_key_int`), attribute name and whether it is text."""

    def __init__(self, tag: int, fields: list[tuple[int, str, bool]]) -> None:
        self.tag = tag
        self.fields = fields
        self.keys = [key for key, _, _ in fields]


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
            _key_int(field.number, 2),
            [
                (_key_int(f.number, 2 if _delimited(f) else 0), f.name, f.type == f.TYPE_STRING)
                for f in sub
                if f.type != f.TYPE_MESSAGE
            ],
        )
    return out


def _delimited(field: Any) -> bool:
    """Whether a field is written length-delimited: text, or a repeated number (packed)."""
    return bool(field.type == field.TYPE_STRING or field.is_repeated)


def _key_int(number: int, wire_type: int) -> int:
    """A field's key as the little-endian integer of its varint bytes (one or two bytes: field
    numbers below 2048), the form `_field` takes."""
    key = (number << 3) | wire_type
    if key >= 1 << 14:
        raise ValueError(f"field number {number} needs a key of more than two bytes")
    return key if key < 0x80 else (key & 0x7F) | 0x80 | (key >> 7) << 8


def _field(key: int, value: int) -> bytes:
    """A varint field: `key` (from `_key_int`) then `value` (negative: its ten-byte two's
    complement). One integer is packed and converted once, instead of a call per byte."""
    if value < 0:
        value += 1 << 64
    shift = 8 if key < 0x100 else 16
    packed = key
    while value >= 0x80:
        packed |= ((value & 0x7F) | 0x80) << shift
        value >>= 7
        shift += 8
    packed |= value << shift
    return packed.to_bytes(shift // 8 + 1, "little")


_PRICE: Final = _key_int(1, 0)
_QUANTITY: Final = _key_int(2, 0)
_SEQ: Final = _key_int(1, 0)
_TS: Final = _key_int(2, 0)
_BIDS: Final = _key_int(1, 2)
_ASKS: Final = _key_int(2, 2)


def _level_bytes(key: int, levels: tuple[tuple[int, int], ...]) -> bytes:
    """Repeated PriceLevel fields under `key`."""
    parts: list[bytes] = []
    for price, qty in levels:
        body = (_field(_PRICE, price) if price else b"") + (_field(_QUANTITY, qty) if qty else b"")
        parts.append(_field(key, len(body)))
        parts.append(body)
    return b"".join(parts)


_LAYOUT: Final = _layouts()


def _put(parts: list[bytes], key: int, value: int) -> None:
    if value:
        parts.append(_field(key, value))


def _put_text(parts: list[bytes], key: int, text: str) -> None:
    if text:
        data = text.encode()
        parts.append(_field(key, len(data)))
        parts.append(data)


_TRADE: Final = _LAYOUT[Trade].keys
_ACCEPTED: Final = _LAYOUT[OrderAccepted].keys
_DONE: Final = _LAYOUT[OrderDone].keys
_CANCELLED: Final = _LAYOUT[OrderCancelled].keys


def _body(e: Event) -> bytes:
    """The event's own message (without seq and ts): attribute by attribute for the frequent
    events (their field order is checked at import), by name for the rest."""
    parts: list[bytes] = []
    if isinstance(e, Trade):
        k = _TRADE
        _put(parts, k[0], e.trade_id)
        _put(parts, k[1], e.price)
        _put(parts, k[2], e.quantity)
        _put(parts, k[3], e.quote_quantity)
        _put(parts, k[4], e.taker_side)
        _put(parts, k[5], e.maker_order_id)
        _put(parts, k[6], e.maker_user_id)
        _put(parts, k[7], e.taker_order_id)
        _put(parts, k[8], e.taker_user_id)
        _put(parts, k[9], e.maker_fee)
        _put(parts, k[10], e.taker_fee)
        _put(parts, k[11], e.maker_filled)
        _put(parts, k[12], e.maker_filled_quote)
        _put(parts, k[13], e.taker_filled)
        _put(parts, k[14], e.taker_filled_quote)
    elif isinstance(e, OrderAccepted):
        k = _ACCEPTED
        _put(parts, k[0], e.order_id)
        _put(parts, k[1], e.user_id)
        _put_text(parts, k[2], e.client_order_id)
        _put(parts, k[3], e.side)
        _put(parts, k[4], e.order_type)
        _put(parts, k[5], e.time_in_force)
        _put(parts, k[6], e.price)
        _put(parts, k[7], e.quantity)
        _put(parts, k[8], e.quote_quantity)
        _put(parts, k[9], e.reserve)
        _put(parts, k[10], e.stp_mode)
        _put(parts, k[11], e.stop_price)
        _put(parts, k[12], e.trailing_delta)
        _put(parts, k[13], e.iceberg_qty)
        _put(parts, k[14], e.order_list_id)
    elif isinstance(e, OrderDone):
        k = _DONE
        _put(parts, k[0], e.order_id)
        _put(parts, k[1], e.user_id)
        _put_text(parts, k[2], e.client_order_id)
        _put(parts, k[3], e.side)
        _put(parts, k[4], e.status)
        _put(parts, k[5], e.filled)
        _put(parts, k[6], e.filled_quote)
        _put(parts, k[7], e.release)
    elif isinstance(e, OrderCancelled):
        k = _CANCELLED
        _put(parts, k[0], e.order_id)
        _put(parts, k[1], e.user_id)
        _put_text(parts, k[2], e.client_order_id)
        _put(parts, k[3], e.remaining)
    elif isinstance(e, BookDelta):
        return _level_bytes(_BIDS, e.bids) + _level_bytes(_ASKS, e.asks)
    else:
        return _body_by_name(e)
    return b"".join(parts)


def _body_by_name(e: Event) -> bytes:
    parts: list[bytes] = []
    for key, name, text in _LAYOUT[type(e)].fields:
        value = getattr(e, name)
        if text:
            _put_text(parts, key, value)
        elif isinstance(value, tuple):  # a repeated number, packed
            if value:
                packed = b"".join(_field(0, number)[1:] for number in value)
                parts.append(_field(key, len(packed)))
                parts.append(packed)
        else:
            _put(parts, key, value)
    return b"".join(parts)


def _check_field_order() -> None:
    """`_body` must write fields exactly as the generated descriptors number them."""
    samples: list[Event] = [
        Trade(*range(1, 18)),
        OrderAccepted(1, 2, 3, 4, "c", 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
        OrderDone(1, 2, 3, 4, "c", 6, 7, 8, 9, 10),
        OrderCancelled(1, 2, 3, 4, "c", 6),
    ]
    for sample in samples:
        if _body(sample) != _body_by_name(sample):
            raise RuntimeError(f"wire._body writes {type(sample).__name__}'s fields out of order")


_check_field_order()


def encode_event(event: Event) -> bytes:
    """The bytes of one `Event` message."""
    body = _body(event)
    seq, ts = event.seq, event.ts
    head = (_field(_SEQ, seq) if seq else b"") + (_field(_TS, ts) if ts else b"")
    return head + _field(_LAYOUT[type(event)].tag, len(body)) + body


def _message(parts: list[bytes], key: int, data: bytes) -> None:
    """A length-delimited field (written even when empty: a message in a repeated field)."""
    parts.append(_field(key, len(data)))
    parts.append(data)


_K1: Final = _key_int(1, 2)
_K2: Final = _key_int(2, 2)
_K3: Final = _key_int(3, 2)
_K5: Final = _key_int(5, 2)
_V2: Final = _key_int(2, 0)
_V3: Final = _key_int(3, 0)
_V4: Final = _key_int(4, 0)
_V6: Final = _key_int(6, 0)
_MD_TRADES: Final = _key_int(5, 2)
_MD_BIDS: Final = _key_int(6, 2)
_MD_ASKS: Final = _key_int(7, 2)


def encode_command_ref(
    command_id: str,
    reply_to: str,
    correlation_id: str,
    first_seq: int,
    last_seq: int,
    trace_context: dict[str, str] | None = None,
) -> bytes:
    """A `CommandRef` message (`trace_context`: its W3C trace context map, entries by key)."""
    parts: list[bytes] = []
    _put_text(parts, _K1, command_id)
    _put_text(parts, _K2, reply_to)
    _put_text(parts, _K3, correlation_id)
    _put(parts, _V4, last_seq)
    if trace_context:
        for name in sorted(trace_context):
            entry: list[bytes] = []
            _message(entry, _K1, name.encode())
            _message(entry, _K2, trace_context[name].encode())
            _message(parts, _K5, b"".join(entry))
    _put(parts, _V6, first_seq)
    return b"".join(parts)


def encode_batch(symbol: str, events: list[bytes], command_id: str, refs: list[bytes] | None = None) -> bytes:
    """An `EventBatch` of already encoded events (and encoded CommandRefs)."""
    parts: list[bytes] = []
    _put_text(parts, _K1, symbol)
    for data in events:
        _message(parts, _K2, data)
    _put_text(parts, _K3, command_id)
    if refs:
        for ref in refs:
            _message(parts, _K5, ref)
    return b"".join(parts)


def encode_reply(correlation_id: str, batch: bytes) -> bytes:
    parts: list[bytes] = []
    _put_text(parts, _K1, correlation_id)
    _message(parts, _K2, batch)
    return b"".join(parts)


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
    parts: list[bytes] = []
    _put_text(parts, _K1, symbol)
    _put(parts, _V2, first_seq)
    _put(parts, _V3, last_seq)
    _put(parts, _V4, ts)
    for data in trades:
        _message(parts, _MD_TRADES, data)
    parts.append(_level_bytes(_MD_BIDS, bids))
    parts.append(_level_bytes(_MD_ASKS, asks))
    return b"".join(parts)
