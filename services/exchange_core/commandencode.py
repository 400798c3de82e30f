"""Fast encoding of the order path's journal entries (cmd:{SYMBOL}): a new order's `Command`
written by hand, compiled by mypyc with the core.

Gives the bytes protobuf's SerializeToString gives for
`exchange_core.protocol.command_to_proto(place_order, reply_to, correlation_id)` without a trace
context (proto3: fields in number order, zeros and empty strings left out, the command message
always present), without building protobuf objects; tests/unit/test_commandencode.py holds the
two equal. A value outside what it writes (a negative number or one past 2^63-1, an enum past
2^31-1, a string that is not valid Unicode) gives None: the official encoder then decides, and
raises what it raises.
"""

from matching.commands import PlaceOrder

_MAX_INT = (1 << 63) - 1
_MAX_ENUM = (1 << 31) - 1


class _Unwritable(Exception):
    pass


def _varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _number(out: bytearray, key: int, value: int, most: int) -> None:
    """Field `key` (its tag byte) holding the non-negative `value` (at most `most`); nothing for 0."""
    if value == 0:
        return
    if value < 0 or value > most:
        raise _Unwritable
    out.append(key)
    _varint(out, value)


def _text(out: bytearray, key: int, value: str) -> None:
    """Field `key` (its tag byte) holding `value` as UTF-8; nothing for ""."""
    if not value:
        return
    try:
        data = value.encode()
    except UnicodeEncodeError:
        raise _Unwritable from None
    out.append(key)
    _varint(out, len(data))
    out += data


def encode_place_order(command: PlaceOrder, reply_to: str, correlation_id: str) -> bytes | None:
    """Command{place_order: `command`, reply_to, correlation_id} as protobuf serializes it (see
    the module); None when a value is outside what this writes."""
    try:
        body = bytearray()
        _text(body, 0x0A, command.symbol)  # field 1, length-delimited
        _number(body, 0x10, int(command.order_id), _MAX_INT)  # 2, varint
        _number(body, 0x18, int(command.user_id), _MAX_INT)
        _number(body, 0x20, int(command.side), _MAX_ENUM)
        _number(body, 0x28, int(command.order_type), _MAX_ENUM)
        _number(body, 0x30, int(command.time_in_force), _MAX_ENUM)
        _number(body, 0x38, int(command.price), _MAX_INT)
        _number(body, 0x40, int(command.quantity), _MAX_INT)
        _number(body, 0x48, int(command.quote_quantity), _MAX_INT)
        _number(body, 0x50, int(command.reserve), _MAX_INT)
        _number(body, 0x58, int(command.stp_mode), _MAX_ENUM)
        _text(body, 0x62, command.client_order_id)  # 12
        _number(body, 0x68, int(command.stop_price), _MAX_INT)
        _number(body, 0x70, int(command.trailing_delta), _MAX_INT)
        _number(body, 0x78, int(command.iceberg_qty), _MAX_INT)
        out = bytearray(b"\x0a")  # Command field 1: place_order
        _varint(out, len(body))
        out += body
        _text(out, 0x52, reply_to)  # 10
        _text(out, 0x5A, correlation_id)  # 11
    except _Unwritable:
        return None
    return bytes(out)
