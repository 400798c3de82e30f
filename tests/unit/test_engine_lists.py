"""Order lists (docs/matching.md, Order lists): OCO placement, its members ending each other, the
shared reservation, rejections and the state, one scenario at a time with exact events.

TST/USD as in tests.corehelpers: prices in cents, quantities in whole TST.
"""

from matching import (
    AmendOrder,
    BookDelta,
    ContingencyType,
    ListOrderStatus,
    ListStatus,
    ListStatusType,
    MatchingEngine,
    OrderAccepted,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderStatus,
    OrderTriggered,
    OrderType,
    PlaceOrder,
    PlaceOrderList,
    Reason,
    Side,
    StpMode,
    Trade,
)
from matching.events import AmendRejected, Event
from tests.corehelpers import SPEC, SYMBOL, cancel, cancel_all, limit, market, stop

BUY, SELL = Side.BUY, Side.SELL
GTC = 1
SL, SLL, TP, LM = OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT, OrderType.LIMIT_MAKER
OCO = ContingencyType.OCO
STARTED = (ListStatusType.EXEC_STARTED, ListOrderStatus.EXECUTING)
DONE = (ListStatusType.ALL_DONE, ListOrderStatus.ALL_DONE)


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def traded_at(price: int) -> MatchingEngine:
    """An engine whose last trade price is `price` (users 90 and 91), with an empty book."""
    engine = MatchingEngine(SPEC)
    engine.apply(limit(900, 90, SELL, price, 1))
    engine.apply(market(901, 91, BUY, qty=1, reserve=10 * price))
    assert engine.last_price == price and not engine.orders
    return engine


def sell_oco(
    user: int = 7, *, qty: int = 3, above: int = 160, below: int = 140, ts: int = 0
) -> PlaceOrderList:
    """A SELL OCO of `qty`: LIMIT_MAKER at `above` (order 1, "a"), STOP_LOSS_LIMIT with stop
    `below` and price `below - 1` (order 2, "b"), sharing a reservation of `qty`."""
    maker = limit(1, user, SELL, above, qty, maker_only=True, cid="a")
    loss = stop(2, user, SELL, SLL, below, qty, price=below - 1, cid="b")
    return PlaceOrderList(SYMBOL, user, "L", OCO, (maker, loss), ts)


def list_status(e: Event) -> tuple[int, int, int, tuple[int, ...]]:
    assert isinstance(e, ListStatus)
    return e.order_list_id, e.status_type, e.list_status, e.order_ids


def test_an_oco_places_both_members_then_reports_the_list_executing() -> None:
    engine = traded_at(150)
    events = engine.apply(sell_oco(ts=9))
    s = events[0].seq
    assert events == [
        OrderAccepted(s, 9, 1, 7, "a", SELL, LM, GTC, 160, 3, 0, 3, StpMode.NONE, 0, 0, 0, 1),
        OrderAccepted(s + 1, 9, 2, 7, "b", SELL, SLL, GTC, 139, 3, 0, 3, StpMode.NONE, 140, 0, 0, 1),
        ListStatus(s + 2, 9, 1, 7, "L", OCO, *STARTED, (1, 2)),
        BookDelta(s + 3, 9, (), ((160, 3),)),
    ]
    assert engine.state().lists == ((1, 7, "L", OCO, (1, 2)),)
    assert engine.state().last_list_id == 1


