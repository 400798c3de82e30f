"""The fast event encoder writes exactly what the official protobuf encoder writes."""

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_core.protocol import event_to_proto
from exchange_core.wire import EventBatchWriter, encode_batch, encode_event, encode_market_data, encode_reply
from exchange_proto import events_pb2 as epb
from matching import (
    BookDelta,
    Event,
    ListStatus,
    MatchingEngine,
    OrderAccepted,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    Side,
    StpMode,
    Trade,
)
from tests.corehelpers import SPEC, limit
from tests.property.strategies import commands

ints = st.integers(min_value=-(2**62), max_value=2**62)


@settings(max_examples=300, deadline=None)
@given(commands())
def test_every_event_of_random_commands_encodes_byte_equal(cmds: list[object]) -> None:
    engine = MatchingEngine(SPEC)
    for c in cmds:
        events = engine.apply(c)  # type: ignore[arg-type]
        for e in events:
            assert encode_event(e) == event_to_proto(e).SerializeToString()
        official = epb.EventBatch(symbol="TSTUSD", command_id="5-1")
        official.events.extend(event_to_proto(e) for e in events)
        ours = encode_batch("TSTUSD", [encode_event(e) for e in events], "5-1")
        assert ours == official.SerializeToString()
        writer = EventBatchWriter("TSTUSD")
        for e in events:
            writer.add(e)
        refs = [b"ref-1", b""]
        written = writer.finish("5-1", refs)
        assert written == encode_batch("TSTUSD", [encode_event(e) for e in events], "5-1", refs)
        assert writer.events == len(events)
        assert writer.trades(written) == [encode_event(e) for e in events if isinstance(e, Trade)]
        assert (
            encode_reply("c-1", ours) == epb.Reply(correlation_id="c-1", batch=official).SerializeToString()
        )


def test_order_list_events_encode_byte_equal() -> None:
    events: list[Event] = [
        OrderAccepted(5, 9, 1, 7, "a", 2, 2, 1, 160, 3, 0, 3, 0, 0, 0, 0, 41),
        ListStatus(6, 9, 41, 7, "L", 1, 2, 1, (1, 2**40)),
        ListStatus(7, 9, 0, 7, "", 2, 1, 3, (), 119, 300),
    ]
    for e in events:
        assert encode_event(e) == event_to_proto(e).SerializeToString()


uint64s = st.integers(min_value=0, max_value=2**64 - 1)


@given(uint64s, uint64s, ints, ints, st.integers(min_value=0, max_value=3), st.sampled_from([306, 307, 0]))
def test_self_trade_expiries_encode_byte_equal(
    match_id: int, counter: int, price: int, remaining: int, stp: int, reason: int
) -> None:
    event = OrderExpired(7, 9, 3, 5, "c", reason, remaining, match_id, counter, price, stp)
    assert encode_event(event) == event_to_proto(event).SerializeToString()
    writer = EventBatchWriter("TSTUSD")
    writer.add(event)
    assert writer.finish("1-1", []) == encode_batch("TSTUSD", [encode_event(event)], "1-1")
    decoded = epb.Event.FromString(encode_event(event)).order_expired
    assert (decoded.prevented_match_id, decoded.counter_order_id, decoded.price, decoded.stp_mode) == (
        match_id, counter, price, stp)  # fmt: skip


def test_an_engines_self_trade_expiries_encode_byte_equal() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, Side.SELL, 150, 2))
    events = engine.apply(limit(2, 5, Side.BUY, 150, 3, stp=StpMode.EXPIRE_BOTH))
    expired = [e for e in events if isinstance(e, OrderExpired)]
    assert [(e.prevented_match_id, e.counter_order_id, e.price) for e in expired] == [
        (1, 2, 150),
        (1, 1, 150),
    ]
    for e in events:
        assert encode_event(e) == event_to_proto(e).SerializeToString()


@given(ints, ints, st.lists(st.tuples(ints, ints), max_size=3))
def test_market_data_and_negative_numbers(first: int, ts: int, levels: list[tuple[int, int]]) -> None:
    first = abs(first)
    official = epb.MarketData(symbol="X", first_seq=first, last_seq=first + 3, ts=ts)
    for p, q in levels:
        official.bids.add(price=p, quantity=q)
    for p, q in levels[::-1]:
        official.asks.add(price=p, quantity=q)
    ours = encode_market_data("X", first, first + 3, ts, [], tuple(levels), tuple(levels[::-1]))
    assert ours == official.SerializeToString()


