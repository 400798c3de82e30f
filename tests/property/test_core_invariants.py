"""Invariants of the matching core over random command sequences (docs/matching.md).

After every command: the book is not crossed, levels agree with their orders (an iceberg order
counting only its visible tip), no order fills beyond its size, makers are taken strictly in
price-time priority (a replenished iceberg going to the back of its level), and a ledger fed only
by the events conserves every asset exactly with every reservation spent or released (an order
list's members sharing one reservation, locked once).
"""

from collections import defaultdict

from hypothesis import HealthCheck, given, settings

from matching import (
    Command,
    ContingencyType,
    Event,
    ListStatus,
    ListStatusType,
    MatchingEngine,
    OrderAccepted,
    OrderAmended,
    OrderDone,
    OrderExpired,
    OrderTriggered,
    OrderType,
    PlaceOrder,
    PlaceOrderList,
    Reason,
    Side,
    Trade,
)
from tests.corehelpers import SPEC, cancel_all
from tests.property.strategies import commands

FEE_ACCOUNT = 0
START = 10**9
PENDING_KEYS = 10**6  # the pending reservation of order list n has key -(PENDING_KEYS + n)


class Ledger:
    """Balances moved only by events: what settlement will do, in miniature."""

    def __init__(self) -> None:
        self.free: dict[tuple[int, str], int] = defaultdict(lambda: START)
        self.locked: dict[tuple[int, str], int] = defaultdict(int)
        self.fees: dict[str, int] = defaultdict(int)
        # A reservation's key: its order's id, or -(list id) for the one an order list's members share.
        self.key: dict[int, int] = {}  # order -> its reservation's key
        self.reserved: dict[int, tuple[int, str, int]] = {}  # key -> (user, asset, reserve)
        self.holders: dict[int, int] = defaultdict(int)  # key -> open orders holding it
        self.spent: dict[int, int] = defaultdict(int)  # key -> spent or released so far

    def lock(self, e: OrderAccepted) -> None:
        if e.order_id in self.key:  # an OTO's / OTOCO's pending order, locked with its list
            return
        key = -e.order_list_id if e.order_list_id else e.order_id
        self.key[e.order_id] = key
        self.holders[key] += 1
        if key in self.reserved:
            assert self.reserved[key][2] == e.reserve, "an order list's members carry one reservation"
            return
        asset = "USD" if e.side == Side.BUY else "TST"
        self.free[(e.user_id, asset)] -= e.reserve
        self.locked[(e.user_id, asset)] += e.reserve
        self.reserved[key] = (e.user_id, asset, e.reserve)

    def lock_pending(self, e: ListStatus, c: PlaceOrderList) -> None:
        """An OTO's or OTOCO's pending orders' reservation (one, shared by an OTOCO's pair), apart
        from the working order's: what the gateway locked with the list."""
        key = -PENDING_KEYS - e.order_list_id
        first = c.orders[1]
        asset = "USD" if first.side == Side.BUY else "TST"
        self.free[(first.user_id, asset)] -= first.reserve
        self.locked[(first.user_id, asset)] += first.reserve
        self.reserved[key] = (first.user_id, asset, first.reserve)
        for pending in c.orders[1:]:
            self.key[pending.order_id] = key
            self.holders[key] += 1

    def trade(self, t: Trade) -> None:
        buy_taker = t.taker_side == Side.BUY
        buyer, seller = (
            (t.taker_user_id, t.maker_user_id) if buy_taker else (t.maker_user_id, t.taker_user_id)
        )
        buyer_order, seller_order = (
            (t.taker_order_id, t.maker_order_id) if buy_taker else (t.maker_order_id, t.taker_order_id)
        )
        buyer_fee, seller_fee = (t.taker_fee, t.maker_fee) if buy_taker else (t.maker_fee, t.taker_fee)
        assert 0 <= buyer_fee <= t.quantity and 0 <= seller_fee <= t.quote_quantity
        self.locked[(buyer, "USD")] -= t.quote_quantity
        self.free[(buyer, "TST")] += t.quantity - buyer_fee
        self.locked[(seller, "TST")] -= t.quantity
        self.free[(seller, "USD")] += t.quote_quantity - seller_fee
        self.fees["TST"] += buyer_fee
        self.fees["USD"] += seller_fee
        for order, amount in ((buyer_order, t.quote_quantity), (seller_order, t.quantity)):
            self.spent[self.key[order]] += amount

    def amended(self, e: OrderAmended) -> None:
        """Part of the reservation released at once: it counts as spent for the order's end."""
        key = self.key[e.order_id]
        user, asset, _ = self.reserved[key]
        self.locked[(user, asset)] -= e.release
        self.free[(user, asset)] += e.release
        self.spent[key] += e.release

    def done(self, e: OrderDone) -> None:
        key = self.key.pop(e.order_id)
        user, asset, reserve = self.reserved[key]
        self.locked[(user, asset)] -= e.release
        self.free[(user, asset)] += e.release
        self.spent[key] += e.release
        assert self.spent[key] <= reserve, "spent beyond the reservation"
        self.holders[key] -= 1
        if not self.holders[key]:  # its last holder ended
            del self.holders[key], self.reserved[key]
            assert reserve == self.spent.pop(key), "reservation not spent or released"

    def apply(self, events: list[Event], command: Command | None = None) -> None:
        for e in events:
            if isinstance(e, OrderAccepted):
                self.lock(e)
            elif (
                isinstance(e, ListStatus)
                and e.status_type == ListStatusType.EXEC_STARTED
                and e.contingency != ContingencyType.OCO
            ):
                assert isinstance(command, PlaceOrderList)
                self.lock_pending(e, command)
            elif isinstance(e, Trade):
                self.trade(e)
            elif isinstance(e, OrderDone):
                self.done(e)
            elif isinstance(e, OrderAmended):
                self.amended(e)
        assert all(v >= 0 for v in self.locked.values()), "locked funds went negative"

    def total(self, asset: str) -> int:
        users = {u for (u, a) in list(self.free) + list(self.locked) if a == asset}
        held = sum(self.free[(u, asset)] + self.locked[(u, asset)] for u in users)
        return held + self.fees[asset] - START * len(users)


