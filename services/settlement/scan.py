"""The events settlement applies, read straight from an evt:{SYMBOL} entry's bytes (an encoded
EventBatch), compiled by mypyc: no protobuf Event objects in between. The DB writer's approach
(dbwriter.scan) with the same wire primitives (exchange_core.protowire), but each kind's fields
are read by the layout events.proto's descriptor gives at import (the four most frequent kinds by
readers of their own, whose layouts are checked against it at import), and become the matching
event itself. A kind whose message has a repeated field (ListStatus) and any form a proto3 encoder does
not write raise Irregular: the caller decodes that entry with the official parser
(exchange_core.protocol.events_from_protos), which decides (tests/unit/test_settlement_scan.py
holds the two equal).
"""

from typing import Any, Final

from exchange_core.protowire import (
    Irregular,
    as_enum,
    as_int64,
    read_event,
    read_int,
    read_key,
    read_length,
    read_text,
    skip_field,
)
from exchange_core.wire import EVENT_FIELD
from exchange_proto import events_pb2 as epb
from matching import BookDelta, Event, OrderAccepted, OrderCancelled, OrderDone, Trade

_U: Final = 0  # uint64
_S: Final = 1  # int64
_E: Final = 2  # an enum
_T: Final = 3  # a string
_W: Final = 4  # uint32


class _Kind:
    """How one Event oneof member is read: its event class and, by field number (from 1), how
    each field is read, with its default."""

    def __init__(self, cls: type[Event], layout: list[int]) -> None:
        self.cls = cls
        self.layout = layout
        self.defaults: list[Any] = ["" if how == _T else 0 for how in layout]


def _kinds() -> tuple[dict[int, _Kind], set[int]]:
    """(the kinds read here by oneof field number, the numbers of the kinds left to the parser)."""
    event = epb.Event.DESCRIPTOR
    how = {
        4: _U,
        13: _W,
        3: _S,
        14: _E,
        9: _T,
    }  # FieldDescriptor.TYPE_* (uint64, uint32, int64, enum, string)
    kinds: dict[int, _Kind] = {}
    others: set[int] = set()
    for cls, name in EVENT_FIELD.items():
        member = event.fields_by_name[name]
        message = member.message_type
        assert message is not None
        fields = sorted(message.fields, key=lambda f: f.number)
        names = [f.name for f in fields]
        if (
            cls is BookDelta
            or names != list(cls.FIELDS[2:])
            or [f.number for f in fields] != list(range(1, len(fields) + 1))
            or any(f.is_repeated or f.type not in how for f in fields)
        ):
            others.add(member.number)
            continue
        kinds[member.number] = _Kind(cls, [how[f.type] for f in fields])
    return kinds, others


_KINDS, _OTHERS = _kinds()
_MEMBERS: Final = frozenset(_KINDS) | frozenset(_OTHERS)
_BOOK_DELTA: Final = epb.Event.DESCRIPTOR.fields_by_name[EVENT_FIELD[BookDelta]].number

# The most frequent kinds have readers of their own below (their fields into native locals, the
# event built by a direct call, not through a list and *args), written for these layouts.
_OWN_READERS: Final[dict[type[Event], list[int]]] = {
    OrderAccepted: [_U, _U, _T, _E, _E, _E, _S, _S, _S, _S, _E, _S, _S, _S, _U],
    OrderDone: [_U, _U, _T, _E, _E, _S, _S, _S],
    Trade: [_U, _S, _S, _S, _E, _U, _U, _U, _U, _S, _S, _S, _S, _S, _S],
    OrderCancelled: [_U, _U, _T, _S],
}


def _kind_number(cls: type[Event]) -> int:
    """The Event oneof field number of `cls`, whose layout must be the one its reader reads."""
    number = epb.Event.DESCRIPTOR.fields_by_name[EVENT_FIELD[cls]].number
    if _KINDS[number].layout != _OWN_READERS[cls]:
        raise RuntimeError(f"events.proto's {cls.__name__} changed: settlement.scan's reader must too")
    return number


_ACCEPTED: Final = _kind_number(OrderAccepted)
_DONE: Final = _kind_number(OrderDone)
_TRADE: Final = _kind_number(Trade)
_CANCELLED: Final = _kind_number(OrderCancelled)


def _accepted(data: bytes, pos: int, stop: int, seq: int, ts: int) -> OrderAccepted:
    order_id = user_id = side = order_type = time_in_force = price = quantity = 0
    quote_quantity = reserve = stp_mode = stop_price = trailing_delta = iceberg_qty = 0
    order_list_id = 0
    client_order_id = ""
    while pos < stop:
        number, wire_type, pos = read_key(data, pos)
        if number == 3:
            client_order_id, pos = read_text(data, pos, stop, wire_type)
            continue
        value, pos = read_int(data, pos, wire_type)
        if number == 1:
            order_id = value
        elif number == 2:
            user_id = value
        elif number == 4:
            side = as_enum(value)
        elif number == 5:
            order_type = as_enum(value)
        elif number == 6:
            time_in_force = as_enum(value)
        elif number == 7:
            price = as_int64(value)
        elif number == 8:
            quantity = as_int64(value)
        elif number == 9:
            quote_quantity = as_int64(value)
        elif number == 10:
            reserve = as_int64(value)
        elif number == 11:
            stp_mode = as_enum(value)
        elif number == 12:
            stop_price = as_int64(value)
        elif number == 13:
            trailing_delta = as_int64(value)
        elif number == 14:
            iceberg_qty = as_int64(value)
        elif number == 15:
            order_list_id = value
        else:
            raise Irregular
    if pos != stop:
        raise Irregular
    return OrderAccepted(
        seq, ts, order_id, user_id, client_order_id, side, order_type, time_in_force, price,
        quantity, quote_quantity, reserve, stp_mode, stop_price, trailing_delta, iceberg_qty,
        order_list_id,
    )  # fmt: skip


