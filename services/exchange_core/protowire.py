"""Reading protobuf's wire format by hand, for the hot paths that decode without building protobuf
objects (exchange_core.commandwire, dbwriter.rows, settlement.scan): varints, keys, skipping unknown
fields and strings, an events.proto Event's envelope, compiled by mypyc with their users. Anything
outside the forms a proto3 encoder writes raises Irregular, and the caller hands the bytes to the
official parser, which decides.
"""

from typing import Final

from mypy_extensions import i64

VARINT: Final = 0
FIXED64: Final = 1
LENGTH: Final = 2
FIXED32: Final = 5

U64: Final = (1 << 64) - 1
INT64_SIGN: Final = 1 << 63
SMALL: Final = (1 << 62) - 1  # the largest of mypyc's unboxed ints


class Irregular(Exception):
    """A form the fast path leaves to the official parser."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, position after it) of the varint at `pos`, as an unsigned 64-bit number."""
    byte = data[pos]
    if byte < 0x80:
        return byte, pos + 1
    # The first nine bytes (63 bits) in native 64-bit arithmetic, index included, without
    # mypyc's tagged ints.
    value: i64 = byte & 0x7F
    shift: i64 = 7
    at: i64 = pos + 1
    while shift < 63:
        part: i64 = data[at]
        at += 1
        value |= (part & 0x7F) << shift
        if part < 0x80:
            return value, at
        shift += 7
    # A tenth byte carries bit 63 (and bits past 64, dropped); an eleventh is irregular.
    byte = data[at]
    if byte >= 0x80:
        raise Irregular
    return (int(value) | (byte << 63)) & U64, at + 1


def read_key(data: bytes, pos: int) -> tuple[int, int, int]:
    """(field number, wire type, position after the key) of the key at `pos`."""
    byte = data[pos]
    if byte < 0x80:  # field numbers 1-15: one byte, read here without read_varint's call
        if byte < 8:
            raise Irregular
        return byte >> 3, byte & 7, pos + 1
    value, pos = read_varint(data, pos)
    if value < 8 or value > 0xFFFFFFFF:
        raise Irregular
    return value >> 3, value & 7, pos


def as_int64(value: int) -> int:
    if value < SMALL:  # the common case, compared without mypyc's slow path for big constants
        return value
    return value - (1 << 64) if value >= INT64_SIGN else value


def as_enum(value: int) -> int:
    """An enum field's varint as protobuf keeps it: an int32."""
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def skip_field(data: bytes, pos: int, wire_type: int) -> int:
    """The position after an unknown field's value."""
    if wire_type == VARINT:
        return read_varint(data, pos)[1]
    if wire_type == LENGTH:
        size, pos = read_varint(data, pos)
        end = pos + size
        if end > len(data):
            raise Irregular
        return end
    if wire_type == FIXED64:
        pos += 8
    elif wire_type == FIXED32:
        pos += 4
    else:
        raise Irregular
    if pos > len(data):
        raise Irregular
    return pos


def read_int(data: bytes, pos: int, wire_type: int) -> tuple[int, int]:
    """(value, position after it) of a varint field's value at `pos`, as read_varint; Irregular
    unless the field's `wire_type` is VARINT."""
    if wire_type != VARINT:
        raise Irregular
    return read_varint(data, pos)


def read_length(data: bytes, pos: int, end: int, wire_type: int) -> tuple[int, int]:
    """(start, stop) of the bytes of a length-delimited field whose length is at `pos`;
    Irregular unless the field's `wire_type` is LENGTH and its bytes end by `end`."""
    if wire_type != LENGTH:
        raise Irregular
    size = data[pos]
    if size < 0x80:  # a length under 128: one byte, read here without read_varint's call
        start = pos + 1
    else:
        size, start = read_varint(data, pos)
    stop = start + size
    if stop > end:
        raise Irregular
    return start, stop


def read_text(data: bytes, pos: int, end: int, wire_type: int) -> tuple[str, int]:
    """(string, position after it) of a length-delimited field whose length is at `pos`, as
    read_length."""
    start, stop = read_length(data, pos, end, wire_type)
    return data[start:stop].decode(), stop


def read_event(data: bytes, pos: int, end: int, members: frozenset[int]) -> tuple[int, int, int, int, int]:
    """(seq, ts, kind, start, stop) of the events.proto Event at data[pos:end]: `kind` is the
    number of its oneof field set (0: none), whose message is data[start:stop]; `members` are the
    numbers of every field of the oneof (dbwriter.scan, settlement.scan)."""
    seq = ts = kind = start = stop = 0
    while pos < end:
        number, wire_type, pos = read_key(data, pos)
        if number == 1 or number == 2:
            value, pos = read_int(data, pos, wire_type)
            if number == 1:
                seq = value
            else:
                ts = as_int64(value)
        elif number in members:
            if kind:  # a second member: the parser's merge rules decide
                raise Irregular
            start, stop = read_length(data, pos, end, wire_type)
            kind = number
            pos = stop
        else:
            pos = skip_field(data, pos, wire_type)
    if pos != end:
        raise Irregular
    return seq, ts, kind, start, stop