def test_batch_writer_takes_events_longer_than_a_one_byte_length() -> None:
    big = 2**62
    events: list[Event] = [
        Trade(1, 2, big, big, big, big, 1, *([big] * 10)),
        BookDelta(3, 4, tuple((big - i, big) for i in range(9)), ()),
        Trade(5, 6, *range(1, 16)),
    ]
    writer = EventBatchWriter("X")
    for e in events:
        writer.add(e)
    written = writer.finish("1-0", [])
    official = epb.EventBatch(symbol="X", command_id="1-0")
    official.events.extend(event_to_proto(e) for e in events)
    assert written == official.SerializeToString()
    assert writer.trades(written) == [encode_event(events[0]), encode_event(events[2])]


def test_varints_either_side_of_the_native_fast_path() -> None:
    """Numbers up to 2**62 - 1 take the i64 loop, the others the general one: both byte-equal."""
    edges = [0, 1, 127, 128, 2**31, 2**62 - 2, 2**62 - 1, 2**62, 2**63 - 1]
    int64s = [*edges, -1, -128, -(2**62), -(2**62) - 1, -(2**63)]
    for value in int64s:
        official = epb.MarketData(symbol="X", first_seq=1, last_seq=2, ts=value)
        official.bids.add(price=value, quantity=value)
        assert encode_market_data("X", 1, 2, value, [], ((value, value),), ()) == official.SerializeToString()
    for value in [*edges, 2**63, 2**64 - 1]:
        event = OrderExpired(7, 9, 3, 5, "c", 306, 1, value, value, 2, 1)
        assert encode_event(event) == event_to_proto(event).SerializeToString()


def test_frequent_events_either_side_of_each_varint_store() -> None:
    """The hand-written events' fields as one byte, packed (below 2**49) and byte by byte (the
    rest, negative numbers too), in encode_event and in the batch writer, byte-equal."""
    values = [1, 127, 128, 2**14 - 1, 2**14, 2**35, 2**49 - 1, 2**49, 2**56, 2**62 - 1, 2**62, 2**63 - 1]
    for value in [*values, -1, -(2**63)]:
        uvalue = value % 2**64  # the uint64 fields
        events: list[Event] = [
            Trade(uvalue, value, uvalue, value, value, value, 1, *([uvalue] * 4), *([value] * 6)),
            OrderAccepted(
                uvalue, value, uvalue, uvalue, "c", 1, 1, 1, *([value] * 4), 1, value, value, value, uvalue
            ),
            OrderDone(uvalue, value, uvalue, uvalue, "c", 1, 2, value, value, value),
            OrderCancelled(uvalue, value, uvalue, uvalue, "", value),
            BookDelta(uvalue, value, ((value, value),), ((value, 1), (1, value))),
        ]
        writer = EventBatchWriter("X")
        for e in events:
            assert encode_event(e) == event_to_proto(e).SerializeToString()
            writer.add(e)
        written = writer.finish("1-0", [])
        official = epb.EventBatch(symbol="X", command_id="1-0")
        official.events.extend(event_to_proto(e) for e in events)
        assert written == official.SerializeToString()
        assert writer.trades(written) == [encode_event(events[0])]


def test_texts_of_a_one_byte_length_and_longer_and_repeated() -> None:
    """A string field's key and length in one store (under 128 bytes) or as varints, and the
    last string's bytes reused for the same object only."""
    texts = ["c", "c" * 127, "c" * 128, "ü" * 64, "ü" * 63, "x" * 300]
    for text in [*texts, *texts[::-1]]:
        events: list[Event] = [
            OrderAccepted(1, 2, 3, 4, text, 1, 1, 1, 5, 6, 0, 30, 0),
            OrderCancelled(3, 2, 3, 4, text, 6),
            OrderDone(4, 2, 3, 4, text[::-1], 1, 4, 0, 0, 30),
        ]
        writer = EventBatchWriter(text)
        for e in events:
            assert encode_event(e) == event_to_proto(e).SerializeToString()
            writer.add(e)
        official = epb.EventBatch(symbol=text, command_id=text)
        official.events.extend(event_to_proto(e) for e in events)
        assert writer.finish(text, []) == official.SerializeToString()


def test_a_ts_repeated_changed_zero_or_negative_in_the_batch_writer() -> None:
    """The batch writer reuses the last ts's bytes for the same ts only (the packed ones, at most
    eight bytes with the key): byte-equal whatever the sequence."""
    stamps = [5, 5, 2**40, 2**40, 0, 0, 3, -1, -1, 2**49 - 1, 2**49 - 1, 2**49, 2**49, 128, 128, 2**40]
    events: list[Event] = [OrderCancelled(i + 1, ts, 3, 4, "c", 6) for i, ts in enumerate(stamps)]
    writer = EventBatchWriter("X")
    for e in events:
        writer.add(e)
    official = epb.EventBatch(symbol="X", command_id="1-0")
    official.events.extend(event_to_proto(e) for e in events)
    assert writer.finish("1-0", []) == official.SerializeToString()
