"""Bad PlaceOrder commands: one rejection event with a clear reason, nothing else changes."""

import pytest

from matching import MatchingEngine, OrderRejected, OrderType, PlaceOrder, Reason, Side, TimeInForce
from tests.corehelpers import SPEC, SYMBOL, limit, market

BUY, SELL = Side.BUY, Side.SELL


def place(**changes: object) -> PlaceOrder:
    base: dict[str, object] = dict(
        symbol=SYMBOL,
        order_id=50,
        user_id=5,
        side=BUY,
        order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC,
        price=150,
        quantity=2,
        quote_quantity=0,
        reserve=300,
    )
    base.update(changes)
    return PlaceOrder(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (place(symbol="NOPE"), Reason.UNKNOWN_MARKET),
        (place(order_id=1), Reason.DUPLICATE_ORDER_ID),
        (place(client_order_id="taken"), Reason.DUPLICATE_CLIENT_ORDER_ID),
        (place(price=0), Reason.INVALID_PRICE),
        (place(price=-5), Reason.INVALID_PRICE),
        (place(quantity=0), Reason.INVALID_QUANTITY),
        (place(quote_quantity=10), Reason.INVALID_QUANTITY),
        (place(quantity=2_000_000, reserve=10**12), Reason.QUANTITY_ABOVE_MAX),
        (place(price=40, reserve=80), Reason.BELOW_MIN_NOTIONAL),
        (place(reserve=299), Reason.INSUFFICIENT_RESERVE),
        (place(side=SELL, reserve=1), Reason.INSUFFICIENT_RESERVE),
        (
            place(order_type=OrderType.LIMIT_MAKER, time_in_force=TimeInForce.IOC),
            Reason.INVALID_TIME_IN_FORCE,
        ),
        (place(order_type=9), Reason.INVALID_ORDER_TYPE),
        (place(side=3), Reason.INVALID_SIDE),
        (place(stp_mode=7), Reason.INVALID_STP_MODE),
        (place(time_in_force=0), Reason.INVALID_TIME_IN_FORCE),
        (market(50, 5, BUY, qty=1, quote=100, reserve=500), Reason.INVALID_QUANTITY),
        (market(50, 5, BUY, reserve=500), Reason.INVALID_QUANTITY),
        (market(50, 5, BUY, quote=50, reserve=50), Reason.BELOW_MIN_NOTIONAL),
        (market(50, 5, BUY, qty=1, reserve=0), Reason.INSUFFICIENT_RESERVE),
        (place(order_type=OrderType.MARKET, price=150), Reason.INVALID_PRICE),
    ],
)
def test_rejected_place_changes_nothing_but_seq(command: PlaceOrder, reason: Reason) -> None:
    engine = MatchingEngine(SPEC)
    engine.apply(limit(1, 5, BUY, 140, 1, cid="taken"))
    engine.apply(limit(2, 6, SELL, 160, 1))
    before = engine.state()
    events = engine.apply(command)
    assert events == [
        OrderRejected(
            before.seq + 1,
            command.ts,
            command.order_id,
            command.user_id,
            command.client_order_id,
            command.side,
            reason,
            command.reserve,
        )
    ]
    after = engine.state()
    assert (after.orders, after.trade_id, after.last_price) == (
        before.orders,
        before.trade_id,
        before.last_price,
    )


def test_price_off_tick_and_quantity_off_step() -> None:
    from matching import MarketSpec

    coarse = MarketSpec("TSTUSD", "TST", "USD", 1, 2, 5, 10, 20, 10_000, 100, 0, 0)
    engine = MatchingEngine(coarse)
    off_tick = engine.apply(place(price=152, quantity=100, reserve=10**6))
    off_step = engine.apply(place(price=150, quantity=105, reserve=10**6))
    below_min = engine.apply(place(price=150, quantity=10, reserve=10**6))
    zero = engine.apply(place(price=150, quantity=0, reserve=10**6))
    assert [e.reason for e in off_tick + off_step + below_min + zero] == [  # type: ignore[union-attr]
        Reason.PRICE_OFF_TICK,
        Reason.QUANTITY_OFF_STEP,
        Reason.QUANTITY_BELOW_MIN,
        Reason.INVALID_QUANTITY,
    ]
    assert not engine.orders
