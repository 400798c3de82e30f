"""The DB writer's wire reading of event entries gives exactly the rows the official protobuf
parser gives, and leaves to it what it cannot read."""

import struct

import pytest
from google.protobuf.message import DecodeError
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.db_bench import event_entries
from dbwriter.copyformat import decode_rows
from dbwriter.rows import ORDER_COLUMNS, TRADE_COLUMNS, HistoryRows
from dbwriter.scan import Scanned, parse_batch, scan_batch
from exchange_core.protowire import Irregular
from exchange_proto import events_pb2 as epb

int64s = st.integers(min_value=-(2**63), max_value=2**63 - 1)
uint64s = st.integers(min_value=0, max_value=2**64 - 1)
enums = st.integers(min_value=-(2**31), max_value=2**31 - 1)
texts = st.text(max_size=10)
times = st.integers(min_value=0, max_value=4_102_444_800_000)  # ms since the epoch, up to 2100

accepted = st.builds(
    epb.OrderAccepted, order_id=uint64s, user_id=uint64s, client_order_id=texts, side=enums,
    order_type=enums, time_in_force=enums, price=int64s, quantity=int64s, quote_quantity=int64s,
    reserve=int64s, stp_mode=enums, stop_price=int64s, trailing_delta=int64s, iceberg_qty=int64s,
    order_list_id=uint64s,
)  # fmt: skip
trade = st.builds(
    epb.Trade, trade_id=uint64s, price=int64s, quantity=int64s, quote_quantity=int64s, taker_side=enums,
    maker_order_id=uint64s, maker_user_id=uint64s, taker_order_id=uint64s, taker_user_id=uint64s,
    maker_fee=int64s, taker_fee=int64s, maker_filled=int64s, maker_filled_quote=int64s,
    taker_filled=int64s, taker_filled_quote=int64s,
)  # fmt: skip
done = st.builds(
    epb.OrderDone, order_id=uint64s, user_id=uint64s, client_order_id=texts, side=enums, status=enums,
    filled=int64s, filled_quote=int64s, release=int64s,
)  # fmt: skip
amended = st.builds(
    epb.OrderAmended, order_id=uint64s, user_id=uint64s, client_order_id=texts,
    orig_client_order_id=texts, side=enums, quantity=int64s, remaining=int64s, release=int64s,
    filled=int64s, filled_quote=int64s,
)  # fmt: skip
cancelled = st.builds(epb.OrderCancelled, order_id=uint64s, user_id=uint64s, client_order_id=texts)
expired = st.builds(
    epb.OrderExpired, order_id=uint64s, user_id=uint64s, client_order_id=texts,
    reason=st.sampled_from([306, 307]), remaining=int64s, prevented_match_id=uint64s,
    counter_order_id=uint64s, price=int64s, stp_mode=enums,
)  # fmt: skip
list_status = st.builds(epb.ListStatus, order_list_id=uint64s, order_ids=st.lists(uint64s, max_size=3))
# Small order ids, so that events of one order meet (an accepted order's later fills and end).
small_ids = st.integers(min_value=1, max_value=4)
kinds = st.one_of(
    accepted.map(lambda m: ("order_accepted", m)),
    trade.map(lambda m: ("trade", m)),
    done.map(lambda m: ("order_done", m)),
    amended.map(lambda m: ("order_amended", m)),
    cancelled.map(lambda m: ("order_cancelled", m)),
    expired.map(lambda m: ("order_expired", m)),
    list_status.map(lambda m: ("list_status", m)),
)


@st.composite
def events(draw: st.DrawFn) -> epb.Event:
    name, message = draw(kinds)
    for field in ("order_id", "maker_order_id", "taker_order_id"):
        if field in message.DESCRIPTOR.fields_by_name and draw(st.booleans()):
            setattr(message, field, draw(small_ids))
    event = epb.Event(seq=draw(uint64s), ts=draw(times))
    getattr(event, name).CopyFrom(message)
    return event


batches = st.builds(
    epb.EventBatch, symbol=st.sampled_from(["BTCUSDT", "ETHBTC", ""]), events=st.lists(events(), max_size=8),
    command_id=texts,
)  # fmt: skip


