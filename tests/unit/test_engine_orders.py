"""The matching rules of docs/matching.md, one scenario at a time, with exact events."""

from matching import (
    BookDelta,
    MatchingEngine,
    OrderAccepted,
    OrderDone,
    OrderExpired,
    OrderStatus,
    Reason,
    Side,
    TimeInForce,
    Trade,
)
from matching.events import Event
from tests.corehelpers import SPEC, limit, market

BUY, SELL = Side.BUY, Side.SELL


def kinds(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]


def new_engine(*commands: object) -> MatchingEngine:
    engine = MatchingEngine(SPEC)
    for c in commands:
        engine.apply(c)  # type: ignore[arg-type]
    return engine


def test_resting_limit_is_accepted_and_shown_in_the_book() -> None:
    engine = MatchingEngine(SPEC)
    events = engine.apply(limit(1, 7, BUY, 150, 3, cid="a", ts=1000))
    assert events == [
        OrderAccepted(1, 1000, 1, 7, "a", BUY, 1, 1, 150, 3, 0, 450, 0),
        BookDelta(2, 1000, ((150, 3),), ()),
    ]
    assert engine.depth(5) == ([(150, 3)], [])
    assert engine.best_bid() == 150 and engine.best_ask() == 0


def test_crossing_limit_trades_at_the_maker_price_with_fees_and_releases_the_improvement() -> None:
    engine = new_engine(limit(1, 7, SELL, 150, 3, ts=1))
    events = engine.apply(limit(2, 8, BUY, 160, 2, ts=2))
    # 2 TST at 1.50 = 300 cents; taker (buyer) pays 0.2% of 2 TST = 0.004 -> 1 TST rounded up;
    # maker (seller) pays 0.1% of 300 cents = 0.3 -> 1 cent.
    assert events == [
        OrderAccepted(3, 2, 2, 8, "", BUY, 1, 1, 160, 2, 0, 320, 0),
        Trade(4, 2, 1, 150, 2, 300, BUY, 1, 7, 2, 8, 1, 1, 2, 300, 2, 300),
        OrderDone(5, 2, 2, 8, "", BUY, OrderStatus.FILLED, 2, 300, 20),
        BookDelta(6, 2, (), ((150, 1),)),
    ]
    assert engine.last_price == 150


def test_price_then_time_priority() -> None:
    engine = new_engine(
        limit(1, 1, SELL, 151, 1),
        limit(2, 2, SELL, 150, 1),
        limit(3, 3, SELL, 150, 1),
    )
    events = engine.apply(limit(4, 9, BUY, 151, 3))
    makers = [e.maker_order_id for e in events if isinstance(e, Trade)]
    assert makers == [2, 3, 1]
    assert [e.price for e in events if isinstance(e, Trade)] == [150, 150, 151]
    done = [e.order_id for e in events if isinstance(e, OrderDone)]
    assert done == [2, 3, 1, 4]


def test_partial_fill_rests_the_remainder_behind_existing_orders() -> None:
    engine = new_engine(limit(1, 1, SELL, 150, 2), limit(2, 2, BUY, 149, 1))
    engine.apply(limit(3, 3, BUY, 150, 5))
    assert engine.depth(5) == ([(150, 3), (149, 1)], [])
    order = engine.orders[3]
    assert (order.remaining, order.filled, order.reserve_left) == (3, 2, 750 - 300)


def test_ioc_remainder_expires() -> None:
    engine = new_engine(limit(1, 1, SELL, 150, 2))
    events = engine.apply(limit(2, 2, BUY, 150, 5, tif=TimeInForce.IOC))
    assert kinds(events) == ["OrderAccepted", "Trade", "OrderDone", "OrderExpired", "OrderDone", "BookDelta"]
    expired = events[3]
    assert isinstance(expired, OrderExpired)
    assert (expired.reason, expired.remaining) == (Reason.IOC_REMAINDER, 3)
    done = events[4]
    assert isinstance(done, OrderDone)
    assert (done.status, done.filled, done.release) == (OrderStatus.EXPIRED, 2, 750 - 300)
    assert engine.depth(5) == ([], [])


def test_fok_that_cannot_fill_changes_nothing() -> None:
    engine = new_engine(limit(1, 1, SELL, 150, 2), limit(2, 1, SELL, 152, 5))
    before = engine.depth(5)
    events = engine.apply(limit(3, 2, BUY, 151, 3, tif=TimeInForce.FOK))
    assert kinds(events) == ["OrderAccepted", "OrderExpired", "OrderDone"]
    assert events[1].reason == Reason.FOK_NOT_FILLABLE  # type: ignore[union-attr]
    assert events[2].release == 453  # type: ignore[union-attr]
    assert engine.depth(5) == before


def test_fok_on_an_empty_book_is_not_fillable() -> None:
    events = MatchingEngine(SPEC).apply(limit(1, 2, BUY, 151, 3, tif=TimeInForce.FOK))
    assert kinds(events) == ["OrderAccepted", "OrderExpired", "OrderDone"]
    assert events[1].reason == Reason.FOK_NOT_FILLABLE  # type: ignore[union-attr]


