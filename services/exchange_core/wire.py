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
    """How one event class is written: its oneof field number, and per field the encoded key,
    the attribute and whether it is text."""

    def __init__(self, tag: int, fields: list[tuple[bytes, str, bool]]) -> None:
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
            field.number,
            [
                (_key_bytes(f.number, 2 if _delimited(f) else 0), f.name, f.type == f.TYPE_STRING)
                for f in sub
                if f.type != f.TYPE_MESSAGE
            ],
        )
    return out


def _delimited(field: Any) -> bool:
    """Whether a field is written length-delimited: text, or a repeated number (packed)."""
    return bool(field.type == field.TYPE_STRING or field.is_repeated)


def _key_bytes(number: int, wire_type: int) -> bytes:
    out = bytearray()
    _key(out, number, wire_type)
    return bytes(out)


def _varint(out: bytearray, value: int) -> None:
    if value < 0:
        value += 1 << 64
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _key(out: bytearray, number: int, wire_type: int) -> None:
    _varint(out, (number << 3) | wire_type)


def _bytes_field(out: bytearray, number: int, data: bytes | bytearray) -> None:
    _key(out, number, 2)
    _varint(out, len(data))
    out += data


def _levels(out: bytearray, number: int, levels: tuple[tuple[int, int], ...]) -> None:
    for price, qty in levels:
        body = bytearray()
        if price:
            _key(body, 1, 0)
            _varint(body, price)
        if qty:
            _key(body, 2, 0)
            _varint(body, qty)
        _bytes_field(out, number, body)


_LAYOUT: Final = _layouts()


def _values(e: Event) -> tuple[int | str | tuple[int, ...], ...]:
    """The event's fields in the order of its message's field numbers (checked at import): direct
    attribute reads for the frequent events, by name for the rest."""
    if isinstance(e, Trade):
        return (
            e.trade_id, e.price, e.quantity, e.quote_quantity, e.taker_side, e.maker_order_id,
            e.maker_user_id, e.taker_order_id, e.taker_user_id, e.maker_fee, e.taker_fee,
            e.maker_filled, e.maker_filled_quote, e.taker_filled, e.taker_filled_quote,
        )  # fmt: skip
    if isinstance(e, OrderAccepted):
        return (
            e.order_id, e.user_id, e.client_order_id, e.side, e.order_type, e.time_in_force,
            e.price, e.quantity, e.quote_quantity, e.reserve, e.stp_mode, e.stop_price,
            e.trailing_delta, e.iceberg_qty, e.order_list_id,
        )  # fmt: skip
    if isinstance(e, OrderDone):
        return (
            e.order_id, e.user_id, e.client_order_id, e.side, e.status, e.filled, e.filled_quote, e.release,
        )  # fmt: skip
    if isinstance(e, OrderCancelled):
        return (e.order_id, e.user_id, e.client_order_id, e.remaining)
    return tuple(getattr(e, name) for _, name, _ in _LAYOUT[type(e)].fields)


def _check_field_order() -> None:
    """`_values` must list fields exactly as the generated descriptors number them."""
    samples: dict[type, Event] = {
        Trade: Trade(*range(1, 18)),
        OrderAccepted: OrderAccepted(1, 2, 3, 4, "c", 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
        OrderDone: OrderDone(1, 2, 3, 4, "c", 6, 7, 8, 9, 10),
        OrderCancelled: OrderCancelled(1, 2, 3, 4, "c", 6),
    }
    for cls, sample in samples.items():
        by_name = tuple(getattr(sample, name) for _, name, _ in _LAYOUT[cls].fields)
        if _values(sample) != by_name:
            raise RuntimeError(f"wire._values lists {cls.__name__}'s fields out of order")


_check_field_order()


def encode_event(event: Event) -> bytes:
    """The bytes of one `Event` message."""
    layout = _LAYOUT[type(event)]
    body = bytearray()
    if isinstance(event, BookDelta):
        _levels(body, 1, event.bids)
        _levels(body, 2, event.asks)
    else:
        for (key, _, _), value in zip(layout.fields, _values(event), strict=True):
            if not value:
                continue
            body += key
            if isinstance(value, str):
                data = value.encode()
                _varint(body, len(data))
                body += data
            elif isinstance(value, tuple):
                packed = bytearray()
                for number in value:
                    _varint(packed, number)
                _varint(body, len(packed))
                body += packed
            else:
                _varint(body, value)
    out = bytearray()
    if event.seq:
        _key(out, 1, 0)
        _varint(out, event.seq)
    if event.ts:
        _key(out, 2, 0)
        _varint(out, event.ts)
    _bytes_field(out, layout.tag, body)
    return bytes(out)


def encode_command_ref(
    command_id: str,
    reply_to: str,
    correlation_id: str,
    first_seq: int,
    last_seq: int,
    trace_context: dict[str, str] | None = None,
) -> bytes:
    """A `CommandRef` message (`trace_context`: its W3C trace context map, entries by key)."""
    out = bytearray()
    for number, text in ((1, command_id), (2, reply_to), (3, correlation_id)):
        if text:
            _bytes_field(out, number, text.encode())
    if last_seq:
        _key(out, 4, 0)
        _varint(out, last_seq)
    if trace_context:
        for name in sorted(trace_context):
            entry = bytearray()
            _bytes_field(entry, 1, name.encode())
            _bytes_field(entry, 2, trace_context[name].encode())
            _bytes_field(out, 5, entry)
    if first_seq:
        _key(out, 6, 0)
        _varint(out, first_seq)
    return bytes(out)


def encode_batch(symbol: str, events: list[bytes], command_id: str, refs: list[bytes] | None = None) -> bytes:
    """An `EventBatch` of already encoded events (and encoded CommandRefs)."""
    out = bytearray()
    if symbol:
        _bytes_field(out, 1, symbol.encode())
    for data in events:
        _bytes_field(out, 2, data)
    if command_id:
        _bytes_field(out, 3, command_id.encode())
    for ref in refs or ():
        _bytes_field(out, 5, ref)
    return bytes(out)


def encode_reply(correlation_id: str, batch: bytes) -> bytes:
    out = bytearray()
    if correlation_id:
        _bytes_field(out, 1, correlation_id.encode())
    _bytes_field(out, 2, batch)
    return bytes(out)


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
    out = bytearray()
    if symbol:
        _bytes_field(out, 1, symbol.encode())
    for number, value in ((2, first_seq), (3, last_seq), (4, ts)):
        if value:
            _key(out, number, 0)
            _varint(out, value)
    for data in trades:
        _bytes_field(out, 5, data)
    _levels(out, 6, bids)
    _levels(out, 7, asks)
    return bytes(out)
