"""The trigger book: stop orders waiting for trades to reach their stop price, and trailing stop
orders following the price.

Hot path only when stop orders wait: the engine asks it nothing while it is empty. Prices are
ticks. Rules: docs/matching.md, Stop orders. A taker's trades cost O(log n) plus the orders they
trigger, activate or move (trailing ones: by group, matching.trailing), not O(orders waiting).
"""

from bisect import bisect_left, insort
from typing import Final

from matching.book import Order
from matching.trailing import TrailSide

BUY: Final = 1
SELL: Final = 2
STOP_LOSS: Final = 4
STOP_LOSS_LIMIT: Final = 5


def rises(side: int, order_type: int) -> bool:
    """Whether a stop order of this side and type triggers (or activates) on a rising price (>= its
    stop price)."""
    if order_type in (STOP_LOSS, STOP_LOSS_LIMIT):
        return side == BUY
    return side == SELL


class TriggerBook:
    """Waiting stop orders by id.

    Plain ones are keyed by (stop, order id) sorted ascending: rising ones trigger from the front
    of `rising`, falling ones from the back of `falling`. Trailing ones: inactive ones wait for
    their activation likewise in `trail_rising` / `trail_falling`; active ones are in
    `trail_buys` / `trail_sells` (matching.trailing), or in `unreferenced` while no trade price
    has given them a reference. `trailing` counts the trailing ones. The `reference` of an active
    trailing order is only up to date after `settle_references()`.
    """

    __slots__ = (
        "falling",
        "orders",
        "rising",
        "trail_buys",
        "trail_falling",
        "trail_rising",
        "trail_sells",
        "trailing",
        "unreferenced",
    )

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.rising: list[tuple[int, int]] = []
        self.falling: list[tuple[int, int]] = []
        self.trailing = 0
        self.trail_rising: list[tuple[int, int]] = []
        self.trail_falling: list[tuple[int, int]] = []
        self.trail_buys = TrailSide(True)
        self.trail_sells = TrailSide(False)
        self.unreferenced: dict[int, Order] = {}

    def add(self, order: Order, stop: int, trail: int, last_price: int) -> None:
        """Keep `order` waiting; a trailing one without a stop price is active at once, its
        reference the last trade price (0: none yet)."""
        order.stop = stop
        if trail:
            order.trail = trail
            if not stop:
                order.active = 1
                order.reference = last_price
        self._keep(order)

    def restore(self, order: Order, stop: int, trail: int, active: int, reference: int) -> None:
        """Keep `order` waiting in the state a snapshot recorded (matching.state, TriggerRecord)."""
        order.stop = stop
        order.trail = trail
        order.active = active
        order.reference = reference
        self._keep(order)

    def _keep(self, order: Order) -> None:
        order_id = order.order_id
        if not order.trail:
            keys = self.rising if rises(order.side, order.order_type) else self.falling
            insort(keys, (order.stop, order_id))
        else:
            self.trailing += 1
            if not order.active:
                keys = self.trail_rising if rises(order.side, order.order_type) else self.trail_falling
                insort(keys, (order.stop, order_id))
            elif not order.reference:
                self.unreferenced[order_id] = order
            else:
                (self.trail_buys if order.side == BUY else self.trail_sells).add(order, order.reference)
        self.orders[order_id] = order

    def remove(self, order: Order) -> None:
        order_id = order.order_id
        if not order.trail:
            keys = self.rising if rises(order.side, order.order_type) else self.falling
            del keys[bisect_left(keys, (order.stop, order_id))]
        else:
            self.trailing -= 1
            if not order.active:
                keys = self.trail_rising if rises(order.side, order.order_type) else self.trail_falling
                del keys[bisect_left(keys, (order.stop, order_id))]
            elif order_id in self.unreferenced:
                del self.unreferenced[order_id]
            else:
                (self.trail_buys if order.side == BUY else self.trail_sells).remove(order)
        del self.orders[order_id]

    def settle_references(self) -> None:
        """Bring every active trailing order's `reference` field up to date (for the state)."""
        self.trail_buys.settle_references()
        self.trail_sells.settle_references()

    def take_triggered(self, prices: list[int]) -> list[Order]:
        """Apply one taker's trade prices, in order; remove and return, in ascending order id, the
        orders they trigger. Plain ones: rising with stop <= the highest price, falling with stop
        >= the lowest. Trailing ones: see `_trail`."""
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
        if self.trailing and self._trails_move(low, high):
            before = len(hit)
            self._trail(prices, hit)
            self.trailing -= len(hit) - before
        hit.sort()
        orders = self.orders
        return [orders.pop(order_id) for order_id in hit]

    def _trails_move(self, low: int, high: int) -> bool:
        """Whether prices between `low` and `high` may change any trailing order: trigger one
        (a group's key reached), move a reference (passed), activate one, or give one its first
        reference. False for most takers: then `_trail` is skipped, O(1)."""
        buys = self.trail_buys
        if buys.orefs and (buys.orefs[-1] > low or buys.heap[0][0] <= high):
            return True
        sells = self.trail_sells
        if sells.orefs and (sells.orefs[-1] > -high or sells.heap[0][0] <= -low):
            return True
        rising = self.trail_rising
        if rising and rising[0][0] <= high:
            return True
        falling = self.trail_falling
        if falling and falling[-1][0] >= low:
            return True
        return len(self.unreferenced) > 0

    def _trail(self, prices: list[int], hit: list[int]) -> None:
        """Apply `prices`, in order, to the trailing orders (docs/matching.md, Trailing stop
        orders); append to `hit` the ids of those triggered. At each price, the active orders see
        it first (trigger, or move their reference), then the orders it activates, and active ones
        without a reference, take it as their reference (without triggering)."""
        buys = self.trail_buys
        sells = self.trail_sells
        rising = self.trail_rising
        falling = self.trail_falling
        unreferenced = self.unreferenced
        for price in prices:
            if buys.orefs:
                buys.apply(price, hit)
            if sells.orefs:
                sells.apply(price, hit)
            if rising and rising[0][0] <= price:
                n = 1
                while n < len(rising) and rising[n][0] <= price:
                    n += 1
                for key in rising[:n]:
                    self._activate(self.orders[key[1]], price)
                del rising[:n]
            if falling and falling[-1][0] >= price:
                k = len(falling) - 1
                while k > 0 and falling[k - 1][0] >= price:
                    k -= 1
                for key in falling[k:]:
                    self._activate(self.orders[key[1]], price)
                del falling[k:]
            if unreferenced:
                for order in unreferenced.values():
                    self._activate(order, price)
                unreferenced.clear()

    def _activate(self, order: Order, price: int) -> None:
        """Make `order` active with reference `price`."""
        order.active = 1
        order.reference = price
        (self.trail_buys if order.side == BUY else self.trail_sells).add(order, price)