def test_a_partial_fill_of_the_limit_member_expires_the_other_and_ends_the_list() -> None:
    engine = traded_at(150)
    engine.apply(sell_oco())
    events = engine.apply(limit(3, 8, BUY, 160, 2, ts=4))
    s = events[0].seq
    trade = events[1]
    assert isinstance(trade, Trade) and (trade.maker_order_id, trade.quantity) == (1, 2)
    assert events[2:] == [
        OrderExpired(s + 2, 4, 2, 7, "b", Reason.ORDER_LIST_SIBLING, 3),
        OrderDone(s + 3, 4, 2, 7, "b", SELL, OrderStatus.EXPIRED, 0, 0, 0),
        ListStatus(s + 4, 4, 1, 7, "L", OCO, *DONE, (1, 2)),
        OrderDone(s + 5, 4, 3, 8, "", BUY, OrderStatus.FILLED, 2, 320, 0),
        BookDelta(s + 6, 4, (), ((160, 1),)),
    ]
    assert engine.state().lists == () and not engine.stops.orders
    # The member left is a plain order now, and holds the rest of the shared reservation.
    done = engine.apply(cancel(7, 1))
    assert kinds(done) == ["OrderCancelled", "OrderDone", "BookDelta"]
    assert isinstance(done[1], OrderDone) and done[1].release == 1


def test_a_trade_that_fills_the_limit_member_ends_it_before_the_list() -> None:
    engine = traded_at(150)
    engine.apply(sell_oco())
    events = engine.apply(limit(3, 8, BUY, 160, 3))
    assert kinds(events) == [
        "OrderAccepted",
        "Trade",
        "OrderDone",  # member 1 filled, releasing nothing left of 3
        "OrderExpired",
        "OrderDone",
        "ListStatus",
        "OrderDone",
        "BookDelta",
    ]
    assert isinstance(events[2], OrderDone) and (events[2].order_id, events[2].release) == (1, 0)
    assert isinstance(events[4], OrderDone) and (events[4].order_id, events[4].release) == (2, 0)


def test_the_stop_member_triggering_expires_the_limit_member_first() -> None:
    engine = traded_at(150)
    engine.apply(sell_oco())
    engine.apply(limit(10, 90, BUY, 140, 1))
    engine.apply(limit(11, 90, BUY, 139, 5))
    events = engine.apply(market(12, 91, SELL, qty=1, reserve=1, ts=6))
    s = events[0].seq
    assert kinds(events[:4]) == ["OrderAccepted", "Trade", "OrderDone", "OrderDone"]  # maker 10, taker 12
    assert events[4:8] == [
        OrderExpired(s + 4, 6, 1, 7, "a", Reason.ORDER_LIST_SIBLING, 3),
        OrderDone(s + 5, 6, 1, 7, "a", SELL, OrderStatus.EXPIRED, 0, 0, 0),
        ListStatus(s + 6, 6, 1, 7, "L", OCO, *DONE, (1, 2)),
        OrderTriggered(s + 7, 6, 2, 7, "b", 140),
    ]
    assert kinds(events[8:]) == ["Trade", "OrderDone", "BookDelta"]  # member 2 fills 3 at 139
    filled = events[9]
    assert isinstance(filled, OrderDone) and (filled.order_id, filled.filled, filled.release) == (2, 3, 0)
    delta = events[10]
    assert isinstance(delta, BookDelta) and delta.asks == ((160, 0),) and delta.bids == ((140, 0), (139, 2))


def test_both_members_reached_by_one_taker_the_lower_id_wins() -> None:
    engine = traded_at(150)
    maker = stop(1, 7, SELL, TP, 160, 1, cid="a")  # rises: triggers at >= 160
    loss = stop(2, 7, SELL, SL, 140, 1, cid="b")  # falls: triggers at <= 140
    engine.apply(PlaceOrderList(SYMBOL, 7, "L", OCO, (maker, loss)))
    engine.apply(limit(10, 90, BUY, 165, 1))
    engine.apply(limit(11, 90, BUY, 135, 5))
    events = engine.apply(market(12, 91, SELL, qty=2, reserve=2))
    assert kinds(events) == [
        "OrderAccepted",
        "Trade",  # at 165: member 1 (TAKE_PROFIT, >= 160) is reached
        "OrderDone",
        "Trade",  # at 135: member 2 (STOP_LOSS, <= 140) too
        "OrderDone",
        "OrderExpired",  # member 2, taken by the same check, leaves the queue
        "OrderDone",
        "ListStatus",
        "OrderTriggered",
        "Trade",
        "OrderDone",
        "BookDelta",
    ]
    assert isinstance(events[5], OrderExpired) and events[5].order_id == 2
    assert isinstance(events[8], OrderTriggered) and events[8].order_id == 1
    assert not engine.stops.orders and engine.state().lists == ()