def check_book(engine: MatchingEngine) -> None:
    bid, ask = engine.best_bid(), engine.best_ask()
    assert not (bid and ask and bid >= ask), f"crossed book {bid} >= {ask}"
    for side in (engine.bids, engine.asks):
        keys = list(side.keys)
        assert sorted(side.levels) == sorted(k if side.is_bid else -k for k in keys)
        assert len(side.ladder) == len(keys) and keys == sorted(set(keys))
        assert not keys or side.best == (keys[-1] if side.is_bid else -keys[-1])
        for price, level in side.levels.items():
            live = list(level.live_orders())
            assert live and level.count == len(live)
            assert level.qty == sum(o.remaining - o.hidden for o in live)
            assert all(o.remaining > 0 and o.price == price for o in live)
            for o in live:  # the book shows only an iceberg's tip; other orders whole
                visible = o.remaining - o.hidden
                assert 0 < visible <= (o.iceberg or o.remaining) and (o.iceberg or not o.hidden)
    for (price, qty), side in [(row, engine.bids) for row in engine.depth(1000)[0]] + [
        (row, engine.asks) for row in engine.depth(1000)[1]
    ]:
        assert qty == sum(o.remaining - o.hidden for o in side.levels[price].live_orders())
    resting = {o.order_id for side in (engine.bids, engine.asks) for o in side.orders_in_priority()}
    assert resting == set(engine.orders)


Queued = list[int]  # [order id, price, visible, hidden, iceberg] of a resting order


def queue_of(engine: MatchingEngine, side: int) -> list[Queued]:
    """The resting orders a taker on `side` meets, in priority order (TST/USD: step and tick 1)."""
    opp = engine.asks if side == Side.BUY else engine.bids
    return [
        [o.order_id, o.price, o.remaining - o.hidden, o.hidden, o.iceberg] for o in opp.orders_in_priority()
    ]


