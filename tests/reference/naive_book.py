"""A naive reference order book written from docs/matching.md alone (not from matching.engine).

The book is one plain list of resting orders. The best price is found by scanning and sorting that
list every time it is needed; time priority is an arrival counter; the `BookDelta` of a command is
found by comparing the aggregated depth before and after it. Everything is slow and obvious on
purpose: when this book and the fast `matching.MatchingEngine` disagree, the rules in
docs/matching.md decide which one is wrong.

Pure logic: no I/O, no clock, no randomness. Amounts are integers in smallest units throughout;
the step/tick arithmetic of the spec (`npts`, the spending cap) is done where the spec does it.
"""

from dataclasses import dataclass, field

from matching.commands import AmendOrder, CancelAll, CancelOrder, Command, PlaceOrder, PlaceOrderList
from matching.enums import (
    ContingencyType,
    ListOrderStatus,
    ListStatusType,
    OrderStatus,
    OrderType,
    Reason,
    Side,
    StpMode,
    TimeInForce,
)
from matching.events import (
    AmendRejected,
    BookDelta,
    CancelRejected,
    Event,
    ListStatus,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderRejected,
    OrderTriggered,
    Trade,
)
from matching.market import MarketSpec
from matching.state import ListRecord, MarketState, OrderRecord, PendingRecord, TriggerRecord

# Why matching stopped (internal to this module).
_STOP_FILLED = "filled"  # the taker has no quantity left
_STOP_NO_MAKER = "no_maker"  # no opposite order crosses the taker's limit any more
_STOP_SELF_TRADE = "self_trade"  # STP EXPIRE_TAKER / EXPIRE_BOTH ended the taker
_STOP_CAP = "cap"  # the spending cap allowed no further step


@dataclass
class _Order:
    """One order: a resting maker, or the taker being matched.

    `remaining` is in base units. For the taker, `steps_left` is its quantity left in steps (None =
    unlimited, a MARKET BUY by quote) and `cap_left` its spending cap left in quote units (None = no
    cap); neither is used once an order rests.
    """

    order_id: int
    user_id: int
    client_order_id: str
    side: int
    order_type: int
    time_in_force: int
    price: int
    remaining: int
    filled: int
    filled_quote: int
    reserve_left: int
    stp_mode: int
    ts: int
    arrival: int
    steps_left: int | None = None
    cap_left: int | None = None
    by_quote: bool = False
    stop_price: int = 0
    acts_as: int = 0  # the type it matches as: its own, or MARKET / LIMIT for a stop order
    trailing_delta: int = 0
    active: bool = False  # a trailing stop order following the price
    reference: int = 0  # its reference price (0: none yet)
    iceberg_qty: int = 0  # an iceberg order's largest visible part (0: not an iceberg)
    hidden: int = 0  # the part of `remaining` not shown in the book
    list_id: int = 0  # the order list it was placed in (0: none)


@dataclass
class _List:
    """An open order list: its members' ids in list order; `pending`: an OTO's or OTOCO's pending
    orders while its working order has not filled."""

    list_id: int
    user_id: int
    client_id: str
    contingency: int
    order_ids: tuple[int, ...]
    pending: list[PlaceOrder] = field(default_factory=list)

    def shared_ids(self) -> tuple[int, ...]:
        """The members sharing one reservation: an OCO's two, an OTOCO's pending pair."""
        if self.contingency == ContingencyType.OCO:
            return self.order_ids
        if self.contingency == ContingencyType.OTOCO:
            return self.order_ids[1:]
        return ()


_STOP_MARKET_TYPES = (OrderType.STOP_LOSS, OrderType.TAKE_PROFIT)
_STOP_LIMIT_TYPES = (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
_STOP_TYPES = _STOP_MARKET_TYPES + _STOP_LIMIT_TYPES
_PROFIT_MEMBER_TYPES = (OrderType.LIMIT_MAKER, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT)
_LOSS_MEMBER_TYPES = (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)


def _triggers_on_rise(o: _Order) -> bool:
    """docs "Stop orders": STOP_LOSS* BUY and TAKE_PROFIT* SELL trigger at a price >= their stop."""
    is_stop_loss = o.order_type in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)
    return is_stop_loss == (o.side == Side.BUY)


def _is_triggered_by(o: _Order, trade_price: int) -> bool:
    if _triggers_on_rise(o):
        return trade_price >= o.stop_price
    return trade_price <= o.stop_price


