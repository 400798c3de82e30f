"""Active trailing stop orders of one side, grouped by reference price, so that a trade price costs
O(log n) plus the orders it triggers or moves as a group, whatever the number of orders waiting.

The rule (docs/matching.md, Trailing stop orders): an active BUY with reference r and delta d
triggers on a price p with `p * BIPS >= r * (BIPS + d)`, and otherwise its reference becomes
min(r, p); a SELL triggers with `p * BIPS <= r * (BIPS - d)`, otherwise max(r, p). So:

- A price moves the reference of every order whose reference it passes (BUY: r > p; SELL: r < p),
  and of no other, to p itself: those orders' groups merge into the group at p. A BUY that a
  price triggers has r < p, so moving and triggering never concern the same order.
- In a group (one reference), the order with the smallest delta triggers first; each group keeps
  a heap of (delta, order id). Its `key` is the integer trigger threshold of its smallest delta:
  BUY: ceil(r * (BIPS + d) / BIPS), the least price that triggers; SELL: minus
  floor(r * (BIPS - d) / BIPS), minus the highest. A price p can trigger an order of the group
  only when key <= p (BUY) or key <= -p (SELL): exactly the rule for integer prices. The trigger
  decision itself uses the rule's comparison above.
- A heap of (key, oref) over the groups finds those a price triggers. `oref` is the group's
  reference for BUY and minus it for SELL, so that for both sides a price passes the groups
  with oref > bound (bound = p, or -p) and triggers those with key <= bound.

Merging moves the members of the smaller groups into the largest (each order moves O(log n)
times amortized). An order's `reference` field is stale while it waits here: its group's
`reference` is the truth, written back by `settle_references` (for the state) and when it
triggers. Heaps may hold stale entries (cancelled orders, groups merged away or re-keyed): they are
skipped when met and dropped by rebuilds once they outnumber the live ones. A group's `key` may be
a lower bound (its smallest delta cancelled): the group is then looked at early, found to trigger
nothing, and re-keyed.
"""

from bisect import bisect_right, insort
from heapq import heapify, heappop, heappush
from typing import Final

from matching.book import Order

BIPS: Final = 10_000


class TrailGroup:
    """Active trailing stop orders of one side with one reference price (ticks)."""

    __slots__ = ("heap", "key", "members", "reference")

    def __init__(self, reference: int) -> None:
        self.reference = reference
        self.members: dict[int, Order] = {}
        self.heap: list[tuple[int, int]] = []  # (trailing delta, order id); may hold stale entries
        self.key = 0


