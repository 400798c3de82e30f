"""AmendOrder (docs/matching.md, AmendOrder): quantity reduced in place, one scenario at a time.

TST/USD: prices in cents, quantities in whole TST; fees 0.1% maker, 0.2% taker, rounded up.
"""

from matching import (
    AmendOrder,
    AmendRejected,
    BookDelta,
    MatchingEngine,
    OrderAmended,
    OrderType,
    Reason,
    Side,
    Trade,
)
from tests.corehelpers import SPEC, SYMBOL, limit, stop

BUY, SELL = Side.BUY, Side.SELL


def amend(user: int, oid: int, qty: int, new_cid: str = "", cid: str = "", ts: int = 0) -> AmendOrder:
    return AmendOrder(SYMBOL, user, oid, cid, new_cid, qty, ts)


def test_an_amended_order_keeps_its_place_and_releases_what_it_no_longer_needs() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 7, BUY, 150, 10, cid="a", reserve=2000))
    engine.apply(limit(2, 8, BUY, 150, 5))
    events = engine.apply(amend(7, 1, 4, new_cid="b", ts=9))
    assert events == [
        OrderAmended(events[0].seq, 9, 1, 7, "b", "a", BUY, 4, 4, 0, 0, 6 * 150),
        BookDelta(events[1].seq, 9, ((150, 9),), ()),
    ]
    assert engine.client_ids.keys() == {(7, "b")}
    taken = engine.apply(limit(3, 9, SELL, 150, 6))
    trades = [(e.maker_order_id, e.quantity) for e in taken if isinstance(e, Trade)]
    assert trades == [(1, 4), (2, 2)]  # order 1 first, with its new quantity
    done = taken[2]  # order 1's OrderDone: the rest of its reservation (2000 - 900 - 600)
    assert (done.order_id, done.release) == (1, 500)


def test_amend_refusals() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 7, SELL, 150, 10, cid="a"))
    engine.apply(limit(2, 7, SELL, 151, 10, cid="b"))
    engine.apply(limit(3, 8, BUY, 150, 3))  # order 1 has 3 filled
    cases = [
        (amend(7, 1, 10), Reason.QUANTITY_NOT_REDUCED),
        (amend(7, 1, 3), Reason.INVALID_QUANTITY),
        (amend(7, 1, 0), Reason.INVALID_QUANTITY),
        (amend(8, 1, 5), Reason.ORDER_NOT_OWNED),
        (amend(7, 99, 5), Reason.UNKNOWN_ORDER),
        (amend(7, 1, 5, new_cid="b"), Reason.DUPLICATE_CLIENT_ORDER_ID),
        (AmendOrder("ETHUSD", 7, 1, "", "", 5), Reason.UNKNOWN_MARKET),
    ]
    for command, reason in cases:
        events = engine.apply(command)
        assert len(events) == 1 and isinstance(events[0], AmendRejected) and events[0].reason == reason
    events = engine.apply(amend(7, 0, 4, cid="a"))  # by client id; 1 left of the 7 it had left
    assert isinstance(events[0], OrderAmended) and (events[0].remaining, events[0].release) == (1, 6)


def test_an_iceberg_tip_shrinks_only_below_it_and_a_waiting_stop_can_be_amended() -> None:
    engine = MatchingEngine(SPEC)
    iceberg = limit(1, 7, SELL, 150, 100)
    iceberg.iceberg_qty = 30
    engine.apply(iceberg)
    assert engine.apply(amend(7, 1, 50))[1] == BookDelta(4, 0, (), ((150, 30),))
    assert engine.apply(amend(7, 1, 20))[1] == BookDelta(6, 0, (), ((150, 20),))
    engine.apply(stop(2, 7, SELL, OrderType.STOP_LOSS, 140, 10))
    events = engine.apply(amend(7, 2, 6))
    assert events == [OrderAmended(events[0].seq, 0, 2, 7, "", "", SELL, 6, 6, 0, 0, 4)]
    assert engine.state().triggers[0][7] == 6