def test_fok_that_can_fill_fills_completely() -> None:
    engine = new_engine(limit(1, 1, SELL, 150, 2), limit(2, 1, SELL, 151, 5))
    events = engine.apply(limit(3, 2, BUY, 151, 3, tif=TimeInForce.FOK))
    trades = [e for e in events if isinstance(e, Trade)]
    assert [(t.price, t.quantity) for t in trades] == [(150, 2), (151, 1)]
    assert events[-2].status == OrderStatus.FILLED  # type: ignore[union-attr]


def test_limit_maker_rests_or_is_rejected_if_it_would_take() -> None:
    engine = new_engine(limit(1, 1, SELL, 150, 2))
    rejected = engine.apply(limit(2, 2, BUY, 150, 1, maker_only=True))
    assert kinds(rejected) == ["OrderRejected"]
    assert rejected[0].reason == Reason.WOULD_TAKE  # type: ignore[union-attr]
    assert rejected[0].release == 150  # type: ignore[union-attr]
    rested = engine.apply(limit(3, 2, BUY, 149, 1, maker_only=True))
    assert kinds(rested) == ["OrderAccepted", "BookDelta"]


def test_market_buy_by_quantity_walks_the_book() -> None:
    engine = new_engine(limit(1, 1, SELL, 150, 1), limit(2, 1, SELL, 155, 4))
    events = engine.apply(market(3, 2, BUY, qty=3, reserve=10_000))
    trades = [e for e in events if isinstance(e, Trade)]
    assert [(t.price, t.quantity, t.quote_quantity) for t in trades] == [(150, 1, 150), (155, 2, 310)]
    done = events[-2]
    assert isinstance(done, OrderDone)
    assert (done.status, done.filled, done.filled_quote, done.release) == (
        OrderStatus.FILLED,
        3,
        460,
        10_000 - 460,
    )


def test_market_buy_stops_at_its_reservation() -> None:
    engine = new_engine(limit(1, 1, SELL, 150, 5))
    events = engine.apply(market(2, 2, BUY, qty=5, reserve=400))
    trade = next(e for e in events if isinstance(e, Trade))
    assert (trade.quantity, trade.quote_quantity) == (2, 300)
    expired = next(e for e in events if isinstance(e, OrderExpired))
    assert (expired.reason, expired.remaining) == (Reason.RESERVE_EXHAUSTED, 3)
    assert events[-2].release == 100  # type: ignore[union-attr]


def test_market_buy_by_quote_spends_at_most_the_amount() -> None:
    engine = new_engine(limit(1, 1, SELL, 150, 5), limit(2, 1, SELL, 160, 5))
    events = engine.apply(market(3, 2, BUY, quote=500, reserve=500))
    trades = [e for e in events if isinstance(e, Trade)]
    assert [(t.price, t.quantity) for t in trades] == [(150, 3)]
    done = events[-2]
    assert isinstance(done, OrderDone)
    assert (done.status, done.filled_quote, done.release) == (OrderStatus.FILLED, 450, 50)


def test_market_sell_by_quote_sells_until_the_amount_is_received() -> None:
    engine = new_engine(limit(1, 1, BUY, 150, 10))
    events = engine.apply(market(2, 2, SELL, quote=460, reserve=8))
    trades = [e for e in events if isinstance(e, Trade)]
    assert [(t.price, t.quantity, t.quote_quantity) for t in trades] == [(150, 3, 450)]
    done = events[-2]
    assert isinstance(done, OrderDone)
    assert (done.status, done.filled, done.release) == (OrderStatus.FILLED, 3, 5)


def test_market_order_without_liquidity_expires() -> None:
    engine = MatchingEngine(SPEC)
    events = engine.apply(market(1, 2, SELL, qty=3, reserve=3))
    assert kinds(events) == ["OrderAccepted", "OrderExpired", "OrderDone"]
    assert events[1].reason == Reason.NO_LIQUIDITY  # type: ignore[union-attr]
    assert events[2].release == 3  # type: ignore[union-attr]


def test_fees_round_up_only_a_remainder_on_either_side_and_at_any_size() -> None:
    # A selling taker pays 0.2% of the quote received, the buying maker 0.1% of the base bought.
    engine = new_engine(limit(1, 7, BUY, 1000, 500, ts=1))
    (trade,) = [e for e in engine.apply(limit(2, 8, SELL, 1000, 500, ts=2)) if isinstance(e, Trade)]
    assert (trade.quote_quantity, trade.taker_fee, trade.maker_fee) == (500_000, 1000, 1)  # exact; 0.5 -> 1
    # A quote beyond 2**30 (compiled: past the machine-integer fast path of a product).
    engine = new_engine(limit(3, 7, SELL, 1_000_000, 1_000_000, ts=3))
    (trade,) = [e for e in engine.apply(limit(4, 8, BUY, 1_000_000, 1_000_000, ts=4)) if isinstance(e, Trade)]
    assert (trade.quote_quantity, trade.taker_fee, trade.maker_fee) == (10**12, 2000, 10**9)
    engine = new_engine(limit(5, 7, SELL, 999_999, 999_999, ts=5))
    (trade,) = [e for e in engine.apply(limit(6, 8, BUY, 999_999, 999_999, ts=6)) if isinstance(e, Trade)]
    assert trade.quote_quantity == 999_998_000_001
    assert trade.taker_fee == 2000  # 1999.998 rounded up
    assert trade.maker_fee == 999_998_001  # 999,998,000.001 rounded up
