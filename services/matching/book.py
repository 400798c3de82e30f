"""The order book's storage: resting orders, price levels in time order, both sides sorted.

Hot path: plain classes with `__slots__`, integers only. Prices are ticks, quantities steps.
A level keeps its orders in time order as a doubly linked list through the orders themselves
(`prev`, `next`): appending, taking the head and cancelling from the middle are O(1), allocate
nothing and leave no dead entries behind. Compiled by mypyc, these are native attribute reads
and writes, with no method call on a Python container.
"""

from collections.abc import Iterator
from typing import Final, cast

from librt.vecs import append, pop, vec
from mypy_extensions import i64, mypyc_attr

from matching.commands import PlaceOrder

NO_BID: Final = -1
NO_ASK: Final = 1 << 62
SPARE_LEVELS: Final = 64
SCAN_CLIENT_IDS: Final = 8  # an Owner finds client ids by a scan up to this many open orders


@mypyc_attr(free_list_len=1)
class Order:
    """A resting or matching order: price in ticks, quantities in steps, enums as ints.

    `reserve_left` is in units of the asset the order spends. A stop order's `stop` is its stop
    price in ticks (0 for a trailing one without); a trailing stop order's `trail` is its delta in
    basis points, `active` 1 once it follows the price, `reference` its reference price in ticks
    (0 while it has none). All 0 for other orders. An iceberg order's `iceberg` is its largest
    visible part in steps and `hidden` the part of `remaining` not visible in the book (both 0 for
    other orders): its level counts `remaining - hidden`. `live` is True until the order leaves the book
    (or the trigger book); `prev` and `next` link it to its neighbours in its price level (None
    at the ends, and while it is not resting); `prev_mine` and `next_mine` link it to the other
    open orders of its user. `level` is the level it rests in and `owner` its user's `Owner`,
    set when it rests or is indexed, or before when the engine found it checking the order (stale
    once the order left; only read while it is open). `key` is `order_id` as the key object of
    the engine's resting-order dict, set when it rests or before (None until then): removing it
    boxes nothing and the dict finds its entry by identity.
    `order_list` is the open order list it belongs to (None when none, or once the list is done).
    Compiled, the last Order freed is kept for the next one made (a free list of one): an order
    that leaves the book is often followed by one that needs an Order.
    """

    __slots__ = (
        "active",
        "client_order_id",
        "filled",
        "filled_quote",
        "hidden",
        "iceberg",
        "key",
        "level",
        "live",
        "next",
        "next_mine",
        "order_id",
        "order_list",
        "order_type",
        "owner",
        "prev",
        "prev_mine",
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
        self.iceberg = 0
        self.hidden = 0
        self.prev: Order | None = None
        self.next: Order | None = None
        self.prev_mine: Order | None = None
        self.next_mine: Order | None = None
        self.level: Level | None = None
        self.key: object = None
        self.owner: Owner | None = None
        self.order_list: OrderList | None = None


class OrderList:
    """An open order list (docs/matching.md, Order lists): its engine-assigned id, user, client
    id, contingency (a ContingencyType) and member orders in list order. `pending` holds the
    commands of an OTO or OTOCO list's pending orders while they wait for the working order to
    fill (empty otherwise); each has a stand-in `Order` among `orders`, open but in no book."""

    __slots__ = ("client_id", "contingency", "list_id", "orders", "pending", "user_id")

    def __init__(
        self, list_id: int, user_id: int, client_id: str, contingency: int, orders: list[Order]
    ) -> None:
        self.list_id = list_id
        self.user_id = user_id
        self.client_id = client_id
        self.contingency = contingency
        self.orders = orders
        self.pending: list[PlaceOrder] = []

    def order_ids(self) -> tuple[int, ...]:
        return tuple(o.order_id for o in self.orders)

    def add(self, order: Order) -> None:
        """Make `order` a member: in place of the member with its id (a pending order's stand-in),
        else at the end."""
        orders = self.orders
        for i in range(len(orders)):
            if orders[i].order_id == order.order_id:
                orders[i] = order
                return
        orders.append(order)


class Level:
    """Orders at one price in time order, `head` first, `tail` last (None when empty);
    `qty` is their total remaining quantity and `count` their number. `units` is its price in
    quote units (ticks times its side's `tick`) as the object a BookDelta holds (set by
    `BookSide.level_at`)."""

    __slots__ = ("count", "head", "qty", "tail", "units")

    def __init__(self) -> None:
        self.head: Order | None = None
        self.tail: Order | None = None
        self.qty = 0
        self.count = 0
        self.units: object = None

    def append(self, order: Order) -> None:
        """Put `order` at the back of the queue (its visible quantity and count included)."""
        tail = self.tail
        if tail is None:
            self.head = order
        else:
            tail.next = order
            order.prev = tail
        self.tail = order
        order.level = self
        self.qty += order.remaining - order.hidden
        self.count += 1

    def to_back(self, order: Order) -> None:
        """Move `order` (in this level) to the back of the queue; `qty` and `count` unchanged."""
        if order.next is None:
            return
        self.unlink(order)
        tail = self.tail
        assert tail is not None
        tail.next = order
        order.prev = tail
        self.tail = order

    def unlink(self, order: Order) -> None:
        """Take `order` (in this level) out of the queue; `qty` and `count` are the caller's."""
        prev = order.prev
        nxt = order.next
        if prev is None:
            self.head = nxt
        else:
            prev.next = nxt
            order.prev = None
        if nxt is None:
            self.tail = prev
        else:
            nxt.prev = prev
            order.next = None

    def live_orders(self) -> Iterator[Order]:
        """The orders in time order."""
        order = self.head
        while order is not None:
            yield order
            order = order.next


class Owner:
    """One user's open orders in the market (resting and waiting stop orders): `count` of them,
    linked from `first` through `Order.next_mine` in no particular order. `user_id` is the user
    and `key` the user id as the key object of the engine's `owners` dict (set when the engine
    indexes it, None once the engine dropped it).

    Client order ids (unique among a user's open orders: the engine checks before indexing) are
    found by `find`: while the user has at most SCAN_CLIENT_IDS open orders, by comparing the
    orders' ids along the list (no hash, no dict entry to add and delete per order); beyond,
    through `by_client_id`, a dict built then and dropped when the owner is empty again.
    """

    __slots__ = ("by_client_id", "count", "first", "key", "user_id")

    def __init__(self) -> None:
        self.first: Order | None = None
        self.count = 0
        self.by_client_id: dict[str, Order] | None = None
        self.key: object = None
        self.user_id = 0

    def add(self, order: Order) -> None:
        first = self.first
        if first is not None:
            first.prev_mine = order
            order.next_mine = first
        self.first = order
        order.owner = self
        self.count += 1
        index = self.by_client_id
        if index is not None:
            if order.client_order_id:
                index[order.client_order_id] = order
        elif self.count > SCAN_CLIENT_IDS:
            self.by_client_id = {o.client_order_id: o for o in self.linked() if o.client_order_id}

    def remove(self, order: Order) -> None:
        prev = order.prev_mine
        nxt = order.next_mine
        if prev is None:
            self.first = nxt
        else:
            prev.next_mine = nxt
            order.prev_mine = None
        if nxt is not None:
            nxt.prev_mine = prev
            order.next_mine = None
        self.count -= 1
        index = self.by_client_id
        if index is not None:
            if not self.count:
                self.by_client_id = None
            elif order.client_order_id:
                del index[order.client_order_id]

    def find(self, client_order_id: str) -> Order | None:
        """The open order with client order id `client_order_id` (not empty), or None."""
        index = self.by_client_id
        if index is not None:
            return index.get(client_order_id)
        order = self.first
        while order is not None:
            if order.client_order_id == client_order_id:
                return order
            order = order.next_mine
        return None

    def rename(self, order: Order, client_order_id: str) -> None:
        """Give `order` (one of these) the client order id `client_order_id` (not empty)."""
        index = self.by_client_id
        if index is not None:
            if order.client_order_id:
                del index[order.client_order_id]
            index[client_order_id] = order
        order.client_order_id = client_order_id

    def linked(self) -> Iterator[Order]:
        """The orders, in list order."""
        order = self.first
        while order is not None:
            yield order
            order = order.next_mine

    def orders(self) -> list[Order]:
        """The orders, in ascending order id."""
        return sorted(self.linked(), key=_order_id)


def _order_id(order: Order) -> int:
    return order.order_id


class BookSide:
    """One side of the book: levels sorted by price, the best price cached.

    `keys` holds each level's sort key in ascending order with the best level last: the price
    for bids, minus the price for asks, as machine integers in a `vec[i64]` (prices in ticks
    are below NO_ASK); `ladder` holds the levels in the same order (`ladder[i]` is the level of
    `keys[i]`). A level is found by a compiled binary search, `_position`, over unboxed
    integers (O(log n), nothing boxed or hashed); the best is the last entry. Taking or adding
    near the top is an append or a pop at the end; elsewhere a shift of the entries after it.
    `best` is the best price in ticks, or NO_BID / NO_ASK when the side is empty, chosen so
    that a crossing test against an empty side is always false. `tick` is the quote units of
    one tick, for the prices of its BookDeltas.
    `spare` keeps up to SPARE_LEVELS empty levels for reuse: near the touch, levels come and go
    with nearly every order. `fresh` is the empty level the next new price will get.

    The levels the current command changed (for its BookDelta) are `touched`, the first price
    (0: none) with `touched_level`, the level last touched at that price, and `touched_more`, any
    other prices, in the order touched (repeats possible). One price is the common case (an order
    rested or was cancelled): no list to fill and clear, no lookup.
    """

    __slots__ = (
        "best",
        "fresh",
        "is_bid",
        "keys",
        "ladder",
        "spare",
        "tick",
        "touched",
        "touched_level",
        "touched_more",
    )

    def __init__(self, is_bid: bool, tick: int = 1) -> None:
        self.keys: vec[i64] = vec[i64]()
        self.ladder: list[Level] = []
        self.is_bid = is_bid
        self.tick = tick
        self.best = NO_BID if is_bid else NO_ASK
        self.spare: list[Level] = []
        self.fresh = Level()
        self.touched = 0
        self.touched_level = self.fresh
        self.touched_more: vec[i64] = vec[i64]()

    def touch(self, price: int, level: Level) -> None:
        """Note that the current command changed `level`, the level at `price`."""
        if price == self.touched:
            self.touched_level = level  # the same level, or a new one after it was emptied
        elif not self.touched:
            self.touched = price
            self.touched_level = level
        else:
            self.touched_more = append(self.touched_more, price)

    def take_delta(self, step: int) -> tuple[tuple[int, int], ...]:
        """(price, total quantity) in smallest units (`step` base units a step) of each level
        touched since the last call, best first, 0 for a level gone; forgets them. Empty when
        none was touched. A price is its level's `units` when the level is there (or is the
        one level touched: its `units` not given to another price since)."""
        price = self.touched
        if not price:
            return ()
        self.touched = 0
        more = self.touched_more
        if not len(more):
            level = self.touched_level
            return cast(tuple[tuple[int, int], ...], ((level.units, level.qty * step),))
        out: list[tuple[object, int]] = []
        prices = _distinct(price, more, self.is_bid)
        for i in range(len(prices)):
            p = prices[i]
            found = self.find(p)
            if found is not None:
                out.append((found.units, found.qty * step))
            else:
                out.append((p * self.tick, 0))
        self.touched_more = vec[i64]()
        return cast(tuple[tuple[int, int], ...], tuple(out))

    @property
    def levels(self) -> dict[int, Level]:
        """The levels by price in ticks, best first (built on demand, for inspection)."""
        return dict(zip(self.prices_from_best(), self.levels_from_best(), strict=True))

    def find(self, price: int) -> Level | None:
        """The level at `price`, or None."""
        key: i64 = price if self.is_bid else -price
        keys = self.keys
        at = _position(keys, key)
        if at < len(keys) and keys[at] == key:
            return self.ladder[at]
        return None

    def best_level(self) -> Level:
        """The level at the best price (the side must not be empty)."""
        ladder = self.ladder
        return ladder[len(ladder) - 1]

    def level_at(self, price: int) -> Level:
        """The level at `price`, created (and made best if better) when missing."""
        key: i64 = price if self.is_bid else -price
        keys = self.keys
        n = len(keys)
        if n:
            top = keys[n - 1]
            if key == top:
                return self.ladder[n - 1]
            at = n if key > top else _position(keys, key)
            if at < n and keys[at] == key:
                return self.ladder[at]
        else:
            at = 0
        level = self.fresh
        level.units = price * self.tick
        spare = self.spare
        self.fresh = spare.pop() if spare else Level()
        if at == n:
            self.keys = append(keys, key)
            self.ladder.append(level)
            self.best = price
        else:
            self.keys = _insert(keys, at, key)
            self.ladder.insert(at, level)
        return level

    def remove_level(self, price: int, level: Level) -> None:
        """Drop `level`, the level at `price`, which must be empty (no order, `qty` and `count` 0)."""
        if len(self.spare) < SPARE_LEVELS:
            self.spare.append(level)
        keys = self.keys
        key: i64 = price if self.is_bid else -price
        n = len(keys)
        _dropped: i64
        if keys[n - 1] == key:
            keys, _dropped = pop(keys)
            self.ladder.pop()
            if n > 1:
                top = keys[n - 2]
                self.best = top if self.is_bid else -top
            else:
                self.best = NO_BID if self.is_bid else NO_ASK
        else:
            at = _position(keys, key)
            keys, _dropped = pop(keys, at)
            self.ladder.pop(at)
        self.keys = keys

    def prices_from_best(self) -> Iterator[int]:
        """Prices from the best outwards."""
        sign = 1 if self.is_bid else -1
        keys = self.keys
        return (sign * keys[i] for i in range(len(keys) - 1, -1, -1))

    def levels_from_best(self) -> Iterator[Level]:
        """Levels from the best outwards (as `prices_from_best`)."""
        return reversed(self.ladder)

    def orders_in_priority(self) -> Iterator[Order]:
        """Live orders from the best price outwards, each level in time order."""
        for level in self.levels_from_best():
            yield from level.live_orders()


def _position(keys: vec[i64], key: i64) -> i64:
    """The leftmost index in sorted `keys` where `key` could be inserted keeping them sorted
    (bisect_left); compiled, a loop over machine integers."""
    lo: i64 = 0
    hi = len(keys)
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _insert(keys: vec[i64], at: i64, key: i64) -> vec[i64]:
    """`keys` with `key` inserted before index `at` (the entries from `at` on move up one)."""
    n = len(keys)
    keys = append(keys, key)
    i = n
    while i > at:
        keys[i] = keys[i - 1]
        i -= 1
    keys[at] = key
    return keys


def _distinct(first: i64, more: vec[i64], descending: bool) -> vec[i64]:
    """The distinct prices of `first` and `more`, sorted (descending or ascending). A taker
    touches levels from the best outwards, `first` the first of them, so `first, *more` is
    usually sorted already, with repeats: one pass, no sort."""
    out = append(vec[i64](), first)
    last = first
    for i in range(len(more)):
        p = more[i]
        if p == last:
            continue
        if (p > last) if descending else (p < last):
            return vec[i64](sorted({first, *more}, reverse=descending))
        out = append(out, p)
        last = p
    return out
