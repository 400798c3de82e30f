"""The fast journal decoder reads exactly what the official protobuf parser reads, and refuses
what it refuses."""

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_core.commandwire import JournalCommand, decode_command, decode_commands, entry_ms
from exchange_core.protocol import ProtocolError, command_from_proto, command_to_proto, encode_command
from exchange_proto import commands_pb2 as cpb
from matching import (
    AmendOrder,
    CancelAll,
    CancelOrder,
    Command,
    OrderType,
    PlaceOrder,
    Side,
    StpMode,
    TimeInForce,
)
from tests.property.strategies import commands

ENTRY = b"1700000000123-4"
int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
uint64s = st.integers(min_value=0, max_value=2**64 - 1)
int32s = st.integers(min_value=-(2**31), max_value=2**31 - 1)
texts = st.text(max_size=12)


def official(entry_id: bytes, data: bytes, with_trace: bool = False) -> tuple[object, ...]:
    msg = cpb.Command.FromString(data)
    trace = dict(msg.trace_context) if with_trace and msg.trace_context else None
    return command_from_proto(msg, entry_ms(entry_id)), msg.reply_to, msg.correlation_id, trace


def fast(entry_id: bytes, data: bytes, with_trace: bool = False) -> tuple[object, ...]:
    jc = decode_command(entry_id, data, with_trace)
    assert jc.entry_id == entry_id
    return jc.command, jc.reply_to, jc.correlation_id, jc.trace_context


@st.composite
def any_command(draw: st.DrawFn) -> Command:
    """Every command kind with every field over its whole protobuf range."""
    kind = draw(st.sampled_from(["place", "cancel", "all", "amend"]))
    if kind == "place":
        return PlaceOrder(
            draw(texts), draw(uint64s), draw(uint64s), draw(int32s), draw(int32s), draw(int32s),
            draw(int64s), draw(int64s), draw(int64s), draw(int64s), draw(int32s), draw(texts), 0,
            draw(int64s), draw(int64s), draw(int64s),
        )  # fmt: skip
    if kind == "cancel":
        return CancelOrder(draw(texts), draw(uint64s), draw(uint64s), draw(texts))
    if kind == "all":
        return CancelAll(draw(texts), draw(uint64s))
    return AmendOrder(draw(texts), draw(uint64s), draw(uint64s), draw(texts), draw(texts), draw(int64s))


@settings(max_examples=400)
@given(any_command(), texts, texts, st.dictionaries(texts, texts, max_size=3), st.booleans())
def test_every_command_decodes_as_the_official_parser_reads_it(
    command: Command, reply_to: str, correlation_id: str, trace: dict[str, str], with_trace: bool
) -> None:
    data = command_to_proto(command, reply_to, correlation_id, trace).SerializeToString()
    assert fast(ENTRY, data, with_trace) == official(ENTRY, data, with_trace)


@settings(max_examples=25)
@given(commands())
def test_the_core_workload_decodes_unchanged_with_the_entry_time(cmds: list[Command]) -> None:
    entries = [
        (f"1700000000{i:03d}-{i}".encode(), {b"c": encode_command(c, "gw", f"c{i}")})
        for i, c in enumerate(cmds)
    ]
    decoded, alone = decode_commands(entries, False)
    assert [jc.entry_id for jc in decoded] == [entry_id for entry_id, _ in entries]
    assert alone == [jc.command for jc in decoded]
    for (entry_id, fields), jc in zip(entries, decoded, strict=True):
        assert (jc.command, jc.reply_to, jc.correlation_id, jc.trace_context) == official(
            entry_id, fields[b"c"]
        )
        assert jc.command.ts == entry_ms(entry_id)


@settings(max_examples=25)
@given(commands(), st.lists(st.binary(max_size=4), max_size=4))
def test_entries_as_redis_replies_them_decode_as_converted_ones(
    cmds: list[Command], other: list[bytes]
) -> None:
    """[id, [field, value, ...]] (XREAD's reply as it came) decodes as redis-py's (id, dict) of
    the same fields: the value of the last `c` field, other fields ignored."""
    converted, replied = [], []
    for i, c in enumerate(cmds):
        entry_id = f"1700000000{i:03d}-{i}".encode()
        fields = [
            b"x",
            b"1",
            *[f for value in other for f in (b"c", value)],
            b"c",
            encode_command(c, "gw", f"c{i}"),
        ]
        replied.append([entry_id, fields])
        converted.append((entry_id, {fields[j]: fields[j + 1] for j in range(0, len(fields), 2)}))
    ours, commands_alone = decode_commands(replied, False)
    theirs, _ = decode_commands(converted, False)
    assert commands_alone == [jc.command for jc in theirs]
    assert [(jc.entry_id, jc.reply_to, jc.correlation_id) for jc in ours] == [
        (jc.entry_id, jc.reply_to, jc.correlation_id) for jc in theirs
    ]


