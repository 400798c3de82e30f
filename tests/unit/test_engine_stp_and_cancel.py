"""Self-trade prevention, cancels, and the state snapshot of the matching core."""

import pytest

from matching import (
    CancelRejected,
    MatchingEngine,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderStatus,
    Reason,
    Side,
    StpMode,
    TimeInForce,
    Trade,
    enums,
)
from matching import engine as engine_module
from tests.corehelpers import SPEC, cancel, cancel_all, limit

BUY, SELL = Side.BUY, Side.SELL


def book_with_own_and_other_asks() -> MatchingEngine:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, SELL, 150, 1))  # own, first in time
    engine.apply(limit(2, 6, SELL, 150, 1))  # another user
    return engine


def test_expire_taker_stops_at_own_order_and_leaves_it() -> None:
    engine = book_with_own_and_other_asks()
    events = engine.apply(limit(3, 5, BUY, 150, 2, stp=StpMode.EXPIRE_TAKER))
    assert not [e for e in events if isinstance(e, Trade)]
    expired = next(e for e in events if isinstance(e, OrderExpired))
    assert (expired.order_id, expired.reason, expired.remaining) == (3, Reason.SELF_TRADE_TAKER, 2)
    assert [type(e).__name__ for e in events] == ["OrderAccepted", "OrderExpired", "OrderDone"]
    assert events[-1].status == OrderStatus.EXPIRED_IN_MATCH  # type: ignore[union-attr]
    assert set(engine.orders) == {1, 2}


def test_expire_maker_removes_own_order_and_keeps_matching() -> None:
    engine = book_with_own_and_other_asks()
    events = engine.apply(limit(3, 5, BUY, 150, 2, stp=StpMode.EXPIRE_MAKER))
    maker_expired = next(e for e in events if isinstance(e, OrderExpired))
    assert (maker_expired.order_id, maker_expired.reason) == (1, Reason.SELF_TRADE_MAKER)
    trades = [e for e in events if isinstance(e, Trade)]
    assert [t.maker_order_id for t in trades] == [2]
    assert list(engine.orders) == [3]  # the taker rests with 1 left
    assert engine.orders[3].remaining == 1


def test_expire_both_removes_maker_and_ends_taker() -> None:
    engine = book_with_own_and_other_asks()
    events = engine.apply(limit(3, 5, BUY, 150, 2, stp=StpMode.EXPIRE_BOTH))
    expired = [(e.order_id, e.reason) for e in events if isinstance(e, OrderExpired)]
    assert expired == [(1, Reason.SELF_TRADE_MAKER), (3, Reason.SELF_TRADE_TAKER)]
    assert list(engine.orders) == [2]


def prevented(events: list[object]) -> list[tuple[int, int, int, int, int, int]]:
    """(order, reason, prevented match id, counter order, price, STP mode) of each OrderExpired."""
    return [
        (e.order_id, e.reason, e.prevented_match_id, e.counter_order_id, e.price, e.stp_mode)
        for e in events
        if isinstance(e, OrderExpired)
    ]


def test_each_self_trade_is_a_prevented_match_numbered_in_the_market() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, SELL, 150, 2))
    engine.apply(limit(2, 5, SELL, 151, 3))
    engine.apply(limit(3, 6, SELL, 152, 1))
    taker = engine.apply(limit(4, 5, BUY, 150, 1, stp=StpMode.EXPIRE_TAKER))
    assert prevented(taker) == [(4, Reason.SELF_TRADE_TAKER, 1, 1, 150, StpMode.EXPIRE_TAKER)]
    assert next(e for e in taker if isinstance(e, OrderExpired)).remaining == 1
    makers = engine.apply(limit(5, 5, BUY, 152, 5, stp=StpMode.EXPIRE_MAKER))
    assert prevented(makers) == [
        (1, Reason.SELF_TRADE_MAKER, 2, 5, 150, StpMode.EXPIRE_MAKER),
        (2, Reason.SELF_TRADE_MAKER, 3, 5, 151, StpMode.EXPIRE_MAKER),
    ]
    assert [e.remaining for e in makers if isinstance(e, OrderExpired)] == [2, 3]  # prevented quantities
    engine.apply(limit(6, 5, SELL, 153, 2))
    both = engine.apply(limit(7, 5, SELL, 152, 3, stp=StpMode.EXPIRE_BOTH))
    assert prevented(both) == [
        (5, Reason.SELF_TRADE_MAKER, 4, 7, 152, StpMode.EXPIRE_BOTH),  # the rest of order 5, 4 left
        (7, Reason.SELF_TRADE_TAKER, 4, 5, 152, StpMode.EXPIRE_BOTH),
    ]
    assert [e.remaining for e in both if isinstance(e, OrderExpired)] == [4, 3]
    assert engine.prevented_match_id == 4
    restored = MatchingEngine.restore(SPEC, engine.snapshot())
    assert restored.prevented_match_id == 4 and restored.state_hash() == engine.state_hash()
    engine.apply(limit(8, 5, SELL, 153, 1))
    again = limit(9, 5, BUY, 153, 1, stp=StpMode.EXPIRE_TAKER)
    assert prevented(restored.apply(limit(8, 5, SELL, 153, 1)) + restored.apply(again)) == prevented(
        engine.apply(again)
    ) == [(9, Reason.SELF_TRADE_TAKER, 5, 6, 153, StpMode.EXPIRE_TAKER)]  # fmt: skip