def test_cancelling_one_member_cancels_the_list() -> None:
    engine = traded_at(150)
    engine.apply(sell_oco())
    events = engine.apply(cancel(7, cid="b", ts=3))
    s = events[0].seq
    assert events == [
        OrderCancelled(s, 3, 2, 7, "b", 3),
        OrderDone(s + 1, 3, 2, 7, "b", SELL, OrderStatus.CANCELED, 0, 0, 3),
        OrderCancelled(s + 2, 3, 1, 7, "a", 3),
        OrderDone(s + 3, 3, 1, 7, "a", SELL, OrderStatus.CANCELED, 0, 0, 0),
        ListStatus(s + 4, 3, 1, 7, "L", OCO, *DONE, (1, 2)),
        BookDelta(s + 5, 3, (), ((160, 0),)),
    ]
    assert engine.state().lists == () and not engine.orders and not engine.stops.orders


def test_cancel_all_cancels_a_list_once() -> None:
    engine = traded_at(150)
    engine.apply(sell_oco())
    engine.apply(limit(5, 7, BUY, 100, 1))
    events = engine.apply(cancel_all(7))
    done = [(e.order_id, e.release) for e in events if isinstance(e, OrderDone)]
    assert done == [(1, 3), (2, 0), (5, 100)]
    assert kinds(events).count("ListStatus") == 1


def test_self_trade_prevention_removing_a_member_ends_the_list() -> None:
    engine = traded_at(150)
    engine.apply(sell_oco())
    events = engine.apply(limit(3, 7, BUY, 160, 1, stp=StpMode.EXPIRE_MAKER))
    assert kinds(events) == [
        "OrderAccepted",
        "OrderExpired",
        "OrderDone",
        "OrderExpired",
        "OrderDone",
        "ListStatus",
        "BookDelta",
    ]
    releases = [(e.order_id, e.status, e.release) for e in events if isinstance(e, OrderDone)]
    assert releases == [(1, OrderStatus.EXPIRED_IN_MATCH, 3), (2, OrderStatus.EXPIRED, 0)]


def reject_reason(engine: MatchingEngine, command: PlaceOrderList) -> int:
    before = engine.state()
    (event,) = engine.apply(command)
    assert isinstance(event, ListStatus)
    assert (event.order_list_id, event.status_type, event.list_status) == (
        0,
        ListStatusType.RESPONSE,
        ListOrderStatus.REJECT,
    )
    assert event.release == (command.orders[0].reserve if command.orders else 0)
    after = engine.state()
    assert (after.orders, after.triggers, after.lists, after.last_list_id) == (
        before.orders,
        before.triggers,
        before.lists,
        before.last_list_id,
    )
    return event.reason


def with_member(c: PlaceOrderList, index: int, member: PlaceOrder) -> PlaceOrderList:
    members = list(c.orders)
    members[index] = member
    return PlaceOrderList(c.symbol, c.user_id, c.list_client_order_id, c.contingency, tuple(members), c.ts)


