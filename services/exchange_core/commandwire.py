"""Fast decoding of journal entries (cmd:{SYMBOL}), for the engine's hot loop.

Reads the bytes of protos/exchange_proto/commands.proto's `Command` straight into the core's
command objects, without building protobuf objects: one pass over the bytes, compiled by mypyc
with the core. It takes the forms a proto3 encoder writes (each field at most once, or a scalar
repeated with the last value winning, unknown fields of any wire type but groups); anything else
(a field with an unexpected wire type, a repeated command message, groups, truncated or invalid
bytes), and the rare order list (`place_order_list`), goes to the official parser, which
decides. So the result is always what `exchange_core.protocol.command_from_proto` gives, or the
same error; tests/unit/test_commandwire.py holds the two equal. Field numbers are checked against
the generated descriptors at import.
"""

from typing import Final

from exchange_core.protocol import command_from_proto
from exchange_proto import commands_pb2 as cpb
from matching.commands import AmendOrder, CancelAll, CancelOrder, Command, PlaceOrder

VARINT: Final = 0
FIXED64: Final = 1
LENGTH: Final = 2
FIXED32: Final = 5

U64: Final = (1 << 64) - 1
INT64_SIGN: Final = 1 << 63


class JournalCommand:
    """One decoded journal entry: the command (stamped with the entry's time), where to answer
    (`reply_to`, empty when nobody waits), and its trace context (read only when asked for)."""

    def __init__(
        self,
        entry_id: bytes,
        command: Command,
        reply_to: str,
        correlation_id: str,
        trace_context: dict[str, str] | None = None,
    ) -> None:
        self.entry_id = entry_id
        self.command = command
        self.reply_to = reply_to
        self.correlation_id = correlation_id
        self.trace_context = trace_context


class _Irregular(Exception):
    """A form the fast path leaves to the official parser."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it) of the varint at `pos`, as an unsigned 64-bit number."""
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    value = byte & 0x7F
    shift = 7
    pos += 1
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value & U64, pos
        shift += 7
        if shift >= 70:
            raise _Irregular


def _key(data: bytes, pos: int) -> tuple[int, int, int]:
    """(field number, wire type, position after the key) of the key at `pos`."""
    key, pos = _varint(data, pos)
    if key < 8 or key > 0xFFFFFFFF:
        raise _Irregular
    return key >> 3, key & 7, pos


def _int64(value: int) -> int:
    return value - (1 << 64) if value >= INT64_SIGN else value


def _enum(value: int) -> int:
    """An enum field's varint as protobuf keeps it: an int32."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _skip(data: bytes, pos: int, wire_type: int) -> int:
    """The position after an unknown field's value."""
    if wire_type == VARINT:
        return _varint(data, pos)[1]
    if wire_type == LENGTH:
        size, pos = _varint(data, pos)
        end = pos + size
        if end > len(data):
            raise _Irregular
        return end
    if wire_type == FIXED64:
        pos += 8
    elif wire_type == FIXED32:
        pos += 4
    else:
        raise _Irregular
    if pos > len(data):
        raise _Irregular
    return pos


def _text(data: bytes, pos: int, end: int) -> tuple[str, int]:
    """(string, position after it) of a length-delimited field whose length is at `pos`."""
    size, pos = _varint(data, pos)
    stop = pos + size
    if stop > end:
        raise _Irregular
    return data[pos:stop].decode(), stop


