"""Stop orders (docs/matching.md, Stop orders), one scenario at a time, with exact events.

TST/USD: prices in cents, quantities in whole TST; fees 0.1% maker, 0.2% taker, rounded up.
"""

from matching import (
    BookDelta,
    MatchingEngine,
    OrderAccepted,
    OrderCancelled,
    OrderDone,
    OrderRejected,
    OrderStatus,
    OrderTriggered,
    OrderType,
    Reason,
    Side,
    StpMode,
    TimeInForce,
)
from matching.events import Event
from tests.corehelpers import SPEC, cancel, cancel_all, limit, market, stop

BUY, SELL = Side.BUY, Side.SELL
SL, SLL, TP, TPL = (
    OrderType.STOP_LOSS,
    OrderType.STOP_LOSS_LIMIT,
    OrderType.TAKE_PROFIT,
    OrderType.TAKE_PROFIT_LIMIT,
)


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def traded_at(price: int) -> MatchingEngine:
    """An engine whose last trade price is `price` (users 90 and 91), with an empty book."""
    engine = MatchingEngine(SPEC)
    engine.apply(limit(900, 90, SELL, price, 1))
    engine.apply(market(901, 91, BUY, qty=1, reserve=10 * price))
    assert engine.last_price == price and not engine.orders
    return engine


def test_a_stop_order_waits_without_touching_the_book() -> None:
    engine = traded_at(150)
    events = engine.apply(stop(1, 7, SELL, SL, 140, 3, cid="s", ts=5))
    assert events == [
        OrderAccepted(events[0].seq, 5, 1, 7, "s", SELL, SL, TimeInForce.GTC, 0, 3, 0, 3, StpMode.NONE, 140)
    ]
    assert engine.depth(5) == ([], [])
    assert set(engine.stops.orders) == {1}
    assert engine.state().triggers == (
        (1, 7, "s", SELL, SL, TimeInForce.GTC, 0, 3, 140, 3, StpMode.NONE, 5, 0, 0, 0),
    )


def test_stop_orders_that_would_trigger_at_once_are_rejected() -> None:
    engine = traded_at(150)
    for oid, side, otype, stop_price in [
        (1, SELL, SL, 150),  # falling: last 150 <= 150
        (2, BUY, SL, 149),  # rising: last 150 >= 149
        (3, SELL, TP, 150),  # rising
        (4, BUY, TPL, 151),  # falling
    ]:
        price = 150 if otype == TPL else 0
        (rejected,) = engine.apply(stop(oid, 7, side, otype, stop_price, 1, price=price))
        assert isinstance(rejected, OrderRejected) and rejected.reason == Reason.WOULD_TRIGGER
    # Before any trade nothing would trigger.
    fresh = MatchingEngine(SPEC)
    assert kinds(fresh.apply(stop(1, 7, SELL, SL, 150, 1))) == ["OrderAccepted"]


def test_bad_stop_prices_are_rejected() -> None:
    engine = MatchingEngine(SPEC)
    for oid, command in enumerate(
        [
            stop(1, 7, SELL, SL, 0, 1),
            stop(2, 7, SELL, SLL, -5, 1, price=100),
            limit(3, 7, BUY, 100, 1),
        ]
    ):
        if oid == 2:
            command.stop_price = 99
        (rejected,) = engine.apply(command)
        assert isinstance(rejected, OrderRejected) and rejected.reason == Reason.INVALID_STOP_PRICE


def test_a_falling_stop_loss_sell_triggers_as_a_market_order_and_cascades() -> None:
    engine = traded_at(150)
    engine.apply(limit(1, 2, BUY, 148, 2))
    engine.apply(limit(2, 2, BUY, 145, 5))
    engine.apply(stop(3, 7, SELL, SL, 148, 2, ts=9))  # triggers at <= 148
    engine.apply(stop(4, 8, SELL, SLL, 146, 3, price=144, ts=9))  # triggers at <= 146
    events = engine.apply(market(5, 9, SELL, qty=1, reserve=1, ts=10))
    assert kinds(events) == [
        "OrderAccepted",
        "Trade",  # 9 sells 1 at 148: reaches 148
        "OrderDone",
        "OrderTriggered",  # 3 (STOP_LOSS at 148) becomes MARKET
        "Trade",  # 1 at 148 (the rest of order 1)
        "OrderDone",  # order 1 filled
        "Trade",  # 1 at 145: reaches 146
        "OrderDone",  # 3 filled
        "OrderTriggered",  # 4 (STOP_LOSS_LIMIT at 146) becomes LIMIT 144
        "Trade",  # 3 at 145
        "OrderDone",
        "BookDelta",
    ]
    assert events[3] == OrderTriggered(events[3].seq, 10, 3, 7, "", 148)
    assert events[8] == OrderTriggered(events[8].seq, 10, 4, 8, "", 146)
    last = events[-2]
    assert isinstance(last, OrderDone) and (last.order_id, last.status, last.filled) == (
        4,
        OrderStatus.FILLED,
        3,
    )
    assert events[-1] == BookDelta(events[-1].seq, 10, ((148, 0), (145, 1)), ())
    assert not engine.stops.orders and engine.last_price == 145


def test_a_trade_anywhere_in_a_sweep_triggers_even_if_the_last_price_comes_back() -> None:
    # A SELL sweeping bids from 152 down to 149 reaches a rising stop at 151 on its first trade.
    engine = traded_at(150)
    engine.apply(stop(1, 7, BUY, SLL, 151, 1, price=151))
    engine.apply(limit(2, 2, BUY, 152, 1))
    engine.apply(limit(3, 2, BUY, 149, 1))
    events = engine.apply(market(4, 3, SELL, qty=2, reserve=2))
    assert "OrderTriggered" in kinds(events)
    # Triggered, its limit 151 finds no ask: it rests at the top of the bids.
    assert engine.depth(1) == ([(151, 1)], [])
    assert engine.orders[1].order_type == SLL


