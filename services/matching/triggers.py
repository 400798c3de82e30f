"""The trigger book: stop orders waiting for a trade to reach their stop price.

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


def rises(side: int, order_type: int) -> bool:
    """Whether a stop order of this side and type triggers on a rising price (>= its stop)."""
    if order_type in (STOP_LOSS, STOP_LOSS_LIMIT):
        return side == BUY
    return side == SELL


class TriggerBook:
    """Waiting stop orders by id, and their (stop, order id) keys sorted ascending: rising ones
    trigger from the front of `rising`, falling ones from the back of `falling`."""

    __slots__ = ("falling", "orders", "rising")

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.rising: list[tuple[int, int]] = []
        self.falling: list[tuple[int, int]] = []

    def add(self, order: Order, stop: int) -> None:
        order.stop = stop
        insort(self.rising if rises(order.side, order.order_type) else self.falling, (stop, order.order_id))
        self.orders[order.order_id] = order

    def remove(self, order: Order) -> None:
        keys = self.rising if rises(order.side, order.order_type) else self.falling
        del keys[bisect_left(keys, (order.stop, order.order_id))]
        del self.orders[order.order_id]

    def take_triggered(self, low: int, high: int) -> list[Order]:
        """Remove and return, in ascending order id, the orders a trade at any price in
        [`low`, `high`] triggers: rising ones with stop <= high, falling ones with stop >= low."""
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
        hit.sort()
        orders = self.orders
        return [orders.pop(order_id) for order_id in hit]
