"""The order book's storage: resting orders, price levels in time order, both sides sorted.

Hot path: plain classes with `__slots__`, integers only. Prices are ticks, quantities steps.
A cancelled order is marked dead and dropped from its level's queue lazily; a level's `qty` and
`count` cover live orders only, and the queue is compacted when dead entries dominate.
"""

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator

NO_BID = -1
NO_ASK = 1 << 62


class Order:
    """A resting or matching order: price in ticks, quantities in steps, enums as ints.

    `reserve_left` is in units of the asset the order spends. A stop order's `stop` is its stop
    price in ticks (0 for a trailing one without); a trailing stop order's `trail` is its delta in
    basis points, `active` 1 once it follows the price, `reference` its reference price in ticks
    (0 while it has none). All 0 for other orders.
    """

    __slots__ = (
        "active",
        "client_order_id",
        "filled",
        "filled_quote",
        "live",
        "order_id",
        "order_type",
        "price",
        "reference",
        "remaining",
        "reserve_left",
        "side",
        "stop",
        "stp_mode",
        "time_in_force",
        "trail",
        "ts",
        "user_id",
    )

    def __init__(
        self,
        order_id: int,
        user_id: int,
        client_order_id: str,
        side: int,
        order_type: int,
        time_in_force: int,
        stp_mode: int,
        price: int,
        remaining: int,
        reserve_left: int,
        ts: int,
    ) -> None:
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.stp_mode = stp_mode
        self.price = price
        self.remaining = remaining
        self.filled = 0
        self.filled_quote = 0
        self.reserve_left = reserve_left
        self.ts = ts
        self.live = True
        self.stop = 0
        self.trail = 0
        self.active = 0
        self.reference = 0


class Level:
    """Orders at one price in time order; `qty` and `count` cover the live ones."""

    __slots__ = ("count", "orders", "qty")

    def __init__(self) -> None:
        self.orders: deque[Order] = deque()
        self.qty = 0
        self.count = 0

    def live_orders(self) -> Iterator[Order]:
        return (o for o in self.orders if o.live)

    def compact(self) -> None:
        """Drop dead entries once they outnumber the live ones (amortised O(1) per cancel)."""
        if len(self.orders) > 2 * self.count + 8:
            self.orders = deque(o for o in self.orders if o.live)


class BookSide:
    """One side of the book: levels by price, prices sorted, the best price cached.

    `keys` holds each level's sort key in ascending order with the best level last: the price
    for bids, minus the price for asks. Taking or adding near the top is then an append or a pop
    at the end of a flat list (C speed: bisect and memmove).
    `best` is the best price in ticks, or NO_BID / NO_ASK when the side is empty, chosen so
    that a crossing test against an empty side is always false.
    """

    __slots__ = ("best", "is_bid", "keys", "levels")

    def __init__(self, is_bid: bool) -> None:
        self.levels: dict[int, Level] = {}
        self.keys: list[int] = []
        self.is_bid = is_bid
        self.best = NO_BID if is_bid else NO_ASK

    def level_at(self, price: int) -> Level:
        """The level at `price`, created (and made best if better) when missing."""
        level = self.levels.get(price)
        if level is None:
            level = self.levels[price] = Level()
            key = price if self.is_bid else -price
            keys = self.keys
            if not keys or key > keys[-1]:
                keys.append(key)
                self.best = price
            else:
                insort(keys, key)
        return level

    def remove_level(self, price: int) -> None:
        del self.levels[price]
        keys = self.keys
        key = price if self.is_bid else -price
        if keys[-1] == key:
            keys.pop()
            if keys:
                self.best = keys[-1] if self.is_bid else -keys[-1]
            else:
                self.best = NO_BID if self.is_bid else NO_ASK
        else:
            del keys[bisect_left(keys, key)]

    def prices_from_best(self) -> Iterator[int]:
        """Prices from the best outwards."""
        sign = 1 if self.is_bid else -1
        return (sign * key for key in reversed(self.keys))

    def orders_in_priority(self) -> Iterator[Order]:
        """Live orders from the best price outwards, each level in time order."""
        for price in self.prices_from_best():
            yield from self.levels[price].live_orders()
