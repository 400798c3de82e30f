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

from collections.abc import Sequence
from typing import Any, Final

from librt.strings import read_i32_le, read_i64_le
from mypy_extensions import i32, i64, mypyc_attr

from exchange_core.protocol import command_from_proto
from exchange_core.protowire import (
    LENGTH,
    VARINT,
    Irregular,
    as_enum,
    as_int64,
    read_key,
    read_length,
    read_text,
    read_varint,
    skip_field,
)
from exchange_proto import commands_pb2 as cpb
from matching.commands import AmendOrder, CancelAll, CancelOrder, Command, PlaceOrder


@mypyc_attr(acyclic=True)
class JournalCommand:
    """One decoded journal entry: the command (stamped with the entry's time), where to answer
    (`reply_to`, empty when nobody waits), and its trace context (read only when asked for).

    Acyclic (its fields are bytes, strings, an acyclic command and a dict of strings): compiled,
    it is left out of the cycle collector, as the core's commands are."""

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


class _LastSymbol:
    """The last symbol read, as bytes and as text: a market's journal names the same symbol in
    every command, so its bytes are compared in place and the text reused. A symbol of 4 to 8
    bytes is compared as two (overlapping) 4-byte numbers, its first and its last four bytes."""

    def __init__(self) -> None:
        self.raw = b""
        self.text = ""
        self.head: i32 = 0
        self.tail: i32 = 0


_SYMBOL: Final = _LastSymbol()


def _read_symbol(data: bytes, pos: i64, end: i64, wire_type: i64) -> tuple[str, i64]:
    """`read_text` of a symbol field: the same string as the last one when its bytes are."""
    start: i64
    stop: i64
    if wire_type == LENGTH and data[pos] < 0x80:  # a one-byte length, without read_length's call
        start = pos + 1
        stop = start + data[pos]
        if stop > end:
            raise Irregular
    else:
        start, stop = read_length(data, pos, end, wire_type)
    last = _SYMBOL
    raw = last.raw
    n: i64 = len(raw)
    if stop - start == n and n:
        at = start
        if 4 <= n <= 8:
            if read_i32_le(data, at) == last.head and read_i32_le(data, at + n - 4) == last.tail:
                return last.text, stop
        else:
            i: i64 = 0
            while i < n and data[at + i] == raw[i]:
                i += 1
            if i == n:
                return last.text, stop
    raw = data[start:stop]
    text = raw.decode()
    last.raw = raw
    last.text = text
    if len(raw) >= 4:
        last.head = read_i32_le(raw, 0)
        last.tail = read_i32_le(raw, len(raw) - 4)
    return text, stop


# The high bits of bytes 0-6 of an 8-byte little-endian read: where a varint of up to seven
# bytes read at once may end.
_ENDS: Final[i64] = 0x0080808080808080


def _read_long_varint(data: bytes, pos: i64) -> tuple[int, i64]:
    """`read_varint` of the varint at `pos` (whose first byte has its continuation bit set):
    one that ends within seven bytes, with eight bytes to read there, in one 8-byte read."""
    if pos + 8 <= len(data):
        x = read_i64_le(data, pos)
        ends = ~x & _ENDS
        if ends:
            last = ends & -ends  # the high bit of the varint's last byte
            x &= last | (last - 1)
            value: i64 = (
                (x & 0x7F)
                | ((x >> 1) & 0x3F80)
                | ((x >> 2) & 0x1FC000)
                | ((x >> 3) & 0xFE00000)
                | ((x >> 4) & 0x7F0000000)
                | ((x >> 5) & 0x3F800000000)
                | ((x >> 6) & 0x1FC0000000000)
            )
            size: i64 = 7
            if last < 1 << 16:
                size = 2
            elif last < 1 << 24:
                size = 3
            elif last < 1 << 32:
                size = 4
            elif last < 1 << 40:
                size = 5
            elif last < 1 << 48:
                size = 6
            return value, pos + size
    number, after = read_varint(data, pos)
    return number, after


def _read_text(data: bytes, pos: i64, end: i64, wire_type: i64) -> tuple[str, i64]:
    """`read_text`, with a length under 128 read here without read_length's call."""
    if wire_type != LENGTH:
        raise Irregular
    size: i64 = data[pos]
    if size >= 0x80:
        text, after = read_text(data, pos, end, wire_type)
        return text, after
    start = pos + 1
    stop = start + size
    if stop > end:
        raise Irregular
    return data[start:stop].decode(), stop