def _place_order(data: bytes, pos: int, end: int, ts: int) -> PlaceOrder:
    symbol = client_order_id = ""
    order_id = user_id = side = order_type = time_in_force = stp_mode = 0
    price = quantity = quote_quantity = reserve = stop_price = trailing_delta = iceberg_qty = 0
    while pos < end:
        number, wire_type, pos = _key(data, pos)
        if number == 1 or number == 12:
            if wire_type != LENGTH:
                raise _Irregular
            text, pos = _text(data, pos, end)
            if number == 1:
                symbol = text
            else:
                client_order_id = text
            continue
        if number > 15:
            pos = _skip(data, pos, wire_type)
            continue
        if wire_type != VARINT:
            raise _Irregular
        value, pos = _varint(data, pos)
        if number == 2:
            order_id = value
        elif number == 3:
            user_id = value
        elif number == 4:
            side = _enum(value)
        elif number == 5:
            order_type = _enum(value)
        elif number == 6:
            time_in_force = _enum(value)
        elif number == 7:
            price = _int64(value)
        elif number == 8:
            quantity = _int64(value)
        elif number == 9:
            quote_quantity = _int64(value)
        elif number == 10:
            reserve = _int64(value)
        elif number == 11:
            stp_mode = _enum(value)
        elif number == 13:
            stop_price = _int64(value)
        elif number == 14:
            trailing_delta = _int64(value)
        else:
            iceberg_qty = _int64(value)
    if pos != end:
        raise _Irregular
    return PlaceOrder(
        symbol,
        order_id,
        user_id,
        side,
        order_type,
        time_in_force,
        price,
        quantity,
        quote_quantity,
        reserve,
        stp_mode,
        client_order_id,
        ts,
        stop_price,
        trailing_delta,
        iceberg_qty,
    )


def _order_ref(data: bytes, pos: int, end: int, kind: int, ts: int) -> Command:
    """CancelOrder (kind 2), CancelAll (3) or AmendOrder (4): fields 1 symbol, 2 user_id,
    3 order_id, 4 client_order_id, 5 new_client_order_id, 6 quantity (as each has them)."""
    last = 4 if kind == 2 else 2 if kind == 3 else 6
    symbol = client_order_id = new_client_order_id = ""
    user_id = order_id = quantity = 0
    while pos < end:
        number, wire_type, pos = _key(data, pos)
        if number > last:
            pos = _skip(data, pos, wire_type)
            continue
        if number == 1 or number == 4 or number == 5:
            if wire_type != LENGTH:
                raise _Irregular
            text, pos = _text(data, pos, end)
            if number == 1:
                symbol = text
            elif number == 4:
                client_order_id = text
            else:
                new_client_order_id = text
            continue
        if wire_type != VARINT:
            raise _Irregular
        value, pos = _varint(data, pos)
        if number == 2:
            user_id = value
        elif number == 3:
            order_id = value
        else:
            quantity = _int64(value)
    if pos != end:
        raise _Irregular
    if kind == 2:
        return CancelOrder(symbol, user_id, order_id, client_order_id, ts)
    if kind == 3:
        return CancelAll(symbol, user_id, ts)
    return AmendOrder(symbol, user_id, order_id, client_order_id, new_client_order_id, quantity, ts)


def _map_entry(data: bytes, pos: int, end: int, into: dict[str, str]) -> None:
    """One `map<string, string>` entry (key 1, value 2) into `into`."""
    name = value = ""
    while pos < end:
        number, wire_type, pos = _key(data, pos)
        if number > 2:
            pos = _skip(data, pos, wire_type)
            continue
        if wire_type != LENGTH:
            raise _Irregular
        text, pos = _text(data, pos, end)
        if number == 1:
            name = text
        else:
            value = text
    if pos != end:
        raise _Irregular
    into[name] = value


def _fast(entry_id: bytes, data: bytes, ts: int, with_trace: bool) -> JournalCommand:
    end = len(data)
    pos = 0
    kind = body_start = body_end = 0
    reply_to = correlation_id = ""
    trace: dict[str, str] = {}
    while pos < end:
        number, wire_type, pos = _key(data, pos)
        if number <= 4 or number == 10 or number == 11 or number == 12:
            if wire_type != LENGTH:
                raise _Irregular
            size, pos = _varint(data, pos)
            stop = pos + size
            if stop > end:
                raise _Irregular
            if number <= 4:
                if kind:
                    raise _Irregular  # a second command message: merged or replaced by the rules
                kind, body_start, body_end = number, pos, stop
            elif number == 10:
                reply_to = data[pos:stop].decode()
            elif number == 11:
                correlation_id = data[pos:stop].decode()
            else:
                _map_entry(data, pos, stop, trace)
            pos = stop
            continue
        if number == 5:
            raise _Irregular  # an order list (alone or not): the official parser decides
        pos = _skip(data, pos, wire_type)
    if pos != end or not kind:
        raise _Irregular
    if kind == 1:
        command: Command = _place_order(data, body_start, body_end, ts)
    else:
        command = _order_ref(data, body_start, body_end, kind, ts)
    return JournalCommand(
        entry_id, command, reply_to, correlation_id, trace if with_trace and trace else None
    )