def check_priority(c: PlaceOrder, queue: list[Queued], events: list[Event]) -> None:
    """Each maker touched (traded or expired by STP) is the head of the priority queue, up to the
    first stop order the command triggered or pending order it placed (each a taker of its own). The queue
    follows the book: a maker whose visible part is taken leaves it, or, an iceberg with a hidden
    rest, shows a new tip at the back of its price level."""
    later = [  # takers of their own: triggered stop orders, pending orders of activated lists
        i
        for i, e in enumerate(events)
        if isinstance(e, OrderTriggered) or (i and isinstance(e, OrderAccepted))
    ]
    events = events[: later[0]] if later else events
    for e in events:
        if isinstance(e, OrderExpired) and e.reason == Reason.SELF_TRADE_MAKER:
            assert queue and queue[0][0] == e.order_id, f"priority broken: {e.order_id} vs {queue[:3]}"
            queue.pop(0)
        elif isinstance(e, Trade):
            assert queue and queue[0][0] == e.maker_order_id, f"priority broken: {e!r} vs {queue[:3]}"
            head = queue[0]
            head[2] -= e.quantity
            assert head[2] >= 0, "a maker traded beyond its visible part"
            if head[2] == 0:
                queue.pop(0)
                if head[3]:
                    head[2] = min(head[4], head[3])
                    head[3] -= head[2]
                    at = next((i for i, q in enumerate(queue) if q[1] != head[1]), len(queue))
                    queue.insert(at, head)
    prices = [e.price for e in events if isinstance(e, Trade)]
    assert prices == sorted(prices, reverse=c.side == Side.SELL)
    if c.order_type != OrderType.MARKET:
        assert all(p <= c.price if c.side == Side.BUY else p >= c.price for p in prices)


def check_sizes(c: PlaceOrder, events: list[Event]) -> None:
    for e in events:
        if isinstance(e, Trade) and e.taker_order_id == c.order_id:
            if c.quantity:
                assert e.taker_filled <= c.quantity
            else:
                assert e.taker_filled_quote <= c.quote_quantity
        if isinstance(e, OrderDone) and e.order_id == c.order_id and c.side == Side.BUY:
            assert e.filled_quote <= c.reserve


def run_checked(cmds: list[Command]) -> tuple[MatchingEngine, list[list[Event]]]:
    engine = MatchingEngine(SPEC)
    ledger = Ledger()
    history: list[list[Event]] = []
    originals: dict[int, int] = {}
    for c in cmds:
        queue: list[Queued] = []
        if isinstance(c, PlaceOrder):
            queue = queue_of(engine, c.side)
        events = engine.apply(c)
        seqs = [e.seq for e in events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        history.append(events)
        ledger.apply(events, c)
        check_book(engine)
        if isinstance(c, PlaceOrder):
            check_priority(c, queue, events)
            check_sizes(c, events)
            if any(isinstance(e, OrderAccepted) for e in events) and c.quantity:
                originals[c.order_id] = c.quantity
        if isinstance(c, PlaceOrderList):
            for member in c.orders:
                originals[member.order_id] = member.quantity
        for e in events:
            if isinstance(e, OrderAmended):  # its quantity is now the amended one
                originals[e.order_id] = e.quantity
        for o in engine.orders.values():
            assert o.filled + o.remaining == originals[o.order_id]
    for user in range(1, 5):
        ledger.apply(engine.apply(cancel_all(user)))
    assert not engine.orders and not ledger.reserved
    assert all(v == 0 for v in ledger.locked.values())
    assert ledger.total("USD") == 0 and ledger.total("TST") == 0
    return engine, history


@settings(max_examples=2500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commands())
def test_invariants_hold_after_every_command(cmds: list[Command]) -> None:
    run_checked(cmds)


@settings(max_examples=500, deadline=None)
@given(commands())
def test_the_same_commands_give_the_same_events(cmds: list[Command]) -> None:
    a, b = MatchingEngine(SPEC), MatchingEngine(SPEC)
    first = [a.apply(c) for c in cmds]
    second = [b.apply(c) for c in cmds]
    assert first == second
    assert a.state_hash() == b.state_hash()