def _place_order(data: bytes, start: int, stop: int, ts: int) -> PlaceOrder:
    # Positions, keys and field numbers in native 64-bit ints: no tagged-int checks per byte.
    pos: i64 = start
    end: i64 = stop
    number: i64 = 0
    wire_type: i64 = 0
    symbol = client_order_id = ""
    order_id = user_id = side = order_type = time_in_force = stp_mode = 0
    price = quantity = quote_quantity = reserve = stop_price = trailing_delta = iceberg_qty = 0
    while pos < end:
        key: i64 = data[pos]
        if 8 <= key < 0x80:  # fields 1-15: a one-byte key, read here without read_key's call
            number = key >> 3
            wire_type = key & 7
            pos += 1
        else:
            number, wire_type, pos = read_key(data, pos)
        if number == 1:
            symbol, pos = _read_symbol(data, pos, end, wire_type)
            continue
        if number == 12:
            client_order_id, pos = _read_text(data, pos, end, wire_type)
            continue
        if number > 15:
            pos = skip_field(data, pos, wire_type)
            continue
        if wire_type != VARINT:  # read_int, without its call
            raise Irregular
        value: int = data[pos]
        if value < 0x80:  # a one-byte varint, read here without read_varint's call
            pos += 1
        else:
            value, pos = _read_long_varint(data, pos)
        if number == 2:
            order_id = value
        elif number == 3:
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
        elif number == 13:
            stop_price = as_int64(value)
        elif number == 14:
            trailing_delta = as_int64(value)
        else:
            iceberg_qty = as_int64(value)
    if pos != end:
        raise Irregular
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


def _order_ref(data: bytes, start: int, stop: int, kind: int, ts: int) -> Command:
    """CancelOrder (kind 2), CancelAll (3) or AmendOrder (4): fields 1 symbol, 2 user_id,
    3 order_id, 4 client_order_id, 5 new_client_order_id, 6 quantity (as each has them)."""
    pos: i64 = start  # native ints, as in _place_order
    end: i64 = stop
    number: i64 = 0
    wire_type: i64 = 0
    last: i64 = 4 if kind == 2 else 2 if kind == 3 else 6
    symbol = client_order_id = new_client_order_id = ""
    user_id = order_id = quantity = 0
    while pos < end:
        key: i64 = data[pos]
        if 8 <= key < 0x80:  # a one-byte key, as in _place_order
            number = key >> 3
            wire_type = key & 7
            pos += 1
        else:
            number, wire_type, pos = read_key(data, pos)
        if number > last:
            pos = skip_field(data, pos, wire_type)
            continue
        if number == 1:
            symbol, pos = _read_symbol(data, pos, end, wire_type)
            continue
        if number == 4 or number == 5:
            text, pos = _read_text(data, pos, end, wire_type)
            if number == 4:
                client_order_id = text
            else:
                new_client_order_id = text
            continue
        if wire_type != VARINT:  # read_int, without its call
            raise Irregular
        value: int = data[pos]
        if value < 0x80:  # a one-byte varint, as in _place_order
            pos += 1
        else:
            value, pos = _read_long_varint(data, pos)
        if number == 2:
            user_id = value
        elif number == 3:
            order_id = value
        else:
            quantity = as_int64(value)
    if pos != end:
        raise Irregular
    if kind == 2:
        return CancelOrder(symbol, user_id, order_id, client_order_id, ts)
    if kind == 3:
        return CancelAll(symbol, user_id, ts)
    return AmendOrder(symbol, user_id, order_id, client_order_id, new_client_order_id, quantity, ts)


def _map_entry(data: bytes, pos: int, end: int, into: dict[str, str]) -> None:
    """One `map<string, string>` entry (key 1, value 2) into `into`. Any other field in it sends
    the command to the official parser, which may drop such an entry."""
    name = value = ""
    while pos < end:
        number, wire_type, pos = read_key(data, pos)
        if number > 2:
            raise Irregular
        text, pos = read_text(data, pos, end, wire_type)
        if number == 1:
            name = text
        else:
            value = text
    if pos != end:
        raise Irregular
    into[name] = value


def _fast(entry_id: bytes, data: bytes, ts: int, with_trace: bool) -> JournalCommand:
    end: i64 = len(data)  # native ints, as in _place_order
    pos: i64 = 0
    number: i64 = 0
    wire_type: i64 = 0
    kind: i64 = 0
    body_start: i64 = 0
    body_end: i64 = 0
    reply_to = correlation_id = ""
    trace: dict[str, str] | None = None  # made at its first entry: most commands have none
    while pos < end:
        key: i64 = data[pos]
        if 8 <= key < 0x80:  # a one-byte key, as in _place_order
            number = key >> 3
            wire_type = key & 7
            pos += 1
        else:
            number, wire_type, pos = read_key(data, pos)
        if number <= 4 or number == 10 or number == 11 or number == 12:
            start: i64
            stop: i64
            if wire_type == LENGTH and data[pos] < 0x80:  # as in _read_symbol
                start = pos + 1
                stop = start + data[pos]
                if stop > end:
                    raise Irregular
            else:
                start, stop = read_length(data, pos, end, wire_type)
            if number <= 4:
                if kind:
                    raise Irregular  # a second command message: merged or replaced by the rules
                kind, body_start, body_end = number, start, stop
            elif number == 10:
                reply_to = data[start:stop].decode()
            elif number == 11:
                correlation_id = data[start:stop].decode()
            else:
                if trace is None:
                    trace = {}
                _map_entry(data, start, stop, trace)
            pos = stop
            continue
        if number == 5:
            raise Irregular  # an order list (alone or not): the official parser decides
        pos = skip_field(data, pos, wire_type)
    if pos != end or not kind:
        raise Irregular
    if kind == 1:
        command: Command = _place_order(data, body_start, body_end, ts)
    else:
        command = _order_ref(data, body_start, body_end, kind, ts)
    return JournalCommand(entry_id, command, reply_to, correlation_id, trace if with_trace else None)


