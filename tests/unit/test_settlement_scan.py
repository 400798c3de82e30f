"""settlement.scan reads an evt:{SYMBOL} entry's events as the official parser does
(exchange_core.protocol.events_from_protos, book deltas skipped), or leaves the entry to it."""

import pytest
from google.protobuf.message import DecodeError
from hypothesis import HealthCheck, given, settings

from exchange_core.protocol import encode_events, events_from_protos
from exchange_core.protowire import Irregular
from exchange_proto import events_pb2 as epb
from matching import Command, ListStatus, MatchingEngine, OrderAmended, OrderExpired, Side, StpMode
from settlement.scan import read_events
from tests.corehelpers import SPEC, SYMBOL, limit
from tests.property.strategies import commands

LEFT_TO_THE_PARSER = (Irregular, UnicodeDecodeError, IndexError, ValueError)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands())
def test_each_commands_events_read_from_bytes_are_the_parsers(cmds: list[Command]) -> None:
    engine = MatchingEngine(SPEC)
    for i, command in enumerate(cmds):
        data = encode_events(SYMBOL, engine.apply(command), f"{i}-0")
        expected = events_from_protos(epb.EventBatch.FromString(data).events, {"book_delta"})
        events: list[object] = ["before"]
        try:
            read_events(data, events)  # type: ignore[arg-type]
        except Irregular:
            # only the kinds with a repeated field or another field order go to the parser
            assert any(type(e) in (ListStatus, OrderAmended) for e in expected)
            assert events == ["before"]
            continue
        assert events == ["before", *expected]


@pytest.mark.parametrize("mode", [StpMode.EXPIRE_TAKER, StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH])
def test_self_trade_prevention_expiries_are_read_as_the_parser_reads_them(mode: StpMode) -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 7, Side.SELL, 150, 2))
    data = encode_events(SYMBOL, engine.apply(limit(2, 7, Side.BUY, 150, 3, stp=mode)), "1-0")
    read_events(data, events := [])
    assert events == events_from_protos(epb.EventBatch.FromString(data).events, {"book_delta"})
    expired = [e for e in events if isinstance(e, OrderExpired)]
    assert expired and all((e.prevented_match_id, e.counter_order_id, e.price) != (0, 0, 0) for e in expired)
    assert {int(e.stp_mode) for e in expired} == {int(mode)}


def test_a_cut_entry_is_read_as_the_parser_reads_it_or_left_to_it() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 7, Side.SELL, 150, 2))
    data = encode_events(SYMBOL, engine.apply(limit(2, 8, Side.BUY, 150, 2)), "1-0")
    read_events(data, whole := [])
    assert len(whole) == 4  # accepted, trade, two orders done
    read = 0
    for cut in range(len(data)):
        try:
            parsed = events_from_protos(epb.EventBatch.FromString(data[:cut]).events, {"book_delta"})
        except DecodeError:
            parsed = None
        try:
            read_events(data[:cut], events := [])
        except LEFT_TO_THE_PARSER:
            continue
        assert events == parsed
        read += 1
    assert 0 < read < len(data) // 4  # the cuts between events; most cut one