def _done(data: bytes, pos: int, stop: int, seq: int, ts: int) -> OrderDone:
    order_id = user_id = side = status = filled = filled_quote = release = 0
    client_order_id = ""
    while pos < stop:
        number, wire_type, pos = read_key(data, pos)
        if number == 3:
            client_order_id, pos = read_text(data, pos, stop, wire_type)
            continue
        value, pos = read_int(data, pos, wire_type)
        if number == 1:
            order_id = value
        elif number == 2:
            user_id = value
        elif number == 4:
            side = as_enum(value)
        elif number == 5:
            status = as_enum(value)
        elif number == 6:
            filled = as_int64(value)
        elif number == 7:
            filled_quote = as_int64(value)
        elif number == 8:
            release = as_int64(value)
        else:
            raise Irregular
    if pos != stop:
        raise Irregular
    return OrderDone(seq, ts, order_id, user_id, client_order_id, side, status, filled, filled_quote, release)


def _trade(data: bytes, pos: int, stop: int, seq: int, ts: int) -> Trade:
    trade_id = price = quantity = quote_quantity = taker_side = maker_order_id = 0
    maker_user_id = taker_order_id = taker_user_id = maker_fee = taker_fee = 0
    maker_filled = maker_filled_quote = taker_filled = taker_filled_quote = 0
    while pos < stop:
        number, wire_type, pos = read_key(data, pos)
        value, pos = read_int(data, pos, wire_type)
        if number == 1:
            trade_id = value
        elif number == 2:
            price = as_int64(value)
        elif number == 3:
            quantity = as_int64(value)
        elif number == 4:
            quote_quantity = as_int64(value)
        elif number == 5:
            taker_side = as_enum(value)
        elif number == 6:
            maker_order_id = value
        elif number == 7:
            maker_user_id = value
        elif number == 8:
            taker_order_id = value
        elif number == 9:
            taker_user_id = value
        elif number == 10:
            maker_fee = as_int64(value)
        elif number == 11:
            taker_fee = as_int64(value)
        elif number == 12:
            maker_filled = as_int64(value)
        elif number == 13:
            maker_filled_quote = as_int64(value)
        elif number == 14:
            taker_filled = as_int64(value)
        elif number == 15:
            taker_filled_quote = as_int64(value)
        else:
            raise Irregular
    if pos != stop:
        raise Irregular
    return Trade(
        seq, ts, trade_id, price, quantity, quote_quantity, taker_side, maker_order_id,
        maker_user_id, taker_order_id, taker_user_id, maker_fee, taker_fee, maker_filled,
        maker_filled_quote, taker_filled, taker_filled_quote,
    )  # fmt: skip


def _cancelled(data: bytes, pos: int, stop: int, seq: int, ts: int) -> OrderCancelled:
    order_id = user_id = remaining = 0
    client_order_id = ""
    while pos < stop:
        number, wire_type, pos = read_key(data, pos)
        if number == 3:
            client_order_id, pos = read_text(data, pos, stop, wire_type)
            continue
        value, pos = read_int(data, pos, wire_type)
        if number == 1:
            order_id = value
        elif number == 2:
            user_id = value
        elif number == 4:
            remaining = as_int64(value)
        else:
            raise Irregular
    if pos != stop:
        raise Irregular
    return OrderCancelled(seq, ts, order_id, user_id, client_order_id, remaining)


def _read_event(data: bytes, pos: int, end: int) -> Event | None:
    """The event at data[pos:end]; None for a book delta."""
    seq, ts, kind, start, stop = read_event(data, pos, end, _MEMBERS)
    if kind == 0:
        raise Irregular
    if kind == _BOOK_DELTA:
        return None
    if kind == _ACCEPTED:
        return _accepted(data, start, stop, seq, ts)
    if kind == _DONE:
        return _done(data, start, stop, seq, ts)
    if kind == _TRADE:
        return _trade(data, start, stop, seq, ts)
    if kind == _CANCELLED:
        return _cancelled(data, start, stop, seq, ts)
    reader = _KINDS.get(kind)
    if reader is None:
        raise Irregular
    layout = reader.layout
    values = list(reader.defaults)
    pos = start
    while pos < stop:
        number, wire_type, pos = read_key(data, pos)
        if number < 1 or number > len(layout):
            pos = skip_field(data, pos, wire_type)
            continue
        how = layout[number - 1]
        if how == _T:
            values[number - 1], pos = read_text(data, pos, stop, wire_type)
        else:
            value, pos = read_int(data, pos, wire_type)
            if how == _S:
                values[number - 1] = as_int64(value)
            elif how == _E:
                values[number - 1] = as_enum(value)
            elif how == _W:
                values[number - 1] = value & 0xFFFFFFFF
            else:
                values[number - 1] = value
    if pos != stop:
        raise Irregular
    return reader.cls(seq, ts, *values)


def read_events(data: bytes, into: list[Event]) -> None:
    """Append the events of the encoded EventBatch `data` to `into`, in order, but book deltas.
    Raises Irregular (or UnicodeDecodeError, IndexError, ValueError) for what it leaves to the
    parser; `into` is then unchanged."""
    out: list[Event] = []
    pos, end = 0, len(data)
    while pos < end:
        number, wire_type, pos = read_key(data, pos)
        if number == 2:
            start, stop = read_length(data, pos, end, wire_type)
            event = _read_event(data, start, stop)
            if event is not None:
                out.append(event)
            pos = stop
        else:
            pos = skip_field(data, pos, wire_type)
    if pos != end:
        raise Irregular
    into.extend(out)
