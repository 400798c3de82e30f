"""The protobuf wire format carries every command and event unchanged."""

from exchange_core.protocol import (
    command_from_proto,
    command_to_proto,
    decode_events,
    encode_events,
    reply_for,
)
from exchange_proto import commands_pb2
from exchange_proto import events_pb2 as epb
from matching import (
    ContingencyType,
    ListStatus,
    MatchingEngine,
    OrderType,
    PlaceOrderList,
    Reason,
    Side,
    StpMode,
    TimeInForce,
)
from matching.commands import CancelAll, CancelOrder
from tests.corehelpers import SPEC, cancel, limit, market, stop


def test_commands_round_trip_with_their_journal_time() -> None:
    commands = [
        limit(1, 5, Side.BUY, 150, 2, tif=TimeInForce.IOC, cid="x", stp=StpMode.EXPIRE_BOTH, ts=77),
        market(2, 5, Side.SELL, quote=500, reserve=9, ts=77),
        cancel(5, cid="x", ts=77),
        CancelOrder("TSTUSD", 5, 3, "", 77),
        CancelAll("TSTUSD", 5, 77),
        stop(4, 5, Side.BUY, OrderType.STOP_LOSS_LIMIT, 160, 2, price=161, cid="s", ts=77),
    ]
    for command in commands:
        data = command_to_proto(command, reply_to="gw-1", correlation_id="c-9").SerializeToString()
        msg = commands_pb2.Command.FromString(data)
        assert (msg.reply_to, msg.correlation_id) == ("gw-1", "c-9")
        assert command_from_proto(msg, ts=77) == command


def test_events_of_a_busy_book_round_trip() -> None:
    engine = MatchingEngine(SPEC)
    events = []
    for i, (side, price) in enumerate([(Side.SELL, 150), (Side.SELL, 151), (Side.BUY, 149)]):
        events += engine.apply(limit(i + 1, 7, side, price, 3, cid=f"c{i}"))
    events += engine.apply(limit(9, 8, Side.BUY, 151, 4, tif=TimeInForce.IOC))
    events += engine.apply(limit(10, 7, Side.BUY, 151, 9, stp=StpMode.EXPIRE_TAKER))
    events += engine.apply(cancel(7, oid=3))
    events += engine.apply(cancel(8, oid=3))
    events += engine.apply(stop(11, 8, Side.SELL, OrderType.TAKE_PROFIT, 152, 1))
    events += engine.apply(limit(12, 7, Side.SELL, 152, 1))
    events += engine.apply(limit(13, 9, Side.BUY, 152, 4))
    kinds = {type(e).__name__ for e in events}
    assert {"OrderAccepted", "Trade", "OrderDone", "OrderExpired", "OrderCancelled", "BookDelta"} <= kinds
    assert {"CancelRejected", "OrderTriggered"} <= kinds
    symbol, decoded, command_id = decode_events(encode_events("TSTUSD", events, "1-0"))
    assert (symbol, command_id) == ("TSTUSD", "1-0")
    assert decoded == events


def _batch_of(seqs: list[int], refs: list[tuple[int, int]]) -> epb.EventBatch:
    batch = epb.EventBatch(symbol="BTCUSDT", command_id="1-0")
    for seq in seqs:
        batch.events.add(seq=seq, ts=seq * 10).order_cancelled.order_id = seq
    for i, (first, last) in enumerate(refs):
        batch.commands.add(
            command_id=f"1-{i}", reply_to="r", correlation_id=f"c{i}", first_seq=first, last_seq=last
        )
    return batch


def test_reply_for_carries_exactly_its_commands_events() -> None:
    for seqs, refs in (
        (list(range(5, 13)), [(5, 5), (6, 9), (10, 12)]),  # consecutive: sliced
        ([5, 6, 9, 10, 11], [(5, 6), (9, 11), (7, 8)]),  # a gap: filtered
    ):
        batch = _batch_of(seqs, refs)
        for ref in batch.commands:
            reply = epb.Reply.FromString(reply_for(batch, ref))
            assert reply.correlation_id == ref.correlation_id
            assert reply.batch.command_id == ref.command_id and reply.batch.symbol == "BTCUSDT"
            expected = [s for s in seqs if ref.first_seq <= s <= ref.last_seq]
            assert [e.seq for e in reply.batch.events] == expected
            assert [e.order_cancelled.order_id for e in reply.batch.events] == expected


def test_an_order_list_and_its_events_round_trip() -> None:
    members = (
        limit(1, 7, Side.SELL, 160, 3, maker_only=True, cid="a", ts=77),
        stop(2, 7, Side.SELL, OrderType.STOP_LOSS_LIMIT, 140, 3, price=139, cid="b", ts=77),
    )
    command = PlaceOrderList("TSTUSD", 7, "L", ContingencyType.OCO, members, 77)
    msg = commands_pb2.Command.FromString(command_to_proto(command).SerializeToString())
    assert command_from_proto(msg, ts=77) == command
    engine = MatchingEngine(SPEC)
    engine.apply(limit(90, 90, Side.SELL, 150, 1))
    engine.apply(market(91, 91, Side.BUY, qty=1, reserve=1000))
    events = engine.apply(command) + engine.apply(
        PlaceOrderList("TSTUSD", 7, "M", ContingencyType.OTO, members)
    )
    events += engine.apply(cancel(7, oid=2))
    statuses = [e for e in events if isinstance(e, ListStatus)]
    assert [(s.order_list_id, s.order_ids, s.reason) for s in statuses] == [
        (1, (1, 2), 0),
        (0, (1, 2), Reason.DUPLICATE_ORDER_ID),  # an OTO of the same members: both still open
        (1, (1, 2), 0),
    ]
    assert (statuses[1].release, statuses[1].pending_release) == (3, 3)
    assert decode_events(encode_events("TSTUSD", events, "1-0"))[1] == events