def _official(entry_id: bytes, data: bytes, ts: int, with_trace: bool) -> JournalCommand:
    msg = cpb.Command.FromString(data)
    command = command_from_proto(msg, ts)
    trace = dict(msg.trace_context) if with_trace and msg.trace_context else None
    return JournalCommand(entry_id, command, msg.reply_to, msg.correlation_id, trace)


class _LastMs:
    """The milliseconds of the last entry id with 13 digits before its "-" (every id from 2001
    to 2286), keyed by those digits read as two (overlapping) 8-byte numbers: ids added in the
    same millisecond share them. `ms` is -1 until one was read."""

    def __init__(self) -> None:
        self.head: i64 = 0
        self.tail: i64 = 0
        self.ms: i64 = -1


_LAST_MS: Final = _LastMs()


def entry_ms(entry_id: bytes) -> int:
    """The milliseconds part of a stream entry id (`b"1700000000000-3"` -> 1700000000000)."""
    if len(entry_id) > 13 and entry_id[13] == 45:  # "-"
        head = read_i64_le(entry_id, 0)
        tail = read_i64_le(entry_id, 5)
        last = _LAST_MS
        if head == last.head and tail == last.tail and last.ms >= 0:
            return last.ms
        ms = _parse_ms(entry_id)
        last.head = head
        last.tail = tail
        last.ms = ms
        return ms
    return _parse_ms(entry_id)


def _parse_ms(entry_id: bytes) -> int:
    # Summed in a native 64-bit int (mypyc's tagged ints take their slow path to multiply a
    # number past 2**31); its first 18 digits cannot overflow it, longer ids go the long way.
    ms: i64 = 0
    for i in range(len(entry_id)):
        digit = entry_id[i]
        if digit == 45:  # "-"
            return ms
        if digit < 48 or digit > 57:
            raise ValueError(f"not a stream entry id: {entry_id!r}")
        if i == 18:  # more digits than an i64 surely holds
            head = entry_id.split(b"-", 1)[0]
            if not head.isdigit():
                raise ValueError(f"not a stream entry id: {entry_id!r}")
            return int(head)
        ms = ms * 10 + i64(digit - 48)
    return ms


def decode_command(entry_id: bytes, data: bytes, with_trace: bool = False) -> JournalCommand:
    """The journal entry `entry_id` holding `data` (a `Command` message); the command's `ts` is
    the entry's milliseconds. Raises what the official parser raises on bytes it refuses."""
    ts = entry_ms(entry_id)
    try:
        return _fast(entry_id, data, ts, with_trace)
    except (Irregular, IndexError, UnicodeDecodeError):
        return _official(entry_id, data, ts, with_trace)


def decode_commands(
    entries: Sequence[tuple[bytes, dict[bytes, bytes]] | list[Any]], with_trace: bool
) -> tuple[list[JournalCommand], list[Command]]:
    """`decode_command` of each journal entry (the message in field `c`), and the commands
    alone, in the same order. An entry is (id, fields) as redis-py converts it, or [id, [field,
    value, ...]] as Redis replies it (the value of the last `c` field, as the conversion keeps)."""
    journal: list[JournalCommand] = []
    commands: list[Command] = []
    for entry in entries:
        if isinstance(entry, list):  # as Redis replies it: read as a list, not a sequence
            reply: list[Any] = entry
            entry_id: bytes = reply[0]
            pairs: list[bytes] = reply[1]
            if len(pairs) == 2 and pairs[0] == b"c":  # the only field, as the gateway writes it
                data: bytes = pairs[1]
            else:
                data = _field(pairs, b"c")
        else:
            entry_id = entry[0]
            fields = entry[1]
            data = fields[b"c"] if isinstance(fields, dict) else _field(fields, b"c")
        jc = decode_command(entry_id, data, with_trace)
        journal.append(jc)
        commands.append(jc.command)
    return journal, commands


def _field(fields: list[bytes], name: bytes) -> bytes:
    """The value of the last field `name` of a flat [field, value, ...] list."""
    for i in range(len(fields) - 2, -1, -2):
        if fields[i] == name:
            return fields[i + 1]
    raise KeyError(name)


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
