"""The events settlement applies, read straight from an evt:{SYMBOL} entry's bytes (an encoded
EventBatch), compiled by mypyc: no protobuf Event objects in between. The DB writer's approach
(dbwriter.scan) with the same wire primitives (exchange_core.protowire), but each kind's fields
are read by the layout events.proto's descriptor gives at import, and become the matching event
itself. A kind whose message has a repeated field (ListStatus) and any form a proto3 encoder does
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
from matching import BookDelta, Event

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


def _read_event(data: bytes, pos: int, end: int) -> Event | None:
    """The event at data[pos:end]; None for a book delta."""
    seq, ts, kind, start, stop = read_event(data, pos, end, _MEMBERS)
    if kind == 0:
        raise Irregular
    if kind == _BOOK_DELTA:
        return None
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
