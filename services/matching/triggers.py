"""The trigger book: stop orders waiting for trades to reach their stop price, and trailing stop
orders following the price.

Hot path only when stop orders wait: the engine asks it nothing while it is empty. Prices are
ticks. Rules: docs/matching.md, Stop orders.
"""

from bisect import bisect_left, insort
from typing import Final

from matching.book import Order

BUY: Final = 1
SELL: Final = 2
STOP_LOSS: Final = 4
STOP_LOSS_LIMIT: Final = 5
BIPS: Final = 10_000


def rises(side: int, order_type: int) -> bool:
    """Whether a stop order of this side and type triggers (or activates) on a rising price (>= its
    stop price)."""
    if order_type in (STOP_LOSS, STOP_LOSS_LIMIT):
        return side == BUY
    return side == SELL


class TriggerBook:
    """Waiting stop orders by id. Plain ones are also keyed by (stop, order id) sorted ascending:
    rising ones trigger from the front of `rising`, falling ones from the back of `falling`.
    Trailing ones are in `trailing` and see every trade price."""

    __slots__ = ("falling", "orders", "rising", "trailing")

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.rising: list[tuple[int, int]] = []
        self.falling: list[tuple[int, int]] = []
        self.trailing: dict[int, Order] = {}

    def add(self, order: Order, stop: int, trail: int, last_price: int) -> None:
        """Keep `order` waiting; a trailing one without a stop price is active at once, its
        reference the last trade price (0: none yet)."""
        order.stop = stop
        if trail:
            order.trail = trail
            if not stop:
                order.active = 1
                order.reference = last_price
            self.trailing[order.order_id] = order
        else:
            insort(
                self.rising if rises(order.side, order.order_type) else self.falling, (stop, order.order_id)
            )
        self.orders[order.order_id] = order

    def remove(self, order: Order) -> None:
        if order.trail:
            del self.trailing[order.order_id]
        else:
            keys = self.rising if rises(order.side, order.order_type) else self.falling
            del keys[bisect_left(keys, (order.stop, order.order_id))]
        del self.orders[order.order_id]

    def take_triggered(self, prices: list[int]) -> list[Order]:
        """Apply one taker's trade prices, in order; remove and return, in ascending order id, the
        orders they trigger. Plain ones: rising with stop <= the highest price, falling with stop
        >= the lowest. Trailing ones: see `_trails_to_trigger`."""
        low = min(prices)
        high = max(prices)
        rising = self.rising
        n = 0
        while n < len(rising) and rising[n][0] <= high:
            n += 1
        hit = [key[1] for key in rising[:n]]
        del rising[:n]
        falling = self.falling
        k = len(falling)
        while k > 0 and falling[k - 1][0] >= low:
            k -= 1
        hit.extend(key[1] for key in falling[k:])
        del falling[k:]
        if self.trailing:
            trailed = [oid for oid, order in self.trailing.items() if _trails_to_trigger(order, prices)]
            for order_id in trailed:
                del self.trailing[order_id]
            hit.extend(trailed)
        hit.sort()
        orders = self.orders
        return [orders.pop(order_id) for order_id in hit]


def _trails_to_trigger(order: Order, prices: list[int]) -> bool:
    """Apply `prices` to a trailing stop order: activation, reference moves; True when one
    triggers it (docs/matching.md, Trailing stop orders)."""
    buy = order.side == BUY
    for price in prices:
        if not order.active:
            if (price >= order.stop) if rises(order.side, order.order_type) else (price <= order.stop):
                order.active = 1
                order.reference = price
            continue
        reference = order.reference
        if not reference:
            order.reference = price
        elif buy:
            if price * BIPS >= reference * (BIPS + order.trail):
                return True
            if price < reference:
                order.reference = price
        else:
            if price * BIPS <= reference * (BIPS - order.trail):
                return True
            if price > reference:
                order.reference = price
    return False