def _fee(amount: int, ppm: int) -> int:
    """`ceil(amount * ppm / 1_000_000)` in exact integer arithmetic."""
    return -((-amount * ppm) // 1_000_000)


class NaiveBook:
    """One market's book following docs/matching.md, built for clarity rather than speed."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.orders: list[_Order] = []
        self.waiting: list[_Order] = []  # stop orders not yet triggered
        self.seq = 0
        self.trade_id = 0
        self.last_price = 0
        self.arrivals = 0
        self.lists: dict[int, _List] = {}  # open order lists
        self.pending: list[_Order] = []  # stand-ins of the pending orders of open OTO/OTOCO lists
        self._activated: list[_List] = []  # lists whose working order the current taker filled
        self.last_list_id = 0
        self.prevented_match_id = 0  # the last prevented match id given
        self._prevented: tuple[int, int] = (0, 0)  # the taker's prevented match: (maker id, price)
        self._out: list[Event] = []
        self._ts = 0
        self._touched: set[tuple[int, int]] = set()  # (side, price) of levels the command changed
        self._taker_prices: list[int] = []  # prices of the current taker's trades

    # ------------------------------------------------------------------ public API

    def apply(self, command: Command) -> list[Event]:
        """Apply one command; return its events in order (seq numbered from the last one + 1)."""
        self._out = []
        self._ts = command.ts
        self._touched = set()
        if isinstance(command, PlaceOrder):
            self._place(command)
        elif isinstance(command, CancelOrder):
            self._cancel(command)
        elif isinstance(command, CancelAll):
            self._cancel_all(command)
        elif isinstance(command, AmendOrder):
            self._amend(command)
        elif isinstance(command, PlaceOrderList):
            self._place_list(command)
        else:
            raise TypeError(f"not a command: {command!r}")
        self._emit_delta()
        return self._out

    def state(self) -> MarketState:
        """The canonical state: counters and open orders in book order (see matching.state)."""
        records = tuple(self._record(o) for o in self._book_order())
        waiting = tuple(self._trigger_record(o) for o in sorted(self.waiting, key=lambda o: o.order_id))
        lists: tuple[ListRecord, ...] = tuple(
            (lst.list_id, lst.user_id, lst.client_id, lst.contingency, lst.order_ids)
            for lst in sorted(self.lists.values(), key=lambda lst: lst.list_id)
        )
        pending: list[PendingRecord] = []
        for lst in self.lists.values():
            for p in lst.pending:
                fields = (p.time_in_force, p.price, p.quantity, p.quote_quantity, p.reserve, p.stp_mode)
                tail = (p.stop_price, p.trailing_delta, p.iceberg_qty)
                pending.append(
                    (
                        p.order_id,
                        p.user_id,
                        p.client_order_id,
                        lst.list_id,
                        p.side,
                        p.order_type,
                        *fields,
                        *tail,
                    )
                )
        return MarketState(
            self.spec.symbol,
            self.seq,
            self.trade_id,
            self.last_price,
            records,
            waiting,
            self.last_list_id,
            lists,
            tuple(sorted(pending)),
            self.prevented_match_id,
        )

    # ------------------------------------------------------------------ units

    @property
    def _npts(self) -> int:
        """Quote units paid for one step at one tick (exact by MarketSpec's construction)."""
        whole_base: int = 10**self.spec.base_decimals
        return self.spec.tick_units * self.spec.step_units // whole_base

    def _ticks(self, price: int) -> int:
        return price // self.spec.tick_units

    def _step_cost(self, price: int) -> int:
        """Quote units for one step at `price` (quote units per whole base unit)."""
        return self._ticks(price) * self._npts

    def _notional(self, price: int, quantity: int) -> int:
        return self._ticks(price) * (quantity // self.spec.step_units) * self._npts

    # ------------------------------------------------------------------ book queries

    def _book_order(self) -> list[_Order]:
        """Bids best (highest) first, then asks best (lowest) first; each level in arrival order."""
        bids = sorted((o for o in self.orders if o.side == Side.BUY), key=lambda o: (-o.price, o.arrival))
        asks = sorted((o for o in self.orders if o.side == Side.SELL), key=lambda o: (o.price, o.arrival))
        return bids + asks

    def _best_price(self, side: int) -> int | None:
        """Best resting price on `side`, or None when that side is empty."""
        prices = [o.price for o in self.orders if o.side == side]
        if not prices:
            return None
        return max(prices) if side == Side.BUY else min(prices)

    def _crossing_makers(self, taker: _Order) -> list[_Order]:
        """Opposite orders whose price crosses the taker's limit, in matching priority order."""
        if taker.side == Side.BUY:
            found = [o for o in self.orders if o.side == Side.SELL and self._crosses(taker, o.price)]
            return sorted(found, key=lambda o: (o.price, o.arrival))
        found = [o for o in self.orders if o.side == Side.BUY and self._crosses(taker, o.price)]
        return sorted(found, key=lambda o: (-o.price, o.arrival))

    @staticmethod
    def _crosses(taker: _Order, level_price: int) -> bool:
        """BUY: level <= limit; SELL: level >= limit; MARKET: any price."""
        if taker.acts_as == OrderType.MARKET:
            return True
        if taker.side == Side.BUY:
            return level_price <= taker.price
        return level_price >= taker.price

    def _depth(self) -> dict[tuple[int, int], int]:
        """Total resting quantity per (side, price)."""
        depth: dict[tuple[int, int], int] = {}
        for o in self.orders:
            key = (int(o.side), o.price)
            depth[key] = depth.get(key, 0) + o.remaining - o.hidden  # only what is visible
        return depth

    # ------------------------------------------------------------------ events

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _emit_delta(self) -> None:
        """One BookDelta listing every level the command changed with its total now (0 = gone)."""
        after = self._depth()
        changed = list(self._touched)
        if not changed:
            return
        bids = tuple(sorted(((p, after.get((s, p), 0)) for s, p in changed if s == Side.BUY), reverse=True))
        asks = tuple(sorted((p, after.get((s, p), 0)) for s, p in changed if s == Side.SELL))
        self._out.append(BookDelta(seq=self._next_seq(), ts=self._ts, bids=bids, asks=asks))

    def _emit_expired(
        self, o: _Order, reason: int, remaining: int, counter_id: int = 0, price: int = 0, stp_mode: int = 0
    ) -> None:
        """`OrderExpired`; a self-trade's (a `counter_id` given) carries the last prevented match id."""
        self._out.append(
            OrderExpired(
                seq=self._next_seq(),
                ts=self._ts,
                order_id=o.order_id,
                user_id=o.user_id,
                client_order_id=o.client_order_id,
                reason=reason,
                remaining=remaining,
                prevented_match_id=self.prevented_match_id if counter_id else 0,
                counter_order_id=counter_id,
                price=price,
                stp_mode=stp_mode,
            )
        )

    def _emit_done(self, o: _Order, status: int) -> None:
        """`OrderDone` with the order's cumulative fills; `release` is its reservation left."""
        self._out.append(
            OrderDone(
                seq=self._next_seq(),
                ts=self._ts,
                order_id=o.order_id,
                user_id=o.user_id,
                client_order_id=o.client_order_id,
                side=o.side,
                status=status,
                filled=o.filled,
                filled_quote=o.filled_quote,
                release=o.reserve_left,
            )
        )

    # ------------------------------------------------------------------ PlaceOrder

    def _place(self, c: PlaceOrder) -> None:
        """Validate, accept, (FOK dry run), match, then end or rest the taker."""
        reason = self._check_place(c)
        if reason != Reason.NONE:
            self._out.append(
                OrderRejected(
                    seq=self._next_seq(),
                    ts=self._ts,
                    order_id=c.order_id,
                    user_id=c.user_id,
                    client_order_id=c.client_order_id,
                    side=c.side,
                    reason=reason,
                    release=c.reserve,
                )
            )
            return
        taker = self._accept(c, 0)
        if taker is None:
            return
        self._run_queue(self._execute(taker))

    def _run_queue(self, queue: list["_Order | _List"]) -> None:
        """The command's trigger queue: triggered stop orders and activated order lists, in order."""
        while queue:
            item = queue.pop(0)
            if isinstance(item, _List):
                self._activate(item, queue)
                continue
            triggered = item
            self._out.append(
                OrderTriggered(
                    seq=self._next_seq(),
                    ts=self._ts,
                    order_id=triggered.order_id,
                    user_id=triggered.user_id,
                    client_order_id=triggered.client_order_id,
                    stop_price=triggered.stop_price,
                )
            )
            queue.extend(self._execute(self._taker_of_triggered(triggered)))

    def _accept(self, c: PlaceOrder, list_id: int) -> _Order | None:
        """OrderAccepted; a stop order starts waiting (None), any other is returned as the taker."""
        self._announce(c, list_id)
        return self._enter(c, list_id)

    def _enter(self, c: PlaceOrder, list_id: int) -> _Order | None:
        """An accepted order: a stop order starts waiting (None), any other is returned as the taker."""
        if c.order_type in _STOP_TYPES:
            waiting = self._new_waiting(c)
            waiting.list_id = list_id
            self.waiting.append(waiting)
            return None
        taker = self._new_taker(c)
        taker.list_id = list_id
        return taker

    def _announce(self, c: PlaceOrder, list_id: int) -> None:
        self._out.append(
            OrderAccepted(
                seq=self._next_seq(),
                ts=self._ts,
                order_id=c.order_id,
                user_id=c.user_id,
                client_order_id=c.client_order_id,
                side=c.side,
                order_type=c.order_type,
                time_in_force=c.time_in_force,
                price=c.price,
                quantity=c.quantity,
                quote_quantity=c.quote_quantity,
                reserve=c.reserve,
                stp_mode=c.stp_mode,
                stop_price=c.stop_price,
                trailing_delta=c.trailing_delta,
                iceberg_qty=c.iceberg_qty,
                order_list_id=list_id,
            )
        )

    # ------------------------------------------------------------------ PlaceOrderList

    def _place_list(self, c: PlaceOrderList) -> None:
        """docs/matching.md "Order lists": checks 1-7, then an OCO's members in list order, or an
        OTO's / OTOCO's working order with its pending orders held ("OTO and OTOCO lists")."""
        ids = tuple(o.order_id for o in c.orders)
        reason = self._list_refusal(c)
        if reason != Reason.NONE:
            two_reserves = c.contingency in (ContingencyType.OTO, ContingencyType.OTOCO) and len(c.orders) > 1
            self._out.append(
                ListStatus(
                    seq=self._next_seq(),
                    ts=self._ts,
                    order_list_id=0,
                    user_id=c.user_id,
                    list_client_order_id=c.list_client_order_id,
                    contingency=c.contingency,
                    status_type=ListStatusType.RESPONSE,
                    list_status=ListOrderStatus.REJECT,
                    order_ids=ids,
                    reason=reason,
                    release=c.orders[0].reserve if c.orders else 0,
                    pending_release=c.orders[1].reserve if two_reserves else 0,
                )
            )
            return
        self.last_list_id += 1
        lst = _List(self.last_list_id, c.user_id, c.list_client_order_id, c.contingency, ids)
        self.lists[lst.list_id] = lst
        if c.contingency == ContingencyType.OCO:
            for member in c.orders:
                taker = self._accept(member, lst.list_id)
                if taker is not None:
                    assert not self._execute(taker), "a LIMIT_MAKER member neither trades nor triggers"
            self._emit_list_status(lst, ListStatusType.EXEC_STARTED, ListOrderStatus.EXECUTING)
            return
        lst.pending = list(c.orders[1:])
        for p in lst.pending:
            stand_in = self._new_waiting(p)
            stand_in.list_id = lst.list_id
            self.pending.append(stand_in)
        working = self._accept(c.orders[0], lst.list_id)
        assert working is not None
        self._match_and_end(working)
        self._emit_list_status(lst, ListStatusType.EXEC_STARTED, ListOrderStatus.EXECUTING)
        queue: list[_Order | _List] = list(self._activated)
        self._activated = []
        if working.remaining == 0:
            queue.append(lst)
        elif working not in self.orders:
            self._end_list_of(working, cancel=False)
        queue.extend(self._take_triggered())
        self._run_queue(queue)

    def _activate(self, lst: _List, queue: list[_Order | _List]) -> None:
        """docs "OTO and OTOCO lists", Activation: the pending orders are placed."""
        placing, lst.pending = lst.pending, []
        ids = [p.order_id for p in placing]
        self.pending = [o for o in self.pending if o.order_id not in ids]
        for p in placing:
            self._announce(p, lst.list_id)
        if lst.contingency == ContingencyType.OTO:
            (p,) = placing
            del self.lists[lst.list_id]
            self._emit_list_status(lst, ListStatusType.ALL_DONE, ListOrderStatus.ALL_DONE)
            reason = self._check_place(p)
            if reason != Reason.NONE:
                self._end_unplaced(p, reason, p.reserve)
                return
            taker = self._enter(p, 0)
            if taker is not None:
                queue.extend(self._execute(taker))
            return
        reasons = [self._check_place(p) for p in placing]
        failing = [i for i, r in enumerate(reasons) if r != Reason.NONE]
        if failing:
            bad = placing[failing[0]]
            other = placing[1 - failing[0]]
            del self.lists[lst.list_id]
            self._end_unplaced(bad, reasons[failing[0]], bad.reserve)
            self._end_unplaced(other, Reason.ORDER_LIST_SIBLING, 0)
            self._emit_list_status(lst, ListStatusType.ALL_DONE, ListOrderStatus.ALL_DONE)
            return
        for p in placing:
            taker = self._enter(p, lst.list_id)
            if taker is not None:
                assert not self._execute(taker), "a LIMIT_MAKER pair member neither trades nor triggers"

    def _end_unplaced(self, p: PlaceOrder, reason: int, release: int) -> None:
        self._out.append(
            OrderExpired(
                seq=self._next_seq(),
                ts=self._ts,
                order_id=p.order_id,
                user_id=p.user_id,
                client_order_id=p.client_order_id,
                reason=reason,
                remaining=p.quantity,
            )
        )
        self._out.append(
            OrderDone(
                seq=self._next_seq(),
                ts=self._ts,
                order_id=p.order_id,
                user_id=p.user_id,
                client_order_id=p.client_order_id,
                side=p.side,
                status=OrderStatus.EXPIRED,
                filled=0,
                filled_quote=0,
                release=release,
            )
        )

    def _list_refusal(self, c: PlaceOrderList) -> int:
        if c.symbol != self.spec.symbol:
            return Reason.UNKNOWN_MARKET
        sizes = {ContingencyType.OCO: 2, ContingencyType.OTO: 2, ContingencyType.OTOCO: 3}
        if c.contingency not in sizes or len(c.orders) != sizes[ContingencyType(c.contingency)]:
            return Reason.INVALID_CONTINGENCY
        pair = c.orders if c.contingency == ContingencyType.OCO else c.orders[1:]
        if any(m.user_id != c.user_id for m in c.orders):
            return Reason.ORDER_LIST_LEGS_DIFFER
        if len(pair) == 2 and len({(m.side, m.quantity, m.reserve) for m in pair}) != 1:
            return Reason.ORDER_LIST_LEGS_DIFFER
        profits = [m for m in pair if m.order_type in _PROFIT_MEMBER_TYPES]
        losses = [m for m in pair if m.order_type in _LOSS_MEMBER_TYPES]
        if len(pair) == 2 and (len(profits) != 1 or len(losses) != 1):
            return Reason.INVALID_OCO_LEG_TYPES
        if c.contingency != ContingencyType.OCO:
            if c.orders[0].order_type not in (OrderType.LIMIT, OrderType.LIMIT_MAKER):
                return Reason.INVALID_OCO_LEG_TYPES
            pending = c.orders[1]
            by_quote = pending.order_type == OrderType.MARKET and pending.quote_quantity != 0
            if c.contingency == ContingencyType.OTO and by_quote:
                return Reason.INVALID_OCO_LEG_TYPES
        for index, m in enumerate(c.orders):
            placed_now = c.contingency == ContingencyType.OCO or index == 0
            reason = self._check_place(m, now=placed_now)
            if reason != Reason.NONE:
                return reason
        ids = [m.order_id for m in c.orders]
        if len(set(ids)) != len(ids):
            return Reason.DUPLICATE_ORDER_ID
        cids = [m.client_order_id for m in c.orders if m.client_order_id]
        if len(set(cids)) != len(cids):
            return Reason.DUPLICATE_CLIENT_ORDER_ID
        if len(pair) == 2:
            profit, loss = profits[0], losses[0]
            level = profit.price if profit.order_type == OrderType.LIMIT_MAKER else profit.stop_price
            if level > 0 and loss.stop_price > 0:
                right = level > loss.stop_price if pair[0].side == Side.SELL else level < loss.stop_price
                if not right:
                    return Reason.INVALID_OCO_PRICES
        return Reason.NONE

    def _emit_list_status(self, lst: _List, status_type: int, status: int) -> None:
        self._out.append(
            ListStatus(
                seq=self._next_seq(),
                ts=self._ts,
                order_list_id=lst.list_id,
                user_id=lst.user_id,
                list_client_order_id=lst.client_id,
                contingency=lst.contingency,
                status_type=status_type,
                list_status=status,
                order_ids=lst.order_ids,
            )
        )

    def _end_list_of(self, o: _Order, cancel: bool, taken: list[_Order] | None = None) -> None:
        """When `o` belongs to an open list: the other open members end (cancelled or expired),
        then ListStatus(ALL_DONE). A member sharing a reservation that `o` or an earlier member
        released releases nothing; any other releases its reservation left. `taken`: stop orders
        just taken from `waiting` in the current check; a member found there is removed from it."""
        lst = self.lists.pop(o.list_id, None)
        if lst is None:
            return
        lst.pending = []
        shared = lst.shared_ids()
        shared_released = o.order_id in shared
        self.pending = [x for x in self.pending if x is not o]
        for other_id in lst.order_ids:
            if other_id == o.order_id:
                continue
            candidates = self.orders + self.waiting + self.pending + (taken or [])
            others = [x for x in candidates if x.order_id == other_id]
            if not others:  # an OTOCO's working order, filled
                continue
            other = others[0]
            if other in self.orders:
                self.orders.remove(other)
                self._touched.add((other.side, other.price))
            elif other in self.waiting:
                self.waiting.remove(other)
            elif other in self.pending:
                self.pending.remove(other)
            else:
                assert taken is not None
                taken.remove(other)
            release = other.reserve_left
            if other_id in shared:
                if shared_released:
                    release = 0
                shared_released = True
            if cancel:
                self._out.append(
                    OrderCancelled(
                        seq=self._next_seq(),
                        ts=self._ts,
                        order_id=other.order_id,
                        user_id=other.user_id,
                        client_order_id=other.client_order_id,
                        remaining=other.remaining,
                    )
                )
                status = OrderStatus.CANCELED
            else:
                self._emit_expired(other, Reason.ORDER_LIST_SIBLING, other.remaining)
                status = OrderStatus.EXPIRED
            self._out.append(
                OrderDone(
                    seq=self._next_seq(),
                    ts=self._ts,
                    order_id=other.order_id,
                    user_id=other.user_id,
                    client_order_id=other.client_order_id,
                    side=other.side,
                    status=status,
                    filled=other.filled,
                    filled_quote=other.filled_quote,
                    release=release,
                )
            )
        self._emit_list_status(lst, ListStatusType.ALL_DONE, ListOrderStatus.ALL_DONE)

    def _execute(self, taker: _Order) -> list["_Order | _List"]:
        """FOK dry run, matching, then the taker's end (or rest). Returns what joins the trigger
        queue: the lists whose working order it filled, then the waiting stop orders its trades
        triggered (removed from `waiting`), in ascending order id."""
        self._match_and_end(taker)
        queue: list[_Order | _List] = list(self._activated)
        self._activated = []
        queue.extend(self._take_triggered())
        return queue

    def _match_and_end(self, taker: _Order) -> None:
        self._taker_prices = []
        is_fok = taker.acts_as == OrderType.LIMIT and taker.time_in_force == TimeInForce.FOK
        if is_fok and self._fok_available(taker) < taker.remaining:
            self._emit_expired(taker, Reason.FOK_NOT_FILLABLE, taker.remaining)
            self._emit_done(taker, OrderStatus.EXPIRED)
            return
        stop = self._match(taker)
        self._end_taker(taker, stop)

    def _take_triggered(self) -> list[_Order]:
        """The waiting stop orders the current taker's trades triggered, taken from `waiting`."""
        prices = self._taker_prices
        self._taker_prices = []
        hit = [
            o
            for o in self.waiting
            if (
                self._trails_to_trigger(o, prices)
                if o.trailing_delta
                else any(_is_triggered_by(o, p) for p in prices)
            )
        ]
        for o in hit:
            self.waiting.remove(o)
        queue = sorted(hit, key=lambda o: o.order_id)
        i = 0
        while i < len(queue):  # a member taken ends its list; a later member of it leaves the queue
            self._end_list_of(queue[i], cancel=False, taken=queue)
            i += 1
        return queue

    @staticmethod
    def _trails_to_trigger(o: _Order, prices: list[int]) -> bool:
        """docs "Trailing stop orders": each price in turn activates, triggers or moves the reference."""
        for p in prices:
            if not o.active:
                if _is_triggered_by(o, p):
                    o.active, o.reference = True, p
            elif o.reference == 0:
                o.reference = p
            elif o.side == Side.BUY:
                if p * 10_000 >= o.reference * (10_000 + o.trailing_delta):
                    return True
                o.reference = min(o.reference, p)
            else:
                if p * 10_000 <= o.reference * (10_000 - o.trailing_delta):
                    return True
                o.reference = max(o.reference, p)
        return False

    def _new_waiting(self, c: PlaceOrder) -> _Order:
        """An accepted stop order as it waits: its whole quantity and reservation; a trailing one
        without a stop price follows the price from the last trade price on."""
        trailing_now = c.trailing_delta > 0 and c.stop_price == 0
        return _Order(
            order_id=c.order_id,
            user_id=c.user_id,
            client_order_id=c.client_order_id,
            side=c.side,
            order_type=c.order_type,
            time_in_force=c.time_in_force,
            price=c.price,
            remaining=c.quantity,
            filled=0,
            filled_quote=0,
            reserve_left=c.reserve,
            stp_mode=c.stp_mode,
            ts=self._ts,
            arrival=0,
            stop_price=c.stop_price,
            trailing_delta=c.trailing_delta,
            active=trailing_now,
            reference=self.last_price if trailing_now else 0,
        )

    def _taker_of_triggered(self, o: _Order) -> _Order:
        """A triggered stop order as a taker: MARKET by quantity or LIMIT, arriving now."""
        self.arrivals += 1
        o.arrival = self.arrivals
        o.acts_as = OrderType.MARKET if o.order_type in _STOP_MARKET_TYPES else OrderType.LIMIT
        o.steps_left = o.remaining // self.spec.step_units
        o.cap_left = o.reserve_left if o.side == Side.BUY else None
        return o

    def _check_place(self, c: PlaceOrder, now: bool = True) -> int:
        """The first failing check of docs/matching.md "PlaceOrder" (1-8; 1-6 when not `now`), or
        Reason.NONE."""
        if c.symbol != self.spec.symbol:
            return Reason.UNKNOWN_MARKET
        open_orders = self.orders + self.waiting + self.pending
        if any(o.order_id == c.order_id for o in open_orders):
            return Reason.DUPLICATE_ORDER_ID
        if c.client_order_id and any(
            o.user_id == c.user_id and o.client_order_id == c.client_order_id for o in open_orders
        ):
            return Reason.DUPLICATE_CLIENT_ORDER_ID
        if c.side not in (Side.BUY, Side.SELL):
            return Reason.INVALID_SIDE
        if c.stp_mode not in list(StpMode):
            return Reason.INVALID_STP_MODE
        for check in (
            self._check_by_type,
            self._check_stop_price,
            self._check_iceberg,
            self._check_reserve,
            *((self._check_would_take, self._check_would_trigger) if now else ()),
        ):
            reason = check(c)
            if reason != Reason.NONE:
                return reason
        return Reason.NONE

    def _check_stop_price(self, c: PlaceOrder) -> int:
        """Stop price, then trailing delta (docs: PlaceOrder 5, last paragraph)."""
        if c.order_type in _STOP_TYPES:
            bad_stop = (
                c.stop_price < 0
                or c.stop_price % self.spec.tick_units != 0
                or (c.stop_price == 0 and c.trailing_delta == 0)
            )
            bad_trail = not 0 <= c.trailing_delta < 10_000
        else:
            bad_stop = c.stop_price != 0
            bad_trail = c.trailing_delta != 0
        if bad_stop:
            return Reason.INVALID_STOP_PRICE
        return Reason.INVALID_TRAILING_DELTA if bad_trail else Reason.NONE

    def _check_iceberg(self, c: PlaceOrder) -> int:
        """docs: PlaceOrder 5, "Last, the iceberg quantity"."""
        q = c.iceberg_qty
        if q == 0:
            return Reason.NONE
        bad = (
            q < 0
            or c.order_type not in (OrderType.LIMIT, OrderType.LIMIT_MAKER)
            or c.time_in_force != TimeInForce.GTC
            or q % self.spec.step_units != 0
            or q < self.spec.min_qty_units
            or q >= c.quantity
        )
        return Reason.INVALID_ICEBERG_QTY if bad else Reason.NONE

    def _check_would_trigger(self, c: PlaceOrder) -> int:
        """A stop order whose condition holds for the last trade price (when there was a trade)."""
        if c.order_type not in _STOP_TYPES or self.last_price == 0 or c.stop_price == 0:
            return Reason.NONE
        probe = self._new_waiting(c)
        return Reason.WOULD_TRIGGER if _is_triggered_by(probe, self.last_price) else Reason.NONE

    def _check_by_type(self, c: PlaceOrder) -> int:
        if c.order_type in (OrderType.LIMIT, OrderType.LIMIT_MAKER, *_STOP_LIMIT_TYPES):
            return self._check_limit(c)
        if c.order_type == OrderType.MARKET:
            return self._check_market(c)
        if c.order_type in _STOP_MARKET_TYPES:
            return self._check_stop_market(c)
        return Reason.INVALID_ORDER_TYPE

    def _check_stop_market(self, c: PlaceOrder) -> int:
        """STOP_LOSS / TAKE_PROFIT: as MARKET by quantity."""
        if c.price != 0:
            return Reason.INVALID_PRICE
        if c.quote_quantity != 0 or c.quantity <= 0:
            return Reason.INVALID_QUANTITY
        return self._check_quantity_grid(c.quantity)

    def _check_limit(self, c: PlaceOrder) -> int:
        if c.price <= 0:
            return Reason.INVALID_PRICE
        if c.price % self.spec.tick_units:
            return Reason.PRICE_OFF_TICK
        if c.quote_quantity != 0 or c.quantity <= 0:
            return Reason.INVALID_QUANTITY
        reason = self._check_quantity_grid(c.quantity)
        if reason != Reason.NONE:
            return reason
        if self._notional(c.price, c.quantity) < self.spec.min_notional_units:
            return Reason.BELOW_MIN_NOTIONAL
        if c.time_in_force not in list(TimeInForce):
            return Reason.INVALID_TIME_IN_FORCE
        if c.order_type == OrderType.LIMIT_MAKER and c.time_in_force != TimeInForce.GTC:
            return Reason.INVALID_TIME_IN_FORCE
        return Reason.NONE

    def _check_market(self, c: PlaceOrder) -> int:
        if c.price != 0:
            return Reason.INVALID_PRICE
        by_quantity = c.quantity > 0 and c.quote_quantity == 0
        by_quote = c.quote_quantity > 0 and c.quantity == 0
        if not (by_quantity or by_quote):
            return Reason.INVALID_QUANTITY
        if by_quantity:
            return self._check_quantity_grid(c.quantity)
        if c.quote_quantity < self.spec.min_notional_units:
            return Reason.BELOW_MIN_NOTIONAL
        return Reason.NONE

    def _check_quantity_grid(self, quantity: int) -> int:
        """Step, min and max checks of a quantity in base units."""
        if quantity % self.spec.step_units:
            return Reason.QUANTITY_OFF_STEP
        if quantity < self.spec.min_qty_units:
            return Reason.QUANTITY_BELOW_MIN
        if quantity > self.spec.max_qty_units:
            return Reason.QUANTITY_ABOVE_MAX
        return Reason.NONE

    def _check_reserve(self, c: PlaceOrder) -> int:
        if c.reserve < 0:
            return Reason.INSUFFICIENT_RESERVE
        is_market = c.order_type in (OrderType.MARKET, *_STOP_MARKET_TYPES)
        if not is_market and c.side == Side.BUY:
            enough = c.reserve >= self._notional(c.price, c.quantity)
        elif c.side == Side.SELL and c.quantity > 0:
            enough = c.reserve >= c.quantity
        else:  # MARKET BUY (either way) or MARKET SELL by quote
            enough = c.reserve > 0
        return Reason.NONE if enough else Reason.INSUFFICIENT_RESERVE

    def _check_would_take(self, c: PlaceOrder) -> int:
        if c.order_type != OrderType.LIMIT_MAKER:
            return Reason.NONE
        if c.side == Side.BUY:
            best_ask = self._best_price(Side.SELL)
            crosses = best_ask is not None and c.price >= best_ask
        else:
            best_bid = self._best_price(Side.BUY)
            crosses = best_bid is not None and c.price <= best_bid
        return Reason.WOULD_TAKE if crosses else Reason.NONE

    def _new_taker(self, c: PlaceOrder) -> _Order:
        """The accepted order with its quantity left (steps) and spending cap set per the spec."""
        self.arrivals += 1
        by_quote = c.order_type == OrderType.MARKET and c.quote_quantity > 0
        taker = _Order(
            order_id=c.order_id,
            user_id=c.user_id,
            client_order_id=c.client_order_id,
            side=c.side,
            order_type=c.order_type,
            time_in_force=c.time_in_force,
            price=c.price,
            remaining=c.quantity,
            filled=0,
            filled_quote=0,
            reserve_left=c.reserve,
            stp_mode=c.stp_mode,
            ts=self._ts,
            arrival=self.arrivals,
            by_quote=by_quote,
            acts_as=c.order_type,
            iceberg_qty=c.iceberg_qty,
        )
        step = self.spec.step_units
        if c.side == Side.BUY:
            taker.steps_left = None if by_quote else c.quantity // step
            taker.cap_left = min(c.reserve, c.quote_quantity) if by_quote else c.reserve
        elif by_quote:
            taker.steps_left = c.reserve // step
            taker.cap_left = c.quote_quantity
        else:
            taker.steps_left = c.quantity // step
            taker.cap_left = None
        return taker

    def _is_self_trade(self, taker: _Order, maker: _Order) -> bool:
        return maker.user_id == taker.user_id and taker.stp_mode != StpMode.NONE

    def _fok_available(self, taker: _Order) -> int:
        """FOK dry run: base units the taker could take, honouring STP, without changing anything."""
        total = 0
        for maker in self._crossing_makers(taker):
            if self._is_self_trade(taker, maker):
                if taker.stp_mode == StpMode.EXPIRE_MAKER:
                    continue
                break
            total += maker.remaining
        return total

    def _match(self, taker: _Order) -> str:
        """Match the taker against the book, best maker first; return why matching stopped."""
        while taker.steps_left is None or taker.steps_left > 0:
            makers = self._crossing_makers(taker)
            if not makers:
                return _STOP_NO_MAKER
            maker = makers[0]
            if self._is_self_trade(taker, maker):
                self.prevented_match_id += 1
                self._prevented = (maker.order_id, maker.price)
                if taker.stp_mode == StpMode.EXPIRE_TAKER:
                    return _STOP_SELF_TRADE
                self._expire_maker(maker, taker)
                if taker.stp_mode == StpMode.EXPIRE_BOTH:
                    return _STOP_SELF_TRADE
                continue
            fill = (maker.remaining - maker.hidden) // self.spec.step_units  # its visible part
            if taker.steps_left is not None:
                fill = min(fill, taker.steps_left)
            if taker.cap_left is not None:
                fill = min(fill, taker.cap_left // self._step_cost(maker.price))
                if fill == 0:
                    return _STOP_CAP
            self._trade(taker, maker, fill)
        return _STOP_FILLED

    def _expire_maker(self, maker: _Order, taker: _Order) -> None:
        """STP removes a resting maker: OrderExpired(SELF_TRADE_MAKER) then OrderDone(EXPIRED_IN_MATCH)."""
        self.orders.remove(maker)
        self._touched.add((maker.side, maker.price))
        self._emit_expired(
            maker, Reason.SELF_TRADE_MAKER, maker.remaining, taker.order_id, maker.price, taker.stp_mode
        )
        self._emit_done(maker, OrderStatus.EXPIRED_IN_MATCH)
        self._end_list_of(maker, cancel=False)

    def _trade(self, taker: _Order, maker: _Order, steps: int) -> None:
        """Fill `steps` at the maker's price; update both orders first, then emit the Trade."""
        quantity = steps * self.spec.step_units
        quote = steps * self._step_cost(maker.price)
        self._fill(maker, quantity, quote)
        self._fill(taker, quantity, quote)
        if taker.steps_left is not None:
            taker.steps_left -= steps
        if taker.cap_left is not None:
            taker.cap_left -= quote
        self.trade_id += 1
        self.last_price = maker.price
        self._touched.add((maker.side, maker.price))
        self._taker_prices.append(maker.price)
        buyer_ppm, seller_ppm = self.spec.taker_fee_ppm, self.spec.maker_fee_ppm
        if taker.side == Side.SELL:
            buyer_ppm, seller_ppm = seller_ppm, buyer_ppm
        buyer_fee = _fee(quantity, buyer_ppm)
        seller_fee = _fee(quote, seller_ppm)
        taker_fee, maker_fee = (buyer_fee, seller_fee) if taker.side == Side.BUY else (seller_fee, buyer_fee)
        self._out.append(
            Trade(
                seq=self._next_seq(),
                ts=self._ts,
                trade_id=self.trade_id,
                price=maker.price,
                quantity=quantity,
                quote_quantity=quote,
                taker_side=taker.side,
                maker_order_id=maker.order_id,
                maker_user_id=maker.user_id,
                taker_order_id=taker.order_id,
                taker_user_id=taker.user_id,
                maker_fee=maker_fee,
                taker_fee=taker_fee,
                maker_filled=maker.filled,
                maker_filled_quote=maker.filled_quote,
                taker_filled=taker.filled,
                taker_filled_quote=taker.filled_quote,
            )
        )
        if maker.remaining == 0:
            self.orders.remove(maker)
            self._emit_done(maker, OrderStatus.FILLED)
        elif maker.remaining == maker.hidden:
            self._replenish(maker)
        lst = self.lists.get(maker.list_id)
        if lst is not None and lst.pending:  # a working order: only its full fill counts
            if maker.remaining == 0:
                self._activated.append(lst)
        else:
            self._end_list_of(maker, cancel=False)

    def _replenish(self, o: _Order) -> None:
        """docs "Iceberg orders": a new visible part from the hidden rest, at the back of its level."""
        o.hidden = o.remaining - min(o.iceberg_qty, o.remaining)
        self.arrivals += 1
        o.arrival = self.arrivals

    @staticmethod
    def _fill(o: _Order, quantity: int, quote: int) -> None:
        """Cumulative fills up; a BUY's reservation shrinks by the quote, a SELL's by the quantity."""
        o.remaining -= quantity
        o.filled += quantity
        o.filled_quote += quote
        o.reserve_left -= quote if o.side == Side.BUY else quantity

    def _end_taker(self, taker: _Order, stop: str) -> None:
        """docs/matching.md "After matching, the taker": FILLED, self-trade, rest, or expire.

        "Filled completely" is read as "no quantity left": a MARKET SELL by quote whose base ran out
        (quantity left `reserve // step_units` reached 0, possibly 0 from the start) ends FILLED.
        """
        remaining = 0 if taker.by_quote else (taker.steps_left or 0) * self.spec.step_units
        if stop == _STOP_FILLED or (taker.by_quote and stop == _STOP_CAP and taker.filled > 0):
            self._emit_done(taker, OrderStatus.FILLED)
            return
        if stop == _STOP_SELF_TRADE:
            maker_id, price = self._prevented
            self._emit_expired(taker, Reason.SELF_TRADE_TAKER, remaining, maker_id, price, taker.stp_mode)
            self._emit_done(taker, OrderStatus.EXPIRED_IN_MATCH)
            return
        rests = taker.acts_as == OrderType.LIMIT_MAKER or (
            taker.acts_as == OrderType.LIMIT and taker.time_in_force == TimeInForce.GTC
        )
        if rests and stop != _STOP_CAP:
            taker.remaining = remaining
            if taker.iceberg_qty:
                taker.hidden = remaining - min(taker.iceberg_qty, remaining)
            self.orders.append(taker)
            self._touched.add((taker.side, taker.price))
            return
        self._emit_expired(taker, self._expiry_reason(taker, stop), remaining)
        self._emit_done(taker, OrderStatus.EXPIRED)

    @staticmethod
    def _expiry_reason(taker: _Order, stop: str) -> int:
        """Why a taker with quantity left expires.

        Stopped by its cap: RESERVE_EXHAUSTED. That includes a MARKET order by quote whose cap
        stopped it before any fill (one that filled something ended FILLED already); the spec does
        not say whether that case is RESERVE_EXHAUSTED or NO_LIQUIDITY ("MARKET, nothing filled").
        """
        if stop == _STOP_CAP:
            return Reason.RESERVE_EXHAUSTED
        if taker.acts_as == OrderType.LIMIT:
            return Reason.IOC_REMAINDER
        return Reason.MARKET_REMAINDER if taker.filled > 0 else Reason.NO_LIQUIDITY

    # ------------------------------------------------------------------ cancels

    def _cancel(self, c: CancelOrder) -> None:
        """Symbol, then lookup, then ownership, as docs/matching.md "CancelOrder" lists them."""
        order = self._find(c)
        if c.symbol != self.spec.symbol:
            self._reject_cancel(c.user_id, c.order_id, c.client_order_id, Reason.UNKNOWN_MARKET)
        elif order is None:
            self._reject_cancel(c.user_id, c.order_id, c.client_order_id, Reason.UNKNOWN_ORDER)
        elif order.user_id != c.user_id:
            self._reject_cancel(c.user_id, c.order_id, c.client_order_id, Reason.ORDER_NOT_OWNED)
        else:
            self._cancel_resting(order)

    def _find(self, c: CancelOrder | AmendOrder) -> _Order | None:
        """By order id; by (user, client id) when the order id is 0. An empty client id finds nothing."""
        open_orders = self.orders + self.waiting + self.pending
        if c.order_id != 0:
            matches = [o for o in open_orders if o.order_id == c.order_id]
        elif c.client_order_id:
            matches = [
                o for o in open_orders if o.user_id == c.user_id and o.client_order_id == c.client_order_id
            ]
        else:
            matches = []
        return matches[0] if matches else None

    # ------------------------------------------------------------------ AmendOrder

    def _amend(self, c: AmendOrder) -> None:
        """docs/matching.md "AmendOrder": checks 1-4, then the order shrinks where it is."""
        order = self._find(c)
        reason = self._amend_refusal(c, order)
        if reason != Reason.NONE or order is None:
            self._out.append(
                AmendRejected(
                    seq=self._next_seq(),
                    ts=self._ts,
                    order_id=c.order_id,
                    user_id=c.user_id,
                    client_order_id=c.client_order_id,
                    reason=reason,
                )
            )
            return
        removed = order.filled + order.remaining - c.quantity
        if order in self.orders:
            visible = order.remaining - order.hidden
            order.remaining -= removed
            order.hidden = order.remaining - min(visible, order.remaining)
            self._touched.add((order.side, order.price))
        else:
            order.remaining -= removed
        if order.side == Side.SELL:
            release = removed
        else:
            release = min(order.reserve_left, self._notional(order.price, removed))
        order.reserve_left -= release
        orig = order.client_order_id
        if c.new_client_order_id:
            order.client_order_id = c.new_client_order_id
        self._out.append(
            OrderAmended(
                seq=self._next_seq(),
                ts=self._ts,
                order_id=order.order_id,
                user_id=order.user_id,
                client_order_id=order.client_order_id,
                orig_client_order_id=orig,
                side=order.side,
                quantity=c.quantity,
                remaining=order.remaining,
                filled=order.filled,
                filled_quote=order.filled_quote,
                release=release,
            )
        )

    def _amend_refusal(self, c: AmendOrder, order: _Order | None) -> int:
        if c.symbol != self.spec.symbol:
            return Reason.UNKNOWN_MARKET
        if order is None:
            return Reason.UNKNOWN_ORDER
        if order.user_id != c.user_id:
            return Reason.ORDER_NOT_OWNED
        if order.list_id in self.lists:
            return Reason.ORDER_IN_LIST
        if c.quantity <= 0 or c.quantity <= order.filled:
            return Reason.INVALID_QUANTITY
        if c.quantity % self.spec.step_units:
            return Reason.QUANTITY_OFF_STEP
        if c.quantity < self.spec.min_qty_units:
            return Reason.QUANTITY_BELOW_MIN
        if c.quantity >= order.filled + order.remaining:
            return Reason.QUANTITY_NOT_REDUCED
        new = c.new_client_order_id
        if new and new != order.client_order_id:
            mine = [o for o in self.orders + self.waiting + self.pending if o.user_id == c.user_id]
            if any(o.client_order_id == new for o in mine):
                return Reason.DUPLICATE_CLIENT_ORDER_ID
        return Reason.NONE

    def _cancel_all(self, c: CancelAll) -> None:
        """Symbol, then "has open orders"; cancels the user's orders in ascending order id."""
        if c.symbol != self.spec.symbol:
            self._reject_cancel(c.user_id, 0, "", Reason.UNKNOWN_MARKET)
            return
        mine = sorted(
            (o for o in self.orders + self.waiting + self.pending if o.user_id == c.user_id),
            key=lambda o: o.order_id,
        )
        if not mine:
            self._reject_cancel(c.user_id, 0, "", Reason.UNKNOWN_ORDER)
            return
        for order in mine:
            if order in self.orders + self.waiting + self.pending:  # not cancelled with its list already
                self._cancel_resting(order)

    def _cancel_resting(self, order: _Order) -> None:
        """Cancel an open order: resting in the book, a stop order still waiting, or a pending
        order of an OTO/OTOCO list."""
        if order in self.waiting:
            self.waiting.remove(order)
        elif order in self.pending:
            self.pending.remove(order)
        else:
            self.orders.remove(order)
            self._touched.add((order.side, order.price))
        self._out.append(
            OrderCancelled(
                seq=self._next_seq(),
                ts=self._ts,
                order_id=order.order_id,
                user_id=order.user_id,
                client_order_id=order.client_order_id,
                remaining=order.remaining,
            )
        )
        self._emit_done(order, OrderStatus.CANCELED)
        self._end_list_of(order, cancel=True)

    def _reject_cancel(self, user_id: int, order_id: int, client_order_id: str, reason: int) -> None:
        self._out.append(
            CancelRejected(
                seq=self._next_seq(),
                ts=self._ts,
                order_id=order_id,
                user_id=user_id,
                client_order_id=client_order_id,
                reason=reason,
            )
        )

    # ------------------------------------------------------------------ state

    @staticmethod
    def _trigger_record(o: _Order) -> TriggerRecord:
        return (
            int(o.order_id),
            int(o.user_id),
            str(o.client_order_id),
            int(o.side),
            int(o.order_type),
            int(o.time_in_force),
            int(o.price),
            int(o.remaining),
            int(o.stop_price),
            int(o.reserve_left),
            int(o.stp_mode),
            int(o.ts),
            int(o.trailing_delta),
            1 if o.active else 0,
            int(o.reference),
        )

    @staticmethod
    def _record(o: _Order) -> OrderRecord:
        return (
            int(o.order_id),
            int(o.user_id),
            str(o.client_order_id),
            int(o.side),
            int(o.price),
            int(o.remaining),
            int(o.filled),
            int(o.filled_quote),
            int(o.reserve_left),
            int(o.order_type),
            int(o.time_in_force),
            int(o.stp_mode),
            int(o.ts),
            int(o.iceberg_qty),
            int(o.hidden),
        )
