"""OTO and OTOCO order lists (docs/matching.md, OTO and OTOCO lists): the working order, the pending
orders placed when it fills completely, the list ending when it does not, cancels, self-trade
prevention, the separate reservations, rejections and the state, one scenario at a time.

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
    OrderRejected,
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
from matching.state import MarketState
from tests.corehelpers import SPEC, SYMBOL, cancel, cancel_all, limit, market, stop

BUY, SELL = Side.BUY, Side.SELL
GTC = 1
IOC = 2
LIMIT, LM, SL, SLL = OrderType.LIMIT, OrderType.LIMIT_MAKER, OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT
OTO, OTOCO = ContingencyType.OTO, ContingencyType.OTOCO
STARTED = (ListStatusType.EXEC_STARTED, ListOrderStatus.EXECUTING)
DONE = (ListStatusType.ALL_DONE, ListOrderStatus.ALL_DONE)
NONE = StpMode.NONE


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def traded_at(price: int) -> MatchingEngine:
    """An engine whose last trade price is `price` (users 90 and 91), with an empty book."""
    engine = MatchingEngine(SPEC)
    engine.apply(limit(900, 90, SELL, price, 1))
    engine.apply(market(901, 91, BUY, qty=1, reserve=10 * price))
    assert engine.last_price == price and not engine.orders
    return engine


def sell_then_buy(ts: int = 0, *, tif: int = GTC, working_price: int = 160) -> PlaceOrderList:
    """An OTO of user 7: working SELL LIMIT 3 at `working_price` (order 1, "w", reserving 3 TST),
    pending BUY LIMIT_MAKER 3 at 140 (order 2, "p", reserving 420 cents)."""
    working = limit(1, 7, SELL, working_price, 3, cid="w", tif=tif)  # type: ignore[arg-type]
    pending = limit(2, 7, BUY, 140, 3, maker_only=True, cid="p")
    return PlaceOrderList(SYMBOL, 7, "L", OTO, (working, pending), ts)


def buy_then_oco(ts: int = 0) -> PlaceOrderList:
    """An OTOCO of user 7: working BUY LIMIT 3 at 150 (order 1, "w", reserving 450 cents), then a
    SELL pair of 3 sharing a reserve of 3 TST: LIMIT_MAKER at 170 (order 2, "a") and
    STOP_LOSS_LIMIT stop 140 price 139 (order 3, "b")."""
    working = limit(1, 7, BUY, 150, 3, cid="w")
    above = limit(2, 7, SELL, 170, 3, maker_only=True, cid="a")
    below = stop(3, 7, SELL, SLL, 140, 3, price=139, cid="b")
    return PlaceOrderList(SYMBOL, 7, "K", OTOCO, (working, above, below), ts)


def accepted(seq: int, ts: int, c: PlaceOrder, list_id: int) -> OrderAccepted:
    return OrderAccepted(
        seq,
        ts,
        c.order_id,
        c.user_id,
        c.client_order_id,
        c.side,
        c.order_type,
        c.time_in_force,
        c.price,
        c.quantity,
        c.quote_quantity,
        c.reserve,
        c.stp_mode,
        c.stop_price,
        c.trailing_delta,
        c.iceberg_qty,
        list_id,
    )


def dones(events: list[Event]) -> list[tuple[int, int, int]]:
    return [(e.order_id, e.status, e.release) for e in events if isinstance(e, OrderDone)]


def test_an_oto_places_only_its_working_order_and_holds_the_pending_one() -> None:
    engine = traded_at(150)
    command = sell_then_buy(ts=9)
    events = engine.apply(command)
    s = events[0].seq
    assert events == [
        accepted(s, 9, command.orders[0], 1),
        ListStatus(s + 1, 9, 1, 7, "L", OTO, *STARTED, (1, 2)),
        BookDelta(s + 2, 9, (), ((160, 3),)),
    ]
    state = engine.state()
    assert state.lists == ((1, 7, "L", OTO, (1, 2)),)
    assert state.pending == ((2, 7, "p", 1, BUY, LM, GTC, 140, 3, 0, 420, NONE, 0, 0, 0),)
    assert [r[0] for r in state.orders] == [1] and not state.triggers


def test_the_pending_order_is_open_for_duplicates_and_refuses_amendment() -> None:
    engine = traded_at(150)
    engine.apply(sell_then_buy())
    (dup_id,) = engine.apply(limit(2, 7, BUY, 100, 1))
    (dup_cid,) = engine.apply(limit(5, 7, BUY, 100, 1, cid="p"))
    assert isinstance(dup_id, OrderRejected) and dup_id.reason == Reason.DUPLICATE_ORDER_ID
    assert isinstance(dup_cid, OrderRejected) and dup_cid.reason == Reason.DUPLICATE_CLIENT_ORDER_ID
    (amend,) = engine.apply(AmendOrder(SYMBOL, 7, 2, "", "", 2))
    assert isinstance(amend, AmendRejected) and amend.reason == Reason.ORDER_IN_LIST


def test_a_partial_fill_of_the_working_order_changes_nothing_then_a_full_fill_places_the_pending_one() -> (
    None
):
    engine = traded_at(150)
    command = sell_then_buy()
    engine.apply(command)
    partial = engine.apply(limit(10, 8, BUY, 160, 1, ts=3))
    assert kinds(partial) == ["OrderAccepted", "Trade", "OrderDone", "BookDelta"]  # the taker filled
    assert engine.state().pending and engine.lists
    events = engine.apply(limit(11, 8, BUY, 160, 2, ts=4))
    s = events[0].seq
    trade = events[1]
    assert isinstance(trade, Trade) and (trade.maker_order_id, trade.quantity) == (1, 2)
    assert events[2:] == [
        OrderDone(s + 2, 4, 1, 7, "w", SELL, OrderStatus.FILLED, 3, 480, 0),
        OrderDone(s + 3, 4, 11, 8, "", BUY, OrderStatus.FILLED, 2, 320, 0),
        accepted(s + 4, 4, command.orders[1], 1),
        ListStatus(s + 5, 4, 1, 7, "L", OTO, *DONE, (1, 2)),
        BookDelta(s + 6, 4, ((140, 3),), ((160, 0),)),
    ]
    state = engine.state()
    assert state.lists == () and state.pending == ()
    assert [(r[0], r[4], r[5], r[8], r[12]) for r in state.orders] == [
        (2, 140, 3, 420, 4)
    ]  # ts of activation


def test_a_working_order_filled_when_placed_places_the_pending_order_in_the_same_command() -> None:
    engine = traded_at(150)
    engine.apply(limit(20, 90, SELL, 150, 3))
    working = limit(1, 7, BUY, 150, 3, cid="w")
    pending = limit(2, 7, SELL, 170, 3, maker_only=True, cid="p")
    events = engine.apply(PlaceOrderList(SYMBOL, 7, "L", OTO, (working, pending), 5))
    s = events[0].seq
    assert kinds(events) == [
        "OrderAccepted",
        "Trade",
        "OrderDone",  # maker 20
        "OrderDone",  # the working order
        "ListStatus",
        "OrderAccepted",
        "ListStatus",
        "BookDelta",
    ]
    assert dones(events) == [(20, OrderStatus.FILLED, 0), (1, OrderStatus.FILLED, 0)]
    assert events[4:] == [
        ListStatus(s + 4, 5, 1, 7, "L", OTO, *STARTED, (1, 2)),
        accepted(s + 5, 5, pending, 1),
        ListStatus(s + 6, 5, 1, 7, "L", OTO, *DONE, (1, 2)),
        BookDelta(s + 7, 5, (), ((150, 0), (170, 3))),
    ]


def test_a_working_order_that_expires_when_placed_ends_the_list_releasing_the_pending_reserve() -> None:
    engine = traded_at(150)
    engine.apply(limit(20, 90, BUY, 160, 1))
    command = sell_then_buy(ts=6, tif=IOC)
    events = engine.apply(command)
    s = events[0].seq
    assert kinds(events[:5]) == ["OrderAccepted", "Trade", "OrderDone", "OrderExpired", "OrderDone"]
    assert dones(events[:5]) == [(20, OrderStatus.FILLED, 0), (1, OrderStatus.EXPIRED, 2)]
    assert events[5:] == [
        ListStatus(s + 5, 6, 1, 7, "L", OTO, *STARTED, (1, 2)),
        OrderExpired(s + 6, 6, 2, 7, "p", Reason.ORDER_LIST_SIBLING, 3),
        OrderDone(s + 7, 6, 2, 7, "p", BUY, OrderStatus.EXPIRED, 0, 0, 420),
        ListStatus(s + 8, 6, 1, 7, "L", OTO, *DONE, (1, 2)),
        BookDelta(s + 9, 6, ((160, 0),), ()),
    ]
    assert engine.state().lists == () and engine.state().pending == () and not engine.open_orders_of(7)


def test_cancelling_the_working_order_cancels_the_pending_one_with_its_own_release() -> None:
    engine = traded_at(150)
    engine.apply(sell_then_buy())
    events = engine.apply(cancel(7, 1, ts=8))
    s = events[0].seq
    assert events == [
        OrderCancelled(s, 8, 1, 7, "w", 3),
        OrderDone(s + 1, 8, 1, 7, "w", SELL, OrderStatus.CANCELED, 0, 0, 3),
        OrderCancelled(s + 2, 8, 2, 7, "p", 3),
        OrderDone(s + 3, 8, 2, 7, "p", BUY, OrderStatus.CANCELED, 0, 0, 420),
        ListStatus(s + 4, 8, 1, 7, "L", OTO, *DONE, (1, 2)),
        BookDelta(s + 5, 8, (), ((160, 0),)),
    ]
    assert not engine.open_orders_of(7) and engine.state().pending == ()


def test_cancelling_the_pending_order_by_client_id_cancels_the_working_one() -> None:
    engine = traded_at(150)
    engine.apply(sell_then_buy())
    engine.apply(limit(10, 8, BUY, 160, 1))  # the working order partly filled: 2 left
    events = engine.apply(cancel(7, cid="p", ts=8))
    s = events[0].seq
    assert events == [
        OrderCancelled(s, 8, 2, 7, "p", 3),
        OrderDone(s + 1, 8, 2, 7, "p", BUY, OrderStatus.CANCELED, 0, 0, 420),
        OrderCancelled(s + 2, 8, 1, 7, "w", 2),
        OrderDone(s + 3, 8, 1, 7, "w", SELL, OrderStatus.CANCELED, 1, 160, 2),
        ListStatus(s + 4, 8, 1, 7, "L", OTO, *DONE, (1, 2)),
        BookDelta(s + 5, 8, (), ((160, 0),)),
    ]


def test_cancel_all_cancels_an_otoco_once_and_releases_the_pair_reserve_once() -> None:
    engine = traded_at(150)
    engine.apply(limit(30, 90, SELL, 155, 1))  # keeps the working BUY at 150 resting
    engine.apply(buy_then_oco())
    events = engine.apply(cancel_all(7))
    assert dones(events) == [
        (1, OrderStatus.CANCELED, 450),
        (2, OrderStatus.CANCELED, 3),
        (3, OrderStatus.CANCELED, 0),
    ]
    assert kinds(events).count("ListStatus") == 1 and not engine.open_orders_of(7)


def test_self_trade_prevention_removing_the_working_order_expires_the_pending_one() -> None:
    engine = traded_at(150)
    engine.apply(sell_then_buy())
    events = engine.apply(limit(3, 7, BUY, 160, 1, stp=StpMode.EXPIRE_MAKER, reserve=160))
    assert kinds(events) == [
        "OrderAccepted",
        "OrderExpired",
        "OrderDone",
        "OrderExpired",
        "OrderDone",
        "ListStatus",
        "BookDelta",
    ]
    assert dones(events) == [(1, OrderStatus.EXPIRED_IN_MATCH, 3), (2, OrderStatus.EXPIRED, 420)]
    assert engine.state().lists == () and [r[0] for r in engine.state().orders] == [3]


def test_an_otoco_places_its_pair_when_the_working_order_fills_and_stays_an_oco() -> None:
    engine = traded_at(150)
    engine.apply(limit(30, 90, SELL, 155, 1))
    command = buy_then_oco(ts=2)
    placed = engine.apply(command)
    assert kinds(placed) == ["OrderAccepted", "ListStatus", "BookDelta"]
    assert engine.state().pending == (
        (2, 7, "a", 1, SELL, LM, GTC, 170, 3, 0, 3, NONE, 0, 0, 0),
        (3, 7, "b", 1, SELL, SLL, GTC, 139, 3, 0, 3, NONE, 140, 0, 0),
    )
    events = engine.apply(limit(10, 8, SELL, 150, 3, ts=3))
    s = events[0].seq
    assert kinds(events[:4]) == ["OrderAccepted", "Trade", "OrderDone", "OrderDone"]
    assert dones(events[:4]) == [(1, OrderStatus.FILLED, 0), (10, OrderStatus.FILLED, 0)]
    assert events[4:] == [
        accepted(s + 4, 3, command.orders[1], 1),
        accepted(s + 5, 3, command.orders[2], 1),
        BookDelta(s + 6, 3, ((150, 0),), ((170, 3),)),
    ]
    state = engine.state()
    assert state.lists == ((1, 7, "K", OTOCO, (1, 2, 3)),) and state.pending == ()
    assert [t[0] for t in state.triggers] == [3]
    # Now an OCO: the stop member triggering ends the LIMIT_MAKER member, releasing nothing.
    engine.apply(limit(40, 90, BUY, 140, 1))
    engine.apply(limit(41, 90, BUY, 139, 5))
    later = engine.apply(market(42, 91, SELL, qty=1, reserve=1, ts=6))
    s = later[0].seq
    assert later[4:8] == [
        OrderExpired(s + 4, 6, 2, 7, "a", Reason.ORDER_LIST_SIBLING, 3),
        OrderDone(s + 5, 6, 2, 7, "a", SELL, OrderStatus.EXPIRED, 0, 0, 0),
        ListStatus(s + 6, 6, 1, 7, "K", OTOCO, *DONE, (1, 2, 3)),
        OrderTriggered(s + 7, 6, 3, 7, "b", 140),
    ]
    assert engine.state().lists == ()


def test_an_otoco_pair_member_that_would_trigger_when_placed_ends_the_pair() -> None:
    engine = traded_at(150)
    working = limit(1, 7, BUY, 140, 3, cid="w")
    pair = buy_then_oco().orders[1:]  # SELL: LIMIT_MAKER at 170, STOP_LOSS_LIMIT stop 140
    engine.apply(PlaceOrderList(SYMBOL, 7, "K", OTOCO, (working, *pair)))
    events = engine.apply(limit(10, 8, SELL, 140, 3, ts=7))  # the last price becomes 140
    s = events[0].seq
    assert kinds(events[:4]) == ["OrderAccepted", "Trade", "OrderDone", "OrderDone"]
    assert events[4:] == [
        accepted(s + 4, 7, pair[0], 1),
        accepted(s + 5, 7, pair[1], 1),
        OrderExpired(s + 6, 7, 3, 7, "b", Reason.WOULD_TRIGGER, 3),
        OrderDone(s + 7, 7, 3, 7, "b", SELL, OrderStatus.EXPIRED, 0, 0, 3),
        OrderExpired(s + 8, 7, 2, 7, "a", Reason.ORDER_LIST_SIBLING, 3),
        OrderDone(s + 9, 7, 2, 7, "a", SELL, OrderStatus.EXPIRED, 0, 0, 0),
        ListStatus(s + 10, 7, 1, 7, "K", OTOCO, *DONE, (1, 2, 3)),
        BookDelta(s + 11, 7, ((140, 0),), ()),
    ]
    assert engine.state().lists == () and not engine.open_orders_of(7)


def test_an_oto_pending_stop_that_would_trigger_when_placed_expires() -> None:
    engine = traded_at(150)
    working = limit(1, 7, SELL, 160, 1, cid="w")
    pending = stop(2, 7, BUY, SL, 155, 1, cid="p", reserve=400)  # rises: triggers at >= 155
    engine.apply(PlaceOrderList(SYMBOL, 7, "L", OTO, (working, pending)))
    events = engine.apply(limit(10, 8, BUY, 160, 1, ts=4))
    s = events[0].seq
    assert events[4:] == [
        accepted(s + 4, 4, pending, 1),
        ListStatus(s + 5, 4, 1, 7, "L", OTO, *DONE, (1, 2)),
        OrderExpired(s + 6, 4, 2, 7, "p", Reason.WOULD_TRIGGER, 1),
        OrderDone(s + 7, 4, 2, 7, "p", BUY, OrderStatus.EXPIRED, 0, 0, 400),
        BookDelta(s + 8, 4, (), ((160, 0),)),
    ]


def test_an_activated_pending_market_order_trades_and_its_trades_trigger_stops() -> None:
    engine = traded_at(150)
    engine.apply(limit(20, 90, BUY, 140, 2))  # what the pending MARKET SELL takes
    engine.apply(stop(21, 91, SELL, SL, 141, 1))  # falls: triggered by the trade at 140
    engine.apply(limit(22, 92, BUY, 139, 5))
    working = limit(1, 7, SELL, 160, 1, cid="w")
    pending = market(2, 7, SELL, qty=1, reserve=1, cid="p")
    engine.apply(PlaceOrderList(SYMBOL, 7, "L", OTO, (working, pending)))
    events = engine.apply(limit(10, 8, BUY, 160, 1, ts=4))
    assert kinds(events[4:]) == [
        "OrderAccepted",  # the pending MARKET SELL
        "ListStatus",
        "Trade",  # at 140 with order 20
        "OrderDone",  # the pending order filled
        "OrderTriggered",  # stop 21
        "Trade",  # at 140 with order 20
        "OrderDone",  # maker 20 filled
        "OrderDone",  # stop 21 filled
        "BookDelta",
    ]
    trades = [(e.maker_order_id, e.taker_order_id, e.price) for e in events if isinstance(e, Trade)]
    assert trades == [(1, 10, 160), (20, 2, 140), (20, 21, 140)]


def test_lists_activated_by_one_taker_run_in_fill_order_before_its_triggered_stops() -> None:
    engine = traded_at(150)
    first = PlaceOrderList(
        SYMBOL, 7, "A", OTO, (limit(1, 7, SELL, 160, 1), limit(2, 7, BUY, 130, 1, maker_only=True))
    )
    second = PlaceOrderList(
        SYMBOL, 8, "B", OTO, (limit(3, 8, SELL, 161, 1), limit(4, 8, BUY, 131, 1, maker_only=True))
    )
    engine.apply(first)
    engine.apply(second)
    engine.apply(stop(5, 9, BUY, SL, 161, 1, reserve=400))
    engine.apply(limit(6, 9, SELL, 170, 1))  # what the triggered stop buys
    events = engine.apply(limit(10, 11, BUY, 161, 2, ts=3))
    order = [
        (type(e).__name__, getattr(e, "order_id", getattr(e, "order_list_id", 0)))
        for e in events
        if isinstance(e, (OrderAccepted, OrderTriggered, ListStatus))
    ]
    assert order == [
        ("OrderAccepted", 10),
        ("OrderAccepted", 2),
        ("ListStatus", 1),
        ("OrderAccepted", 4),
        ("ListStatus", 2),
        ("OrderTriggered", 5),
    ]


def reject(engine: MatchingEngine, command: PlaceOrderList) -> ListStatus:
    before = engine.state()
    (event,) = engine.apply(command)
    assert isinstance(event, ListStatus)
    assert (event.order_list_id, event.status_type, event.list_status) == (
        0,
        ListStatusType.RESPONSE,
        ListOrderStatus.REJECT,
    )
    after = engine.state()
    assert (after.orders, after.lists, after.pending, after.last_list_id) == (
        before.orders,
        before.lists,
        before.pending,
        before.last_list_id,
    )
    return event


def test_oto_and_otoco_rejections_in_order_give_back_both_reserves() -> None:
    engine = traded_at(150)
    good = sell_then_buy()
    w, p = good.orders
    otoco = buy_then_oco()
    work, above, below = otoco.orders

    def oto(*members: PlaceOrder, user: int = 7) -> PlaceOrderList:
        return PlaceOrderList(SYMBOL, user, "L", OTO, members)

    def with_pair(*pair: PlaceOrder) -> PlaceOrderList:
        return PlaceOrderList(SYMBOL, 7, "K", OTOCO, (work, *pair))

    cases = [
        (oto(w), Reason.INVALID_CONTINGENCY),
        (PlaceOrderList(SYMBOL, 7, "L", OTOCO, (w, p)), Reason.INVALID_CONTINGENCY),
        (oto(w, p, user=8), Reason.ORDER_LIST_LEGS_DIFFER),
        (with_pair(above, stop(3, 7, SELL, SL, 140, 2)), Reason.ORDER_LIST_LEGS_DIFFER),
        (oto(market(1, 7, SELL, qty=3, reserve=3), p), Reason.INVALID_OCO_LEG_TYPES),
        (oto(w, market(2, 7, BUY, quote=500, reserve=500)), Reason.INVALID_OCO_LEG_TYPES),
        (with_pair(above, limit(3, 7, SELL, 180, 3)), Reason.INVALID_OCO_LEG_TYPES),
        (oto(w, limit(2, 7, BUY, 140, 3, reserve=419)), Reason.INSUFFICIENT_RESERVE),
        (oto(w, limit(1, 7, BUY, 140, 3)), Reason.DUPLICATE_ORDER_ID),
        (oto(w, limit(2, 7, BUY, 140, 3, cid="w")), Reason.DUPLICATE_CLIENT_ORDER_ID),
        (with_pair(limit(2, 7, SELL, 130, 3, maker_only=True), below), Reason.INVALID_OCO_PRICES),
    ]
    for command, reason in cases:
        event = reject(engine, command)
        assert event.reason == reason, (command, reason)
        assert event.release == command.orders[0].reserve
        assert event.pending_release == (command.orders[1].reserve if len(command.orders) > 1 else 0)
    # Checks 7 and 8 wait for the pending orders' placement: a pending LIMIT_MAKER BUY above the
    # best ask, or a stop that would trigger now, is accepted.
    engine.apply(limit(20, 90, SELL, 145, 1))
    crossing = PlaceOrderList(SYMBOL, 7, "L", OTO, (w, limit(2, 7, BUY, 146, 3, maker_only=True)))
    assert kinds(engine.apply(crossing)) == ["OrderAccepted", "ListStatus", "BookDelta"]


def test_a_snapshot_with_pending_orders_restores_and_goes_on_alike() -> None:
    engine = traded_at(150)
    engine.apply(limit(30, 90, SELL, 155, 1))
    engine.apply(sell_then_buy())
    otoco = buy_then_oco()
    renamed = tuple(
        PlaceOrder(
            *c.values()[:1], c.order_id + 10, *c.values()[2:11], c.client_order_id + "2", *c.values()[12:]
        )
        for c in otoco.orders
    )
    engine.apply(PlaceOrderList(SYMBOL, 7, "K", OTOCO, renamed))
    data = engine.snapshot()
    state = MarketState.decode(data)
    assert [r[0] for r in state.pending] == [2, 12, 13] and len(state.lists) == 2
    restored = MatchingEngine.restore(SPEC, data)
    assert restored.state() == engine.state() and restored.snapshot() == data
    for command in (
        limit(40, 8, SELL, 150, 3, ts=5),  # fills the OTOCO's working order: its pair is placed
        limit(
            41, 8, BUY, 160, 4, ts=6
        ),  # takes 155 then fills the OTO's working order: its pending one is placed
        cancel(7, cid="b2", ts=7),  # the pair's stop member: the LIMIT_MAKER one is cancelled too
    ):
        assert restored.apply(command) == engine.apply(command)
    assert restored.state_hash() == engine.state_hash()
    assert engine.state().lists == () and engine.state().pending == ()
    again = MatchingEngine.restore(SPEC, engine.snapshot())
    assert again.state() == engine.state()


def test_a_version_4_snapshot_restores_without_pending_orders() -> None:
    engine = traded_at(150)
    engine.apply(limit(1, 7, SELL, 160, 1))
    body = engine.snapshot().decode()
    assert body.startswith("[6,") and body.endswith(",[],0]")
    old = ("[4," + body[3:-6] + "]").encode()
    assert MatchingEngine.restore(SPEC, old).state() == engine.state()