def test_triggered_orders_run_in_order_id_order_with_the_command_ts() -> None:
    engine = traded_at(100)
    engine.apply(stop(7, 1, BUY, SL, 105, 1, ts=1))
    engine.apply(stop(6, 2, SELL, TP, 104, 1, ts=1))
    engine.apply(limit(8, 3, SELL, 105, 1, ts=1))
    engine.apply(limit(9, 3, BUY, 90, 1, ts=1))
    events = engine.apply(limit(10, 4, BUY, 105, 1, ts=77))
    triggered = [e for e in events if isinstance(e, OrderTriggered)]
    assert [t.order_id for t in triggered] == [6, 7]
    assert all(e.ts == 77 for e in events)


def test_cancelling_a_waiting_stop_releases_its_whole_reservation_without_a_book_delta() -> None:
    engine = traded_at(150)
    engine.apply(stop(1, 7, BUY, TPL, 140, 2, price=141, cid="tp", reserve=300))
    assert engine.apply(limit(2, 7, BUY, 100, 1, cid="tp"))[0].reason == Reason.DUPLICATE_CLIENT_ORDER_ID  # type: ignore[union-attr]
    assert engine.apply(limit(1, 8, BUY, 100, 1))[0].reason == Reason.DUPLICATE_ORDER_ID  # type: ignore[union-attr]
    assert engine.apply(cancel(8, oid=1))[0].reason == Reason.ORDER_NOT_OWNED  # type: ignore[union-attr]
    events = engine.apply(cancel(7, cid="tp", ts=3))
    assert events == [
        OrderCancelled(events[0].seq, 3, 1, 7, "tp", 2),
        OrderDone(events[1].seq, 3, 1, 7, "tp", BUY, OrderStatus.CANCELED, 0, 0, 300),
    ]
    assert not engine.stops.orders and not engine.client_ids


def test_cancel_all_takes_waiting_stops_too_in_order_id_order() -> None:
    engine = traded_at(150)
    engine.apply(stop(3, 7, SELL, SL, 140, 1))
    engine.apply(limit(2, 7, BUY, 100, 1))
    engine.apply(stop(1, 7, BUY, SL, 160, 1))
    events = engine.apply(cancel_all(7))
    cancelled = [e.order_id for e in events if isinstance(e, OrderCancelled)]
    assert cancelled == [1, 2, 3]
    assert kinds(events)[-1] == "BookDelta" and not engine.stops.orders and not engine.orders


def test_snapshot_keeps_waiting_stops_and_replay_triggers_them_alike() -> None:
    engine = traded_at(150)
    engine.apply(stop(1, 7, SELL, SL, 148, 2))
    engine.apply(limit(2, 2, BUY, 148, 5))
    restored = MatchingEngine.restore(SPEC, engine.snapshot())
    assert restored.state_hash() == engine.state_hash()
    command = market(3, 9, SELL, qty=1, reserve=1)
    assert restored.apply(command) == engine.apply(command)
    assert restored.state_hash() == engine.state_hash()
    assert not restored.stops.orders


def test_a_trailing_stop_sell_follows_the_highest_price_then_triggers_on_the_delta() -> None:
    engine = traded_at(100)
    (rejected,) = engine.apply(stop(1, 7, SELL, SL, 0, 1))  # no stop price and no trail
    assert isinstance(rejected, OrderRejected) and rejected.reason == Reason.INVALID_STOP_PRICE
    command = stop(2, 7, SELL, SL, 0, 1)
    command.trailing_delta = 500  # 5%
    assert kinds(engine.apply(command)) == ["OrderAccepted"]
    assert engine.state().triggers[0][12:] == (500, 1, 100)
    engine.apply(limit(3, 2, SELL, 110, 1))
    engine.apply(market(4, 3, BUY, qty=1, reserve=200))  # trades at 110: the reference rises
    assert engine.state().triggers[0][12:] == (500, 1, 110)
    engine.apply(limit(5, 4, BUY, 105, 1))
    engine.apply(limit(6, 4, BUY, 104, 2))
    assert "OrderTriggered" not in kinds(engine.apply(market(7, 5, SELL, qty=1, reserve=1)))  # 105 > 104.5
    events = engine.apply(market(8, 5, SELL, qty=1, reserve=1))  # 104 <= 110 * 0.95
    assert kinds(events)[3:6] == ["OrderTriggered", "Trade", "OrderDone"]
    assert events[3] == OrderTriggered(events[3].seq, 0, 2, 7, "", 0)
    assert not engine.stops.orders


def test_a_trailing_stop_with_a_stop_price_waits_for_it_then_trails() -> None:
    engine = traded_at(100)
    command = stop(1, 7, BUY, TP, 95, 1, reserve=1000)  # falling activation at <= 95
    command.trailing_delta = 1000  # 10% above the lowest price once active
    engine.apply(command)
    engine.apply(limit(2, 2, BUY, 95, 2))
    engine.apply(market(3, 3, SELL, qty=1, reserve=1))  # 95: activates, reference 95
    assert engine.state().triggers[0][12:] == (1000, 1, 95)
    engine.apply(limit(4, 2, SELL, 104, 1))
    engine.apply(limit(5, 2, SELL, 105, 1))
    assert "OrderTriggered" not in kinds(engine.apply(market(6, 3, BUY, qty=1, reserve=200)))  # 104 < 104.5
    events = engine.apply(market(7, 3, BUY, qty=1, reserve=200))  # 105 >= 95 * 1.1
    assert "OrderTriggered" in kinds(events) and not engine.stops.orders