def test_a_version_5_snapshot_restores_with_no_prevented_match_given() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, SELL, 150, 2))
    body = engine.snapshot().decode()
    assert body.startswith("[6,") and body.endswith(",0]")
    restored = MatchingEngine.restore(SPEC, ("[5," + body[3:-3] + "]").encode())
    assert restored.state() == engine.state() and restored.prevented_match_id == 0
    events = restored.apply(limit(2, 5, BUY, 150, 1, stp=StpMode.EXPIRE_TAKER))
    assert prevented(events) == [(2, Reason.SELF_TRADE_TAKER, 1, 1, 150, StpMode.EXPIRE_TAKER)]


def test_other_expiries_carry_no_prevented_match() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, SELL, 150, 1))
    events = engine.apply(limit(2, 6, BUY, 150, 3, tif=TimeInForce.IOC))
    assert prevented(events) == [(2, Reason.IOC_REMAINDER, 0, 0, 0, 0)]
    assert engine.prevented_match_id == 0


def test_stp_none_allows_a_self_trade() -> None:
    engine = book_with_own_and_other_asks()
    events = engine.apply(limit(3, 5, BUY, 150, 1))
    trade = next(e for e in events if isinstance(e, Trade))
    assert trade.maker_user_id == trade.taker_user_id == 5


def test_cancel_by_id_and_by_client_id_release_the_reservation() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, BUY, 150, 2, reserve=400, cid="mine"))
    engine.apply(limit(2, 5, SELL, 160, 3))
    by_id = engine.apply(cancel(5, oid=1))
    assert isinstance(by_id[0], OrderCancelled) and by_id[0].remaining == 2
    assert isinstance(by_id[1], OrderDone)
    assert (by_id[1].status, by_id[1].release) == (OrderStatus.CANCELED, 400)
    by_cid = engine.apply(limit(3, 5, BUY, 140, 1, cid="again"))
    assert by_cid
    events = engine.apply(cancel(5, cid="again"))
    assert events[0].order_id == 3  # type: ignore[union-attr]
    assert engine.depth(5) == ([], [(160, 3)])


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (cancel(5, oid=99), Reason.UNKNOWN_ORDER),
        (cancel(5, cid="nope"), Reason.UNKNOWN_ORDER),
        (cancel(6, oid=1), Reason.ORDER_NOT_OWNED),
        (cancel_all(6), Reason.UNKNOWN_ORDER),
    ],
)
def test_bad_cancels_are_rejected_and_change_nothing(command: object, reason: Reason) -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, BUY, 150, 2))
    before = engine.state()
    events = engine.apply(command)  # type: ignore[arg-type]
    assert len(events) == 1 and isinstance(events[0], CancelRejected)
    assert events[0].reason == reason
    after = engine.state()
    assert (after.orders, after.trade_id) == (before.orders, before.trade_id)
    assert after.seq == before.seq + 1


def test_cancel_all_cancels_only_the_users_orders_oldest_first() -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, BUY, 150, 2))
    engine.apply(limit(2, 6, BUY, 150, 2))
    engine.apply(limit(3, 5, SELL, 170, 1))
    events = engine.apply(cancel_all(5))
    assert [e.order_id for e in events if isinstance(e, OrderCancelled)] == [1, 3]
    assert list(engine.orders) == [2]
    assert engine.depth(5) == ([(150, 2)], [])


def test_snapshot_restores_the_exact_state() -> None:
    engine = MatchingEngine(SPEC)
    for i, (side, price) in enumerate([(BUY, 150), (BUY, 149), (SELL, 155), (BUY, 150), (SELL, 156)]):
        engine.apply(limit(i + 1, i % 3, side, price, 2, cid=f"c{i}"))
    engine.apply(limit(10, 9, SELL, 150, 3))
    restored = MatchingEngine.restore(SPEC, engine.snapshot())
    assert restored.state_hash() == engine.state_hash()
    follow = limit(11, 9, SELL, 149, 4)
    assert restored.apply(follow) == engine.apply(follow)
    assert restored.state_hash() == engine.state_hash()


def test_engine_constants_equal_the_enums() -> None:
    pairs = {
        "BUY": enums.Side.BUY,
        "SELL": enums.Side.SELL,
        "LIMIT": enums.OrderType.LIMIT,
        "LIMIT_MAKER": enums.OrderType.LIMIT_MAKER,
        "MARKET": enums.OrderType.MARKET,
        "GTC": enums.TimeInForce.GTC,
        "FOK": enums.TimeInForce.FOK,
        "EXPIRE_TAKER": enums.StpMode.EXPIRE_TAKER,
        "EXPIRE_MAKER": enums.StpMode.EXPIRE_MAKER,
        "EXPIRE_BOTH": enums.StpMode.EXPIRE_BOTH,
        "FILLED": enums.OrderStatus.FILLED,
        "CANCELED": enums.OrderStatus.CANCELED,
        "EXPIRED": enums.OrderStatus.EXPIRED,
        "EXPIRED_IN_MATCH": enums.OrderStatus.EXPIRED_IN_MATCH,
        "OK": enums.Reason.NONE,
        "NO_LIQUIDITY": enums.Reason.NO_LIQUIDITY,
        "FOK_NOT_FILLABLE": enums.Reason.FOK_NOT_FILLABLE,
        "IOC_REMAINDER": enums.Reason.IOC_REMAINDER,
        "MARKET_REMAINDER": enums.Reason.MARKET_REMAINDER,
        "SELF_TRADE_TAKER": enums.Reason.SELF_TRADE_TAKER,
        "SELF_TRADE_MAKER": enums.Reason.SELF_TRADE_MAKER,
        "RESERVE_EXHAUSTED": enums.Reason.RESERVE_EXHAUSTED,
    }
    for name, member in pairs.items():
        assert getattr(engine_module, name) == member, name
