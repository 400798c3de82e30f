"""Reading the events the DB writer stores out of an evt:{SYMBOL} entry (an encoded EventBatch),
compiled by mypyc: the entry's bytes are read straight into reusable `Scanned` records
(exchange_core.protowire), without building protobuf objects. A form that reading leaves to the
official parser (exchange_core.protowire.Irregular) is read by it (`parse_batch`) into the same
records (tests/unit/test_dbwriter_rows_wire.py holds the two equal).
"""

from typing import Final

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
from exchange_proto import events_pb2 as epb

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
    """One event the writer reads: its oneof member (`kind`), seq, ts (ms), its message's read
    int fields by number (`v1`..`v15`; 0 when absent) and its client order id (UTF-8). Reused from
    entry to entry."""

    def __init__(self) -> None:
        self.kind = self.seq = self.ts = 0
        self.v1 = self.v2 = self.v3 = self.v4 = self.v5 = self.v6 = self.v7 = self.v8 = self.v9 = 0
        self.v10 = self.v11 = self.v12 = self.v13 = self.v14 = self.v15 = 0
        self.text = b""

    def clear(self, kind: int, seq: int, ts: int) -> None:
        self.kind, self.seq, self.ts = kind, seq, ts
        self.v1 = self.v2 = self.v3 = self.v4 = self.v5 = self.v6 = self.v7 = self.v8 = self.v9 = 0
        self.v10 = self.v11 = self.v12 = self.v13 = self.v14 = self.v15 = 0
        self.text = b""

    def set(self, number: int, value: int) -> None:
        """Field `number` (an int field of the layouts) of the message."""
        if number == 1:
            self.v1 = value
        elif number == 2:
            self.v2 = value
        elif number == 3:
            self.v3 = value
        elif number == 4:
            self.v4 = value
        elif number == 5:
            self.v5 = value
        elif number == 6:
            self.v6 = value
        elif number == 7:
            self.v7 = value
        elif number == 8:
            self.v8 = value
        elif number == 9:
            self.v9 = value
        elif number == 10:
            self.v10 = value
        elif number == 11:
            self.v11 = value
        elif number == 12:
            self.v12 = value
        elif number == 13:
            self.v13 = value
        elif number == 14:
            self.v14 = value
        elif number == 15:
            self.v15 = value
        else:
            raise ValueError(f"no int field {number} in the layouts")

    def values(self) -> tuple[object, ...]:
        """Everything read, for comparisons."""
        return (
            self.kind, self.seq, self.ts, self.v1, self.v2, self.v3, self.v4, self.v5, self.v6, self.v7,
            self.v8, self.v9, self.v10, self.v11, self.v12, self.v13, self.v14, self.v15, self.text,
        )  # fmt: skip


def _scan_message(data: bytes, pos: int, end: int, layout: list[int], event: Scanned) -> None:
    while pos < end:
        number, wire_type, pos = read_key(data, pos)
        how = layout[number] if number < len(layout) else _X
        if how == _X:
            pos = skip_field(data, pos, wire_type)
        elif how == _T:
            start, pos = read_length(data, pos, end, wire_type)
            text = data[start:pos]
            if not text.isascii():
                text.decode()  # UnicodeDecodeError: the parser refuses it
            event.text = text
        else:
            value, pos = read_int(data, pos, wire_type)
            event.set(number, value if how == _U else as_int64(value) if how == _S else as_enum(value))
    if pos != end:
        raise Irregular


def _scan_event(data: bytes, pos: int, end: int, event: Scanned) -> bool:
    """Read the event at data[pos:end] into `event`: False if the writer does not read its kind."""
    seq, ts, kind, start, stop = read_event(data, pos, end, _ONEOF)
    layout = _LAYOUTS.get(kind)
    if layout is None:
        return False
    event.clear(kind, seq, ts)
    _scan_message(data, start, stop, layout, event)
    return True


def scan_batch(data: bytes, events: list[Scanned]) -> tuple[str, int, int]:
    """(symbol, number of events, number of events the writer reads) of an encoded EventBatch,
    whose read events are left in events[0], events[1], ... (`events` grows as needed).
    Raises Irregular (or UnicodeDecodeError, IndexError) for what it leaves to the parser."""
    symbol = ""
    count = read = 0
    pos, end = 0, len(data)
    while pos < end:
        number, wire_type, pos = read_key(data, pos)
        if number == 1:
            symbol, pos = read_text(data, pos, end, wire_type)
        elif number == 2:
            start, stop = read_length(data, pos, end, wire_type)
            count += 1
            if read == len(events):
                events.append(Scanned())
            if _scan_event(data, start, stop, events[read]):
                read += 1
            pos = stop
        else:
            pos = skip_field(data, pos, wire_type)
    if pos != end:
        raise Irregular
    return symbol, count, read


def parse_batch(data: bytes, events: list[Scanned]) -> tuple[str, int, int]:
    """scan_batch by the official parser (raises its DecodeError)."""
    batch = epb.EventBatch.FromString(data)
    read = 0
    for event in batch.events:
        name = event.WhichOneof("kind")
        fields = _FIELDS.get(name or "")
        if fields is None:
            continue
        if read == len(events):
            events.append(Scanned())
        scanned = events[read]
        read += 1
        scanned.clear(_KINDS[name or ""], event.seq, event.ts)
        message = getattr(event, name or "")
        for number, field, how in fields:
            if how == _T:
                scanned.text = str(getattr(message, field)).encode()
            else:
                scanned.set(number, int(getattr(message, field)))
    return batch.symbol, len(batch.events), read


def _event_fields() -> tuple[dict[str, int], dict[str, list[tuple[int, str, int]]]]:
    """By oneof member name: its field number, and the (number, name, how) of the fields read."""
    event = epb.DESCRIPTOR.message_types_by_name["Event"]
    kinds: dict[str, int] = {}
    fields: dict[str, list[tuple[int, str, int]]] = {}
    for number, layout in _LAYOUTS.items():
        member = event.fields_by_number[number]
        assert member.message_type is not None
        by_number = {f.number: f.name for f in member.message_type.fields}
        kinds[member.name] = number
        fields[member.name] = [(n, by_number[n], how) for n, how in enumerate(layout) if how != _X]
    return kinds, fields


def _check_layouts() -> None:
    """The field numbers and types `_LAYOUTS` reads must be those of events.proto's messages."""
    kinds = {4: _U, 3: _S, 14: _E, 9: _T}  # FieldDescriptor.TYPE_* (uint64, int64, enum, string)
    event = epb.DESCRIPTOR.message_types_by_name["Event"]
    oneof = {f.number for f in event.oneofs_by_name["kind"].fields}
    if oneof != set(_ONEOF):
        raise RuntimeError(f"dbwriter.scan skips Event kinds {sorted(_ONEOF)}, events.proto: {sorted(oneof)}")
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
                raise RuntimeError(f"dbwriter.scan reads field {field_number} of {message.name} wrongly")


_check_layouts()
_KINDS, _FIELDS = _event_fields()
