"""The trigger book as it was before trailing stop orders were grouped (commit 5581c5a): every
trailing order sees every trade price, O(orders waiting) per taker. Kept only as the test oracle
of `matching.triggers.TriggerBook`, with the same interface; its `_trails_to_trigger` is the
specification of docs/matching.md, "Trailing stop orders".
"""

from bisect import bisect_left, insort

from matching.book import Order
from matching.triggers import rises

BUY = 1
BIPS = 10_000


class OracleTriggerBook:
    """Waiting stop orders by id; plain ones keyed by (stop, order id), trailing ones scanned."""

    def __init__(self) -> None:
        self.orders: dict[int, Order] = {}
        self.rising: list[tuple[int, int]] = []
        self.falling: list[tuple[int, int]] = []
        self.trailing: dict[int, Order] = {}

    def add(self, order: Order, stop: int, trail: int, last_price: int) -> None:
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

    def restore(self, order: Order, stop: int, trail: int, active: int, reference: int) -> None:
        self.add(order, stop, trail, 0)
        order.active = active
        order.reference = reference

    def remove(self, order: Order) -> None:
        if order.trail:
            del self.trailing[order.order_id]
        else:
            keys = self.rising if rises(order.side, order.order_type) else self.falling
            del keys[bisect_left(keys, (order.stop, order.order_id))]
        del self.orders[order.order_id]

    def settle_references(self) -> None:
        """References are always up to date here."""

    def take_triggered(self, prices: list[int]) -> list[Order]:
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


def oracle_engine_class() -> type:
    """`matching.engine.MatchingEngine` run from its source, interpreted, with the oracle trigger
    book in place of `matching.triggers.TriggerBook` (everything else the same code)."""
    import importlib.util
    from pathlib import Path

    import matching

    source = Path(matching.__file__).parent / "engine.py"
    spec = importlib.util.spec_from_file_location("oracle_matching_engine", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.TriggerBook = OracleTriggerBook  # type: ignore[attr-defined]
    engine_class: type = module.MatchingEngine
    return engine_class