@st.composite
def unknown_field(draw: st.DrawFn) -> bytes:
    """Fields of numbers no message here uses, of every wire type protobuf skips."""
    number = draw(st.integers(min_value=16, max_value=2**20))
    wire = draw(st.sampled_from([0, 1, 2, 5]))
    out = bytearray()
    value = (number << 3) | wire
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    if wire == 0:
        out += b"\x96\x01"
    elif wire == 1:
        out += bytes(8)
    elif wire == 5:
        out += bytes(4)
    else:
        out += b"\x03abc"
    return bytes(out)


@settings(max_examples=300)
@given(st.data())
def test_unknown_fields_repeated_scalars_and_odd_forms_read_as_the_official_parser_does(
    data: st.DataObject,
) -> None:
    command = data.draw(any_command())
    first = command_to_proto(command, "gw", "c1").SerializeToString()
    parts = [first]
    for _ in range(data.draw(st.integers(min_value=0, max_value=3))):
        choice = data.draw(st.sampled_from(["unknown", "reply", "command", "wrong-type"]))
        if choice == "unknown":
            parts.append(data.draw(unknown_field()))
        elif choice == "reply":  # a scalar again: the last value wins
            parts.append(cpb.Command(reply_to=data.draw(texts)).SerializeToString())
        elif choice == "command":  # a second command message: merged or replaced
            parts.append(command_to_proto(data.draw(any_command())).SerializeToString())
        else:  # reply_to as a varint: an unknown field to protobuf
            parts.append(b"\x50\x07")
    blob = b"".join(data.draw(st.permutations(parts)))
    assert fast(ENTRY, blob) == official(ENTRY, blob)


@settings(max_examples=300)
@given(any_command(), st.data())
def test_damaged_bytes_are_refused_or_read_as_the_official_parser_does(
    command: Command, data: st.DataObject
) -> None:
    blob = bytearray(command_to_proto(command, "gw", "c1", {"traceparent": "00-ab"}).SerializeToString())
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        at = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
        blob[at] = data.draw(st.integers(min_value=0, max_value=255))
    blob = blob[: data.draw(st.integers(min_value=0, max_value=len(blob)))]
    try:
        expected: object = official(ENTRY, bytes(blob), True)
    except (DecodeError, ProtocolError) as exc:
        expected = type(exc)
    try:
        got: object = fast(ENTRY, bytes(blob), True)
    except (DecodeError, ProtocolError) as exc:
        got = type(exc)
    assert got == expected


def test_a_trace_entry_with_an_unknown_field_is_read_as_the_official_parser_does() -> None:
    """Found by hypothesis: a map entry whose value's tag was damaged into field 10."""
    command = PlaceOrder(
        "BTCUSDT", 7, 3, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, 100, 2, 0, 200, StpMode.NONE, "x"
    )
    blob = command_to_proto(command, "gw", "c1", {"traceparent": "00-ab"}).SerializeToString()
    damaged = blob.replace(b"traceparent\x12\x05", b"traceparent\x52\x05")
    assert damaged != blob
    assert fast(ENTRY, damaged, True) == official(ENTRY, damaged, True)


def test_a_command_without_a_kind_is_refused_as_before() -> None:
    with pytest.raises(ProtocolError):
        decode_command(ENTRY, cpb.Command(reply_to="gw").SerializeToString())