def scanned(data: bytes, parse: bool) -> tuple[str, int, list[tuple[object, ...]]]:
    """What the wire reading (or the parser) reads of an entry."""
    events: list[Scanned] = []
    symbol, count, read = (parse_batch if parse else scan_batch)(data, events)
    return symbol, count, [events[i].values() for i in range(read)]


Payloads = tuple[int, int, bytes, tuple[bytes, int, bytes, int]]


def payloads(entries: list[bytes], parse: bool) -> Payloads | str:
    """The rows of `entries` read by the wire reading (or the parser), or the error making them."""
    rows = HistoryRows()
    try:
        for data in entries:
            (rows.add_parsed if parse else rows.add_entry)(data)
        return rows.events, rows.trade_count, rows.trades_payload(), rows.orders_payloads()
    except struct.error as exc:  # a value out of its column's range
        return f"struct.error: {exc}"


def assert_same(entries: list[bytes]) -> None:
    for data in entries:
        try:
            fast = scanned(data, parse=False)
        except (Irregular, UnicodeDecodeError, IndexError):
            continue  # left to the parser
        assert fast == scanned(data, parse=True)
    assert payloads(entries, parse=False) == payloads(entries, parse=True)


def test_an_engine_workloads_entries_give_the_parsers_rows() -> None:
    entries, trades, accepted_orders = event_entries(20_000)
    for data in entries[:50]:  # the wire reading takes them itself: nothing is left to the parser
        symbol, count, _ = scanned(data, parse=False)
        assert (symbol, count) == ("BTCUSDT", len(epb.EventBatch.FromString(data).events))
    assert_same(entries)
    rows = HistoryRows()
    for data in entries:
        rows.add_entry(data)
    new_orders, new_count, known_orders, known_count = rows.orders_payloads()
    assert rows.trade_count == len(decode_rows(rows.trades_payload(), TRADE_COLUMNS)) == trades > 0
    assert new_count == len(decode_rows(new_orders, ORDER_COLUMNS)) == accepted_orders
    assert known_count == len(decode_rows(known_orders, ORDER_COLUMNS)) == 0


@settings(max_examples=300, deadline=None)
@given(st.lists(batches, min_size=1, max_size=3))
def test_any_batches_give_the_parsers_rows(generated: list[epb.EventBatch]) -> None:
    assert_same([batch.SerializeToString() for batch in generated])


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def length_field(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def test_forms_left_to_the_parser_give_its_rows() -> None:
    done = epb.Event(seq=7, ts=9, order_done=epb.OrderDone(order_id=1, client_order_id="a", status=3))
    later_done = epb.Event(order_done=epb.OrderDone(order_id=1, filled=5))
    trade = epb.Event(trade=epb.Trade(trade_id=5, maker_order_id=1, taker_order_id=2, maker_filled=5))
    symbol = length_field(1, b"BTCUSDT")
    cases = [
        # two oneof members in one event: the last one wins
        symbol + length_field(2, done.SerializeToString() + trade.SerializeToString()),
        # the same member twice: the two messages are merged
        symbol + length_field(2, done.SerializeToString() + later_done.SerializeToString()),
        # unknown fields: a fixed32 and a fixed64 in an event, a length-delimited one in the batch
        symbol
        + length_field(
            2, done.SerializeToString() + varint(30 << 3 | 5) + b"abcd" + varint(31 << 3 | 1) + b"12345678"
        )
        + length_field(100, b"anything"),
        # a field of the read message sent with another wire type (the parser keeps it as unknown)
        symbol + length_field(2, length_field(16, length_field(5, b"x"))),
    ]
    for data in cases:
        fast, parsed = payloads([data], parse=False), payloads([data], parse=True)
        assert fast == parsed and not isinstance(fast, str) and fast[0] == 1


@pytest.mark.parametrize(
    "data",
    [
        epb.EventBatch(symbol="BTCUSDT", events=[epb.Event(trade=epb.Trade(trade_id=1))]).SerializeToString()[
            :-2
        ],
        b"\x0a\x02\xff\xfe",  # a symbol that is not UTF-8
        b"\x13\x00",  # a group
    ],
)
def test_bytes_the_parser_refuses_are_refused_the_same(data: bytes) -> None:
    with pytest.raises(DecodeError):
        HistoryRows().add_parsed(data)
    with pytest.raises(DecodeError):
        HistoryRows().add_entry(data)