def _official(entry_id: bytes, data: bytes, ts: int, with_trace: bool) -> JournalCommand:
    msg = cpb.Command.FromString(data)
    command = command_from_proto(msg, ts)
    trace = dict(msg.trace_context) if with_trace and msg.trace_context else None
    return JournalCommand(entry_id, command, msg.reply_to, msg.correlation_id, trace)


def entry_ms(entry_id: bytes) -> int:
    """The milliseconds part of a stream entry id (`b"1700000000000-3"` -> 1700000000000)."""
    ms = 0
    for i in range(len(entry_id)):
        digit = entry_id[i]
        if digit == 45:  # "-"
            return ms
        if digit < 48 or digit > 57:
            raise ValueError(f"not a stream entry id: {entry_id!r}")
        ms = ms * 10 + digit - 48
    return ms


def decode_command(entry_id: bytes, data: bytes, with_trace: bool = False) -> JournalCommand:
    """The journal entry `entry_id` holding `data` (a `Command` message); the command's `ts` is
    the entry's milliseconds. Raises what the official parser raises on bytes it refuses."""
    ts = entry_ms(entry_id)
    try:
        return _fast(entry_id, data, ts, with_trace)
    except (_Irregular, IndexError, UnicodeDecodeError):
        return _official(entry_id, data, ts, with_trace)


def decode_commands(
    entries: list[tuple[bytes, dict[bytes, bytes]]], with_trace: bool
) -> tuple[list[JournalCommand], list[Command]]:
    """`decode_command` of each journal entry (id, fields; the message in field `c`), and the
    commands alone, in the same order."""
    journal: list[JournalCommand] = []
    commands: list[Command] = []
    for entry_id, fields in entries:
        jc = decode_command(entry_id, fields[b"c"], with_trace)
        journal.append(jc)
        commands.append(jc.command)
    return journal, commands


def _check_field_numbers() -> None:
    """The numbers and types this module reads must be those of the generated descriptors
    (T: string, U: uint64, E: enum, I: int64, M: message)."""
    expected = {
        "Command": {"place_order": "1M", "cancel_order": "2M", "cancel_all": "3M", "amend_order": "4M",
                    "place_order_list": "5M", "reply_to": "10T", "correlation_id": "11T",
                    "trace_context": "12M"},
        "PlaceOrder": {"symbol": "1T", "order_id": "2U", "user_id": "3U", "side": "4E", "order_type": "5E",
                       "time_in_force": "6E", "price": "7I", "quantity": "8I", "quote_quantity": "9I",
                       "reserve": "10I", "stp_mode": "11E", "client_order_id": "12T", "stop_price": "13I",
                       "trailing_delta": "14I", "iceberg_qty": "15I"},
        "CancelOrder": {"symbol": "1T", "user_id": "2U", "order_id": "3U", "client_order_id": "4T"},
        "CancelAll": {"symbol": "1T", "user_id": "2U"},
        "AmendOrder": {"symbol": "1T", "user_id": "2U", "order_id": "3U", "client_order_id": "4T",
                       "new_client_order_id": "5T", "quantity": "6I"},
    }  # fmt: skip
    kinds = {9: "T", 4: "U", 14: "E", 3: "I", 11: "M"}  # FieldDescriptor.TYPE_*
    for message, fields in expected.items():
        descriptor = cpb.DESCRIPTOR.message_types_by_name[message]
        actual = {f.name: f"{f.number}{kinds.get(f.type, '?')}" for f in descriptor.fields}
        if actual != fields:
            raise RuntimeError(f"commandwire reads {message} as {fields}, commands.proto says {actual}")


_check_field_numbers()