def test_trace_context_is_read_only_when_asked_for() -> None:
    command = PlaceOrder(
        "BTCUSDT", 7, 3, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, 100, 2, 0, 200, StpMode.NONE, "x"
    )
    data = command_to_proto(command, "gw", "c", {"traceparent": "00-1-2-01", "b": ""}).SerializeToString()
    assert decode_command(ENTRY, data).trace_context is None
    traced = decode_command(ENTRY, data, True)
    assert isinstance(traced, JournalCommand)
    assert traced.trace_context == {"traceparent": "00-1-2-01", "b": ""}
    assert traced.command == PlaceOrder(
        "BTCUSDT",
        7,
        3,
        Side.BUY,
        OrderType.LIMIT,
        TimeInForce.GTC,
        100,
        2,
        0,
        200,
        StpMode.NONE,
        "x",
        1700000000123,
    )


def test_entry_ms_reads_the_milliseconds_of_an_entry_id() -> None:
    assert entry_ms(b"1700000000000-3") == 1700000000000
    assert entry_ms(b"0-0") == 0
    assert entry_ms(b"999999999999999999-1") == 999_999_999_999_999_999
    assert entry_ms(b"18446744073709551615-0") == 2**64 - 1  # Redis's largest id
    for wrong in (b"1234567890123456789x-1", b"12345678901234567890x"):
        with pytest.raises(ValueError):
            entry_ms(wrong)
    with pytest.raises(ValueError):
        entry_ms(b"17x-1")


def test_a_symbol_read_like_the_last_one_is_compared_byte_by_byte() -> None:
    """The last symbol's text is reused only for the same bytes: symbols of the same length,
    one a prefix of another, empty, non-ASCII, and invalid UTF-8 after a valid one."""
    symbols = ["BTCUSDT", "BTCUSDT", "ETHUSDT", "BTCXSDT", "BTCUSDX", "BTCUSD", "BTCUSDTT", "BTCUXDTT", ""]
    symbols += ["BTCUSDT", "ÄBCUSD", "ÄBCUSD", "ABCDEFGHIJ", "ABCDEFGHIJ", "ABCDEXGHIJ", "AB", "AB", "AC"]
    for symbol in symbols:
        for command in (
            PlaceOrder(
                symbol, 1, 2, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, 5, 6, 0, 30, StpMode.NONE, "c"
            ),
            CancelOrder(symbol, 2, 1, "c"),
        ):
            data = encode_command(command)
            assert fast(ENTRY, data) == official(ENTRY, data)
            decoded = decode_command(ENTRY, data).command
            assert isinstance(decoded, (PlaceOrder, CancelOrder)) and decoded.symbol == symbol
    good = encode_command(CancelOrder("BTCUSDT", 2, 1))
    bad = good.replace(b"BTCUSDT", b"BTCUSD\xff")
    assert decode_command(ENTRY, good).command == CancelOrder("BTCUSDT", 2, 1, "", 1700000000123)
    with pytest.raises(DecodeError):
        decode_command(ENTRY, bad)
    assert decode_command(ENTRY, good).command == CancelOrder("BTCUSDT", 2, 1, "", 1700000000123)


def test_entry_ms_of_ids_of_the_same_millisecond_and_not() -> None:
    """The last id's milliseconds are reused only for the same 13 digits before a "-"."""
    ids = [b"1700000000000-0", b"1700000000000-1", b"1700000000001-0", b"1700000000000-2", b"2700000000000-0"]
    for entry_id in ids:
        assert entry_ms(entry_id) == int(entry_id.split(b"-")[0])
    assert entry_ms(b"17000000000000-0") == 17000000000000
    assert entry_ms(b"170000000000-0") == 170000000000
    for wrong in (b"170000000000x-1", b"\x00" * 13 + b"-1", b"1700000000000x1"):
        entry_ms(b"1700000000000-0")
        with pytest.raises(ValueError):
            entry_ms(wrong)


def test_varints_of_every_length_read_as_the_official_parser_reads_them() -> None:
    # Each side of every varint length up to 2**63 - 1 (nine bytes), first and last number field.
    edges = {v for k in range(1, 10) for v in (2 ** (7 * k) - 1, 2 ** (7 * k)) if v < 2**63}
    for value in sorted(edges | {2**63 - 1}):
        for reserve in (value, 1):
            place = PlaceOrder("BTCUSDT", value, 7, Side.BUY, OrderType.LIMIT, TimeInForce.GTC,
                               value, value, 0, reserve, StpMode.NONE, "")  # fmt: skip
            data = encode_command(place)
            assert fast(ENTRY, data) == official(ENTRY, data)
