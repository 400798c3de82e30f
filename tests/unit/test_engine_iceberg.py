"""Iceberg orders (docs/matching.md, Iceberg orders), one scenario at a time, with exact events.

TST/USD: prices in cents, quantities in whole TST; fees 0.1% maker, 0.2% taker, rounded up.
"""

from matching import (
    BookDelta,
    MatchingEngine,
    OrderAccepted,
    OrderDone,
    OrderRejected,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Reason,
    Side,
    StpMode,
    TimeInForce,
    Trade,
)
from matching.events import Event
from tests.corehelpers import SPEC, cancel, limit, market

BUY, SELL = Side.BUY, Side.SELL


def iceberg(
    oid: int,
    user: int,
    side: Side,
    price: int,
    qty: int,
    tip: int,
    *,
    tif: TimeInForce = TimeInForce.GTC,
    maker_only: bool = False,
    ts: int = 0,
) -> PlaceOrder:
    """A LIMIT (or LIMIT_MAKER) iceberg order showing `tip` at a time."""
    c = limit(oid, user, side, price, qty, tif=tif, maker_only=maker_only, ts=ts)
    c.iceberg_qty = tip
    return c


def trades(events: list[Event]) -> list[tuple[int, int, int]]:
    """(maker order id, price, quantity) of each trade."""
    return [(e.maker_order_id, e.price, e.quantity) for e in events if isinstance(e, Trade)]


def test_a_resting_iceberg_shows_only_its_tip() -> None:
    engine = MatchingEngine(SPEC)
    events = engine.apply(iceberg(1, 7, SELL, 150, 100, 30, ts=4))
    assert isinstance(events[0], OrderAccepted) and events[0].iceberg_qty == 30
    assert events[-1] == BookDelta(events[-1].seq, 4, (), ((150, 30),))
    assert engine.depth(5) == ([], [(150, 30)])
    record = engine.state().orders[0]
    assert record[5] == 100 and record[13:] == (30, 70)  # remaining, iceberg quantity, hidden


def test_each_replenishment_goes_to_the_back_of_its_level() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(iceberg(1, 7, SELL, 150, 100, 30))
    engine.apply(limit(2, 8, SELL, 150, 40))
    events = engine.apply(limit(3, 9, BUY, 150, 90))
    assert trades(events) == [(1, 150, 30), (2, 150, 40), (1, 150, 20)]
    # the iceberg now shows 10 of its tip (30 - 20) and hides 40
    assert engine.depth(5) == ([], [(150, 10)])
    assert events[-1] == BookDelta(events[-1].seq, 0, (), ((150, 10),))
    record = engine.state().orders[0]
    assert record[0] == 1 and record[5] == 50 and record[13:] == (30, 40)


def test_an_iceberg_alone_in_its_level_fills_tip_after_tip() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(iceberg(1, 7, SELL, 150, 70, 30))
    events = engine.apply(limit(2, 9, BUY, 151, 100))
    assert trades(events) == [(1, 150, 30), (1, 150, 30), (1, 150, 10)]
    done = [e for e in events if isinstance(e, OrderDone)]
    assert [(d.order_id, d.status, d.filled, d.release) for d in done] == [(1, OrderStatus.FILLED, 70, 0)]
    assert engine.depth(5) == ([(151, 30)], [])


def test_an_iceberg_taker_takes_its_whole_quantity_then_rests_its_tip() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 7, SELL, 150, 20))
    events = engine.apply(iceberg(2, 8, BUY, 150, 100, 15))
    assert trades(events) == [(1, 150, 20)]
    assert engine.depth(5) == ([(150, 15)], [])
    events = engine.apply(cancel(8, 2))
    assert events[0].remaining == 80  # the whole quantity left, hidden part included
    assert events[1].release == 150 * 80


def test_fok_counts_hidden_quantity_and_stp_expires_the_whole_iceberg() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(iceberg(1, 7, SELL, 150, 100, 10))
    events = engine.apply(limit(2, 8, BUY, 150, 100, tif=TimeInForce.FOK))
    assert sum(q for _, _, q in trades(events)) == 100
    engine.apply(iceberg(3, 7, SELL, 150, 100, 10))
    events = engine.apply(limit(4, 7, BUY, 150, 5, stp=StpMode.EXPIRE_MAKER))
    assert events[1].remaining == 100 and events[2].status == OrderStatus.EXPIRED_IN_MATCH


def test_invalid_iceberg_quantities_are_rejected() -> None:
    engine = MatchingEngine(SPEC)
    bad = [
        iceberg(1, 7, SELL, 150, 100, 100),  # not below the quantity
        iceberg(2, 7, SELL, 150, 100, -1),
        iceberg(3, 7, SELL, 150, 100, 10, tif=TimeInForce.IOC),
        market(4, 7, SELL, qty=10, reserve=10),
    ]
    bad[3].iceberg_qty = 5
    for command in bad:
        events = engine.apply(command)
        assert events == [
            OrderRejected(
                events[0].seq, 0, command.order_id, 7, "", SELL, Reason.INVALID_ICEBERG_QTY, command.reserve
            )
        ]
    assert (
        engine.apply(iceberg(5, 7, SELL, 150, 100, 10, maker_only=True))[0].order_type
        == OrderType.LIMIT_MAKER
    )


def test_snapshot_keeps_the_hidden_part_and_the_queue() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(iceberg(1, 7, SELL, 150, 100, 30))
    engine.apply(limit(2, 8, SELL, 150, 40))
    engine.apply(limit(3, 9, BUY, 150, 35))
    restored = MatchingEngine.restore(SPEC, engine.snapshot())
    assert restored.state_hash() == engine.state_hash()
    assert restored.depth(5) == engine.depth(5) == ([], [(150, 65)])
    command = limit(4, 9, BUY, 150, 100)
    assert restored.apply(command) == engine.apply(command)


def test_a_snapshot_written_before_icebergs_restores_with_none() -> None:
    version_2 = b'[2,"TSTUSD",3,0,0,[[1,7,"",2,150,5,0,0,5,1,1,0,4]],[]]'
    engine = MatchingEngine.restore(SPEC, version_2)
    assert engine.state().orders == ((1, 7, "", SELL, 150, 5, 0, 0, 5, 1, 1, 0, 4, 0, 0),)
    assert engine.depth(5) == ([], [(150, 5)])