class TrailSide:
    """The active trailing stop orders of one side (BUY or SELL); see the module's docstring."""

    __slots__ = ("buy", "group_of", "groups", "heap", "orefs")

    def __init__(self, buy: bool) -> None:
        self.buy = buy
        self.groups: dict[int, TrailGroup] = {}  # oref -> group
        self.orefs: list[int] = []  # the groups' orefs, ascending
        self.heap: list[tuple[int, int]] = []  # (key, oref); may hold stale entries
        self.group_of: dict[int, TrailGroup] = {}  # order id -> its group

    def threshold_key(self, reference: int, trail: int) -> int:
        """The group key of an order with this reference and delta (see the module's docstring)."""
        if self.buy:
            return (reference * (BIPS + trail) + BIPS - 1) // BIPS  # rounded up; no negative factor
        return -((reference * (BIPS - trail)) // BIPS)

    def add(self, order: Order, reference: int) -> None:
        """Keep an active `order` with reference price `reference` (> 0)."""
        oref = reference if self.buy else -reference
        group = self.groups.get(oref)
        if group is None:
            group = self.groups[oref] = TrailGroup(reference)
            orefs = self.orefs
            if not orefs or oref > orefs[-1]:
                orefs.append(oref)
            else:
                insort(orefs, oref)
            group.key = self.threshold_key(reference, order.trail)
            self._push(group.key, oref)
        else:
            key = self.threshold_key(reference, order.trail)
            if key < group.key:
                group.key = key
                self._push(key, oref)
        order_id = order.order_id
        group.members[order_id] = order
        heappush(group.heap, (order.trail, order_id))
        self.group_of[order_id] = group

    def remove(self, order: Order) -> None:
        """Forget a waiting `order` (cancelled). Its group's key stays, a lower bound."""
        order_id = order.order_id
        group = self.group_of.pop(order_id)
        members = group.members
        del members[order_id]
        if not members:
            self._drop(group)
        elif len(group.heap) > 2 * len(members) + 8:
            group.heap = [(o.trail, oid) for oid, o in members.items()]
            heapify(group.heap)

    def apply(self, price: int, hit: list[int]) -> None:
        """Apply one trade price: move the references it passes, append to `hit` the ids of the
        orders it triggers (removed)."""
        bound = price if self.buy else -price
        orefs = self.orefs
        if orefs and orefs[-1] > bound:
            self._merge(price, bound)
        groups = self.groups
        while True:
            heap = self.heap  # `_take` may rebuild it
            if not heap or heap[0][0] > bound:
                break
            key, oref = heappop(heap)
            group = groups.get(oref)
            if group is not None and group.key == key:
                self._take(group, price, hit)

    def settle_references(self) -> None:
        """Write each waiting order's reference (its group's) into its `reference` field."""
        for group in self.groups.values():
            reference = group.reference
            for order in group.members.values():
                order.reference = reference

    def _take(self, group: TrailGroup, price: int, hit: list[int]) -> None:
        """Remove the orders of `group` that `price` triggers, then re-key or drop the group."""
        reference = group.reference
        heap = group.heap
        members = group.members
        group_of = self.group_of
        buy = self.buy
        while heap:
            trail, order_id = heap[0]
            order = members.get(order_id)
            if order is None or order.trail != trail:
                heappop(heap)
                continue
            if (
                (price * BIPS >= reference * (BIPS + trail))
                if buy
                else (price * BIPS <= reference * (BIPS - trail))
            ):
                heappop(heap)
                del members[order_id]
                del group_of[order_id]
                order.reference = reference
                hit.append(order_id)
            else:
                break
        if not members:
            self._drop(group)
            return
        group.key = self.threshold_key(reference, heap[0][0])
        self._push(group.key, reference if buy else -reference)

    def _merge(self, price: int, bound: int) -> None:
        """Move every group with oref >= bound into one group with reference `price`: the largest
        takes the others' members (small into large)."""
        orefs = self.orefs
        groups = self.groups
        i = bisect_right(orefs, bound)
        if i and orefs[i - 1] == bound:
            i -= 1
        merged = [groups.pop(oref) for oref in orefs[i:]]
        del orefs[i:]
        base = merged[0]
        for group in merged:
            if len(group.members) > len(base.members):
                base = group
        heap = base.heap
        members = base.members
        group_of = self.group_of
        for group in merged:
            if group is not base:
                for order_id, order in group.members.items():
                    members[order_id] = order
                    group_of[order_id] = base
                    heappush(heap, (order.trail, order_id))
        base.reference = price
        orefs.append(bound)
        groups[bound] = base
        base.key = self.threshold_key(price, heap[0][0])
        self._push(base.key, bound)

    def _drop(self, group: TrailGroup) -> None:
        """Forget an empty group (its heap entries become stale)."""
        reference = group.reference
        oref = reference if self.buy else -reference
        del self.groups[oref]
        orefs = self.orefs
        if orefs[-1] == oref:
            orefs.pop()
        else:
            del orefs[bisect_right(orefs, oref) - 1]

    def _push(self, key: int, oref: int) -> None:
        heap = self.heap
        heappush(heap, (key, oref))
        if len(heap) > 2 * len(self.groups) + 16:
            self.heap = [(group.key, o) for o, group in self.groups.items()]
            heapify(self.heap)