def test_list_rejections_in_order() -> None:
    engine = traded_at(150)
    good = sell_oco()
    a = good.orders[0]
    cases = [
        (PlaceOrderList("OTHER", 7, "L", OCO, good.orders), Reason.UNKNOWN_MARKET),
        (PlaceOrderList(SYMBOL, 7, "L", ContingencyType.OTOCO, good.orders), Reason.INVALID_CONTINGENCY),
        (PlaceOrderList(SYMBOL, 7, "L", 9, good.orders), Reason.INVALID_CONTINGENCY),
        (PlaceOrderList(SYMBOL, 7, "L", OCO, (a,)), Reason.INVALID_CONTINGENCY),
        (
            with_member(good, 1, stop(2, 7, SELL, SLL, 140, 2, price=139, reserve=3)),
            Reason.ORDER_LIST_LEGS_DIFFER,
        ),
        (
            with_member(good, 1, stop(2, 7, SELL, SLL, 140, 3, price=139, reserve=4)),
            Reason.ORDER_LIST_LEGS_DIFFER,
        ),
        (PlaceOrderList(SYMBOL, 8, "L", OCO, good.orders), Reason.ORDER_LIST_LEGS_DIFFER),
        (with_member(good, 1, limit(2, 7, SELL, 170, 3, maker_only=True)), Reason.INVALID_OCO_LEG_TYPES),
        (with_member(good, 0, stop(1, 7, SELL, SL, 130, 3)), Reason.INVALID_OCO_LEG_TYPES),
        (with_member(good, 1, stop(2, 7, SELL, SLL, 150, 3, price=149)), Reason.WOULD_TRIGGER),
        (with_member(good, 1, stop(1, 7, SELL, SLL, 140, 3, price=139)), Reason.DUPLICATE_ORDER_ID),
        (
            with_member(good, 1, stop(2, 7, SELL, SLL, 140, 3, price=139, cid="a")),
            Reason.DUPLICATE_CLIENT_ORDER_ID,
        ),
    ]
    for command, reason in cases:
        assert reject_reason(engine, command) == reason, (command, reason)
    engine.apply(limit(20, 90, BUY, 155, 1))
    assert reject_reason(engine, sell_oco(above=155)) == Reason.WOULD_TAKE
    # BUY: the take-profit level must lie below the stop; each member alone is valid here.
    buy_maker = limit(1, 7, BUY, 158, 1, maker_only=True, reserve=200)
    buy_loss = stop(2, 7, BUY, SL, 156, 1, reserve=200)
    wrong = PlaceOrderList(SYMBOL, 7, "L", OCO, (buy_maker, buy_loss))
    engine.apply(cancel_all(90))
    assert reject_reason(engine, wrong) == Reason.INVALID_OCO_PRICES
    right = with_member(wrong, 0, limit(1, 7, BUY, 140, 1, maker_only=True, reserve=200))
    assert kinds(engine.apply(right)) == ["OrderAccepted", "OrderAccepted", "ListStatus", "BookDelta"]


def test_a_member_of_an_open_list_cannot_be_amended() -> None:
    engine = traded_at(150)
    engine.apply(sell_oco())
    (event,) = engine.apply(AmendOrder(SYMBOL, 7, 1, "", "", 2))
    assert isinstance(event, AmendRejected) and event.reason == Reason.ORDER_IN_LIST


def test_list_ids_count_up_and_survive_a_snapshot() -> None:
    engine = traded_at(150)
    engine.apply(sell_oco())
    second = sell_oco()
    members = (
        limit(3, 7, SELL, 170, 2, maker_only=True, cid="c"),
        stop(4, 7, SELL, SL, 130, 2, cid="d"),
    )
    engine.apply(PlaceOrderList(SYMBOL, 7, "M", OCO, members, second.ts))
    restored = MatchingEngine.restore(SPEC, engine.snapshot())
    assert restored.state() == engine.state()
    assert restored.state().lists == ((1, 7, "L", OCO, (1, 2)), (2, 7, "M", OCO, (3, 4)))
    for e in (engine, restored):
        events = e.apply(cancel(7, 4))
        assert [list_status(x) for x in events if isinstance(x, ListStatus)] == [(2, *DONE, (3, 4))]
    assert restored.state_hash() == engine.state_hash()
    third = engine.apply(PlaceOrderList(SYMBOL, 7, "N", OCO, (members[0], members[1])))
    assert [list_status(x)[0] for x in third if isinstance(x, ListStatus)] == [3]
