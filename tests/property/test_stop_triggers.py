"""Stop orders over random command sequences (docs/matching.md, Stop orders).

A stop order never triggers before a trade reaches its stop price (a trailing one: before a
trade moves its delta away from its reference), and always triggers in the command whose trade
does (unless its order list ended it first: docs/matching.md, Order lists); an accepted stop
order never would have triggered at once; the triggered order's trades come after its
OrderTriggered.
"""

from hypothesis import HealthCheck, given, settings

from matching import (
    Command,
    MatchingEngine,
    OrderAccepted,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderTriggered,
    OrderType,
    Reason,
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


class Waiting:
    """The model of one waiting stop order: plain, or trailing (docs: Trailing stop orders)."""

    def __init__(self, e: OrderAccepted, last_price: int) -> None:
        self.side, self.order_type, self.stop_price = e.side, e.order_type, e.stop_price
        self.trail = e.trailing_delta
        self.active = bool(self.trail) and not self.stop_price
        self.reference = last_price if self.active else 0

    def sees(self, price: int) -> bool:
        """Apply one trade price; True when it triggers the order."""
        if not self.trail:
            return reached(self.side, self.order_type, self.stop_price, price)
        if not self.active:
            if reached(self.side, self.order_type, self.stop_price, price):
                self.active, self.reference = True, price
            return False
        if not self.reference:
            self.reference = price
            return False
        if self.side == Side.BUY:
            if price * 10_000 >= self.reference * (10_000 + self.trail):
                return True
            self.reference = min(self.reference, price)
        else:
            if price * 10_000 <= self.reference * (10_000 - self.trail):
                return True
            self.reference = max(self.reference, price)
        return False


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands())
def test_stops_trigger_exactly_when_a_trade_reaches_them(cmds: list[Command]) -> None:
    engine = MatchingEngine(SPEC)
    waiting: dict[int, Waiting] = {}
    last_price = 0
    for c in cmds:
        due: set[int] = set()
        unplaced: set[int] = set()  # pending orders of OTO lists reached when activated
        for e in engine.apply(c):
            if isinstance(e, OrderAccepted) and e.order_type in STOP_TYPES:
                if e.stop_price and last_price and reached(e.side, e.order_type, e.stop_price, last_price):
                    # Only an OTO list's pending order is accepted already reached (its working
                    # order's fill reached it); it expires at once, never placed (docs/matching.md).
                    assert e.order_list_id, "a stop order accepted with its stop price reached"
                    unplaced.add(e.order_id)
                    continue
                waiting[e.order_id] = Waiting(e, last_price)
            elif isinstance(e, Trade):
                assert e.taker_order_id not in waiting, "a waiting stop order traded"
                assert e.maker_order_id not in waiting
                last_price = e.price
                due |= {oid for oid, w in waiting.items() if oid not in due and w.sees(e.price)}
            elif isinstance(e, OrderTriggered):
                assert e.order_id in due, "triggered before a trade reached its stop price"
                assert e.stop_price == waiting[e.order_id].stop_price
                del waiting[e.order_id]
                due.discard(e.order_id)
            elif isinstance(e, OrderExpired) and e.reason == Reason.WOULD_TRIGGER:
                unplaced.discard(e.order_id)
            elif isinstance(e, OrderExpired) and e.reason == Reason.ORDER_LIST_SIBLING:
                waiting.pop(e.order_id, None)
                due.discard(e.order_id)  # the other member of its list acted first
            elif isinstance(e, OrderCancelled | OrderDone):
                waiting.pop(e.order_id, None)
        assert not due, f"stop orders {sorted(due)} were reached by a trade but did not trigger"
        assert not unplaced, f"pending orders {sorted(unplaced)} accepted reached but not expired"
        assert set(waiting) == set(engine.stops.orders)
