"""Stop orders over random command sequences (docs/matching.md, Stop orders).

A stop order never triggers before a trade reaches its stop price, and always triggers in the
command whose trade reaches it; an accepted stop order never would have triggered at once; the
triggered order's trades come after its OrderTriggered.
"""

from hypothesis import HealthCheck, given, settings

from matching import (
    Command,
    MatchingEngine,
    OrderAccepted,
    OrderCancelled,
    OrderDone,
    OrderTriggered,
    OrderType,
    Side,
    Trade,
)
from tests.corehelpers import SPEC
from tests.property.strategies import commands

STOP_TYPES = (
    OrderType.STOP_LOSS,
    OrderType.STOP_LOSS_LIMIT,
    OrderType.TAKE_PROFIT,
    OrderType.TAKE_PROFIT_LIMIT,
)


def reached(side: int, order_type: int, stop_price: int, trade_price: int) -> bool:
    rising = (order_type in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)) == (side == Side.BUY)
    return trade_price >= stop_price if rising else trade_price <= stop_price


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands())
def test_stops_trigger_exactly_when_a_trade_reaches_them(cmds: list[Command]) -> None:
    engine = MatchingEngine(SPEC)
    waiting: dict[int, tuple[int, int, int]] = {}  # order id -> (side, type, stop price)
    last_price = 0
    for c in cmds:
        due: set[int] = set()
        for e in engine.apply(c):
            if isinstance(e, OrderAccepted) and e.order_type in STOP_TYPES:
                assert not last_price or not reached(e.side, e.order_type, e.stop_price, last_price)
                waiting[e.order_id] = (e.side, e.order_type, e.stop_price)
            elif isinstance(e, Trade):
                assert e.taker_order_id not in waiting, "a waiting stop order traded"
                assert e.maker_order_id not in waiting
                last_price = e.price
                due |= {oid for oid, w in waiting.items() if reached(*w, e.price)}
            elif isinstance(e, OrderTriggered):
                assert e.order_id in due, "triggered before a trade reached its stop price"
                assert e.stop_price == waiting[e.order_id][2]
                del waiting[e.order_id]
                due.discard(e.order_id)
            elif isinstance(e, OrderCancelled | OrderDone):
                waiting.pop(e.order_id, None)
        assert not due, f"stop orders {sorted(due)} were reached by a trade but did not trigger"
        assert set(waiting) == set(engine.stops.orders)
