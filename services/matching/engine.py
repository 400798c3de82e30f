"""The matching engine of one market: a deterministic state machine from commands to events.

The rules are in docs/matching.md. This module is the hot path: it caches attributes in locals,
keeps integers (ticks and steps) inside, and converts to smallest units only in events. It does
no I/O, reads no clock and draws no random number; the same commands always give the same events.
"""

from typing import Final

from matching.book import NO_ASK, BookSide, Level, Order, OrderList, Owner
from matching.commands import AmendOrder, CancelAll, CancelOrder, Command, PlaceOrder, PlaceOrderList
from matching.enums import ListOrderStatus, ListStatusType, Reason
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
from matching.triggers import TriggerBook, rises

# Enum values as literal constants: compiled, they are machine integers (tests check them).
BUY: Final = 1
SELL: Final = 2
LIMIT: Final = 1
LIMIT_MAKER: Final = 2
MARKET: Final = 3
STOP_LOSS: Final = 4
STOP_LOSS_LIMIT: Final = 5
TAKE_PROFIT: Final = 6
TAKE_PROFIT_LIMIT: Final = 7
GTC: Final = 1
IOC: Final = 2
FOK: Final = 3
EXPIRE_TAKER: Final = 1
EXPIRE_MAKER: Final = 2
EXPIRE_BOTH: Final = 3
FILLED: Final = 3
CANCELED: Final = 4
EXPIRED: Final = 5
EXPIRED_IN_MATCH: Final = 6
FOK_NOT_FILLABLE: Final = 303
IOC_REMAINDER: Final = 304
MARKET_REMAINDER: Final = 305
NO_LIQUIDITY: Final = 302
SELF_TRADE_TAKER: Final = 306
SELF_TRADE_MAKER: Final = 307
RESERVE_EXHAUSTED: Final = 308
ORDER_LIST_SIBLING: Final = 310
OCO: Final = 1
OTO: Final = 2
OTOCO: Final = 3
PROFIT_LEG_TYPES: Final = (LIMIT_MAKER, TAKE_PROFIT, TAKE_PROFIT_LIMIT)
LOSS_LEG_TYPES: Final = (STOP_LOSS, STOP_LOSS_LIMIT)
UNLIMITED: Final = 1 << 62
NO_CAP: Final = -1
OK: Final = 0  # Reason.NONE
PPM: Final = 1_000_000
BIPS: Final = 10_000
IDLE_OWNERS: Final = 1024  # Owners with no open order kept, at least, before they are dropped
OWNER_SLOTS: Final = 1024  # a power of two: `_owner_slots`' size


class MatchingEngine:
    """One market's book and everything needed to reproduce its events."""

    __slots__ = (
        "_activated",
        "_checked",
        "_checked_key",
        "_checked_owner",
        "_idle_owners",
        "_npts",
        "_owner_slots",
        "_pending",
        "_step",
        "_stp_counter",
        "_stp_price",
        "_tick",
        "_waiting",
        "asks",
        "bids",
        "last_price",
        "list_id",
        "lists",
        "orders",
        "owners",
        "prevented_match_id",
        "seq",
        "spec",
        "stops",
        "symbol",
        "trade_id",
    )

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.symbol = spec.symbol
        self.bids = BookSide(is_bid=True, tick=spec.tick_units)
        self.asks = BookSide(is_bid=False, tick=spec.tick_units)
        self.orders: dict[object, Order] = {}  # by order id (an Order's `key` once it rests)
        # Users by user id (an Owner's `key`): those with open orders, and those whose orders all
        # left (`count` 0, `_idle_owners` of them), kept for their next order until they are more
        # than IDLE_OWNERS and than the others.
        self.owners: dict[object, Owner] = {}
        self._idle_owners = 0
        # The Owner of user id `u` last found or made is in slot `u & (OWNER_SLOTS - 1)` (until
        # another user's takes it): finding it there boxes and hashes nothing.
        self._owner_slots: list[Owner | None] = [None] * OWNER_SLOTS
        self.seq = 0
        self.trade_id = 0
        self.last_price = 0
        self._tick = spec.tick_units
        self._step = spec.step_units
        self._npts = spec.notional_per_tick_step
        self.stops = TriggerBook()
        self.lists: dict[int, OrderList] = {}  # open order lists by id
        self.list_id = 0  # the last order list id given
        self._waiting = self.stops.orders  # the same dict, one attribute read on the hot path
        self._pending: dict[int, Order] = {}  # stand-ins of pending orders of OTO/OTOCO lists, by id
        self._activated: list[OrderList] = []  # lists whose working order the current taker filled
        self.prevented_match_id = 0  # the last prevented match id given (self-trade prevention)
        self._stp_counter = 0  # the maker and price (quote units) of the taker's prevented match
        self._stp_price = 0
        # The command `_check_place` last found no duplicate for, its order id as the key object
        # it looked up and its user's Owner then (None when none or not looked up): `_start` gives
        # them to that command's Order, so that resting it boxes and looks up nothing again.
        self._checked: PlaceOrder | None = None
        self._checked_key: object = None
        self._checked_owner: Owner | None = None

    # ------------------------------------------------------------------ commands

    def apply(self, command: Command) -> list[Event]:
        """Apply one command; return the events it caused (possibly a single rejection)."""
        out: list[Event] = []
        if isinstance(command, PlaceOrder):
            self.place(command, out)
        elif isinstance(command, CancelOrder):
            self.cancel(command, out)
        elif isinstance(command, CancelAll):
            self.cancel_all(command, out)
        elif isinstance(command, AmendOrder):
            self.amend(command, out)
        elif isinstance(command, PlaceOrderList):
            self.place_list(command, out)
        else:
            raise TypeError(f"not a command: {command!r}")
        return out

    def apply_journal(self, commands: list[Command], written_seq: int) -> list[list[Event]]:
        """Apply a batch of journal commands in order: the engine service's hot loop, and what
        `python -m bench core` times. Returns each command's events, less those numbered
        `written_seq` or below (already in the event stream: replaying the journal after a restart
        makes them again)."""
        out: list[list[Event]] = []
        for command in commands:
            events = self.apply(command)
            if events and events[0].seq <= written_seq:
                events = [e for e in events if e.seq > written_seq]
            out.append(events)
        return out

    def place(self, c: PlaceOrder, out: list[Event]) -> None:
        """Validate, then match and rest or end an order, or keep a stop order waiting
        (docs/matching.md, PlaceOrder and Stop orders)."""
        reason = self._check_place(c)
        if reason:
            self.seq += 1
            out.append(
                OrderRejected(
                    self.seq, c.ts, c.order_id, c.user_id, c.client_order_id, c.side, reason, c.reserve
                )
            )
            return
        first = len(out)
        trades = self.trade_id
        self._start(c, c.ts, None, out)
        if self.trade_id != trades and (self._waiting or self._activated):
            self._run_triggers(self._queue_after(first, c.ts, out), c.ts, out)
        self._emit_delta(c.ts, out)

    def _start(
        self, c: PlaceOrder, ts: int, order_list: OrderList | None, out: list[Event], announce: bool = True
    ) -> Order:
        """Accept a checked order (a member of `order_list` when one is given; `OrderAccepted`
        unless `announce` is False), then match and rest or end it, or keep a stop order waiting;
        no trigger run and no BookDelta. Returns the order."""
        if announce:
            self._emit_accepted(c, ts, order_list, out)
        step = self._step
        buy = c.side == BUY
        otype = c.order_type
        by_quote = False
        if otype == MARKET:
            limit = NO_ASK - 1 if buy else 0
            if c.quantity:
                remaining = c.quantity // step
                cap = c.reserve if buy else NO_CAP
            else:
                by_quote = True
                if buy:
                    remaining = UNLIMITED
                    cap = min(c.reserve, c.quote_quantity)
                else:
                    remaining = c.reserve // step
                    cap = c.quote_quantity
        else:
            limit = c.price // self._tick
            remaining = c.quantity // step
            cap = c.reserve if buy else NO_CAP
        taker = Order(
            c.order_id,
            c.user_id,
            c.client_order_id,
            c.side,
            otype,
            c.time_in_force,
            c.stp_mode,
            limit,
            remaining,
            c.reserve,
            ts,
        )
        taker.iceberg = c.iceberg_qty // step
        if c is self._checked:
            taker.key = self._checked_key
            taker.owner = self._checked_owner
        if order_list is not None:
            taker.order_list = order_list
            order_list.add(taker)
        if otype >= STOP_LOSS:
            self.stops.add(taker, c.stop_price // self._tick, c.trailing_delta, self.last_price)
            self._index(taker)
            return taker
        self._execute(taker, otype == MARKET, limit, cap, by_quote, ts, out)
        return taker

    def _emit_accepted(self, c: PlaceOrder, ts: int, order_list: OrderList | None, out: list[Event]) -> None:
        self.seq += 1
        out.append(
            OrderAccepted(
                self.seq,
                ts,
                c.order_id,
                c.user_id,
                c.client_order_id,
                c.side,
                c.order_type,
                c.time_in_force,
                c.price,
                c.quantity,
                c.quote_quantity,
                c.reserve,
                c.stp_mode,
                c.stop_price,
                c.trailing_delta,
                c.iceberg_qty,
                0 if order_list is None else order_list.list_id,
            )
        )

    def _execute(
        self, taker: Order, market: bool, limit: int, cap: int, by_quote: bool, ts: int, out: list[Event]
    ) -> None:
        """Match an accepted order, then end it or rest it (docs/matching.md, after OrderAccepted)."""
        tif = taker.time_in_force
        if tif == FOK and not market and not self._fok_fillable(taker, limit):
            self._end_taker(taker, EXPIRED, FOK_NOT_FILLABLE, by_quote, ts, out)
            return
        stop = OK
        if (self.asks.best <= limit) if taker.side == BUY else (self.bids.best >= limit):
            stop = self._match(taker, limit, cap, ts, out)
        if stop == SELF_TRADE_TAKER:
            self._end_taker(taker, EXPIRED_IN_MATCH, stop, by_quote, ts, out)
        elif not taker.remaining or (by_quote and stop and taker.filled):
            self._end_taker(taker, FILLED, OK, by_quote, ts, out)
        elif stop:
            self._end_taker(taker, EXPIRED, stop, by_quote, ts, out)
        elif not market and tif == GTC:
            if taker.iceberg and taker.iceberg < taker.remaining:
                taker.hidden = taker.remaining - taker.iceberg
            self._rest(taker)
        else:
            if not market:
                why = IOC_REMAINDER
            elif taker.filled:
                why = MARKET_REMAINDER
            else:
                why = NO_LIQUIDITY
            self._end_taker(taker, EXPIRED, why, by_quote, ts, out)

    # ------------------------------------------------------------------ order lists

    def place_list(self, c: PlaceOrderList, out: list[Event]) -> None:
        """Validate an order list, then place its members (an OCO) or its working order (an OTO or
        OTOCO) (docs/matching.md, Order lists)."""
        legs = c.orders
        order_ids = tuple(leg.order_id for leg in legs)
        reason = self._check_list(c)
        if reason:
            self.seq += 1
            contingent = c.contingency != OCO and len(legs) > 1
            out.append(
                ListStatus(
                    self.seq,
                    c.ts,
                    0,
                    c.user_id,
                    c.list_client_order_id,
                    c.contingency,
                    ListStatusType.RESPONSE,
                    ListOrderStatus.REJECT,
                    order_ids,
                    reason,
                    legs[0].reserve if legs else 0,
                    legs[1].reserve if contingent else 0,
                )
            )
            return
        self.list_id += 1
        order_list = OrderList(self.list_id, c.user_id, c.list_client_order_id, c.contingency, [])
        self.lists[order_list.list_id] = order_list
        if c.contingency != OCO:
            self._place_working(c, order_list, out)
            return
        for leg in legs:
            self._start(leg, c.ts, order_list, out)
        self._emit_list_status(order_list, ListStatusType.EXEC_STARTED, ListOrderStatus.EXECUTING, c.ts, out)
        self._emit_delta(c.ts, out)

    def _place_working(self, c: PlaceOrderList, order_list: OrderList, out: list[Event]) -> None:
        """Place a checked OTO or OTOCO list: its pending orders wait as stand-ins, its working
        order is placed (docs/matching.md, OTO and OTOCO lists, Placement)."""
        ts = c.ts
        step = self._step
        tick = self._tick
        working_cmd = c.orders[0]
        order_list.orders.append(
            Order(working_cmd.order_id, c.user_id, "", working_cmd.side, 0, 0, 0, 0, 0, 0, ts)
        )
        for p in c.orders[1:]:
            stand_in = Order(
                p.order_id,
                p.user_id,
                p.client_order_id,
                p.side,
                p.order_type,
                p.time_in_force,
                p.stp_mode,
                p.price // tick,
                p.quantity // step,
                p.reserve,
                ts,
            )
            stand_in.order_list = order_list
            order_list.orders.append(stand_in)
            order_list.pending.append(p)
            self._pending[p.order_id] = stand_in
            self._index(stand_in)
        first = len(out)
        trades = self.trade_id
        working = self._start(working_cmd, ts, order_list, out)
        self._emit_list_status(order_list, ListStatusType.EXEC_STARTED, ListOrderStatus.EXECUTING, ts, out)
        queue: list[Order | OrderList] = []
        if self.trade_id != trades and self._activated:
            queue.extend(self._activated)
            self._activated.clear()
        if not working.remaining:
            working.live = False
            queue.append(order_list)
        elif working.order_id not in self.orders:
            working.live = False
            self._end_list(order_list, working, False, ts, out)
        if self.trade_id != trades and self._waiting:
            queue.extend(self._triggered_by(first, ts, out))
        if queue:
            self._run_triggers(queue, ts, out)
        self._emit_delta(ts, out)

    def _emit_list_status(
        self, order_list: OrderList, status_type: int, list_status: int, ts: int, out: list[Event]
    ) -> None:
        self.seq += 1
        out.append(
            ListStatus(
                self.seq,
                ts,
                order_list.list_id,
                order_list.user_id,
                order_list.client_id,
                order_list.contingency,
                status_type,
                list_status,
                order_list.order_ids(),
            )
        )

    def _check_list(self, c: PlaceOrderList) -> int:
        """The first rule `c` breaks (a Reason), or OK (docs/matching.md, PlaceOrderList 1-7)."""
        if c.symbol != self.symbol:
            return Reason.UNKNOWN_MARKET
        legs = c.orders
        contingency = c.contingency
        if not (
            (contingency == OCO and len(legs) == 2)
            or (contingency == OTO and len(legs) == 2)
            or (contingency == OTOCO and len(legs) == 3)
        ):
            return Reason.INVALID_CONTINGENCY
        pair = legs if contingency == OCO else legs[1:]
        head = pair[0]
        for leg in legs:
            if leg.user_id != c.user_id:
                return Reason.ORDER_LIST_LEGS_DIFFER
        if len(pair) == 2:
            for leg in pair:
                if leg.side != head.side or leg.quantity != head.quantity or leg.reserve != head.reserve:
                    return Reason.ORDER_LIST_LEGS_DIFFER
        profit = loss = head
        if len(pair) == 2:
            a, b = pair
            if a.order_type in PROFIT_LEG_TYPES and b.order_type in LOSS_LEG_TYPES:
                profit, loss = a, b
            elif b.order_type in PROFIT_LEG_TYPES and a.order_type in LOSS_LEG_TYPES:
                profit, loss = b, a
            else:
                return Reason.INVALID_OCO_LEG_TYPES
        if contingency != OCO:
            if legs[0].order_type != LIMIT and legs[0].order_type != LIMIT_MAKER:
                return Reason.INVALID_OCO_LEG_TYPES
            if contingency == OTO and legs[1].order_type == MARKET and legs[1].quote_quantity:
                return Reason.INVALID_OCO_LEG_TYPES
        for i in range(len(legs)):
            reason = self._check_place(legs[i], contingency == OCO or i == 0)
            if reason:
                return reason
        for i in range(len(legs)):
            for j in range(i):
                if legs[i].order_id == legs[j].order_id:
                    return Reason.DUPLICATE_ORDER_ID
        for i in range(len(legs)):
            for j in range(i):
                cid = legs[i].client_order_id
                if cid and cid == legs[j].client_order_id:
                    return Reason.DUPLICATE_CLIENT_ORDER_ID
        if len(pair) == 2:
            level = profit.price if profit.order_type == LIMIT_MAKER else profit.stop_price
            trigger = loss.stop_price
            if level and trigger and (level <= trigger if head.side == SELL else level >= trigger):
                return Reason.INVALID_OCO_PRICES
        return OK

    def _activate(
        self, order_list: OrderList, ts: int, out: list[Event], queue: list[Order | OrderList]
    ) -> None:
        """Place the pending orders of a list whose working order filled completely
        (docs/matching.md, OTO and OTOCO lists, Activation)."""
        commands = order_list.pending
        order_list.pending = []
        for p in commands:
            stand_in = self._pending.pop(p.order_id)
            stand_in.live = False
            self._unindex_user(stand_in)
        for p in commands:
            self._emit_accepted(p, ts, order_list, out)
        if order_list.contingency == OTO:
            p = commands[0]
            del self.lists[order_list.list_id]
            for o in order_list.orders:
                o.order_list = None
            self._emit_list_status(order_list, ListStatusType.ALL_DONE, ListOrderStatus.ALL_DONE, ts, out)
            reason = self._check_place(p)
            if reason:
                self._expire_unplaced(p, reason, p.reserve, ts, out)
                return
            first = len(out)
            trades = self.trade_id
            self._start(p, ts, None, out, False)
            if self.trade_id != trades and (self._waiting or self._activated):
                queue.extend(self._queue_after(first, ts, out))
            return
        a, b = commands
        reason = self._check_place(a)
        failed, other = a, b
        if not reason:
            reason = self._check_place(b)
            failed, other = b, a
        if reason:
            del self.lists[order_list.list_id]
            for o in order_list.orders:
                o.order_list = None
            self._expire_unplaced(failed, reason, failed.reserve, ts, out)
            self._expire_unplaced(other, ORDER_LIST_SIBLING, 0, ts, out)
            self._emit_list_status(order_list, ListStatusType.ALL_DONE, ListOrderStatus.ALL_DONE, ts, out)
            return
        self._start(a, ts, order_list, out, False)
        self._start(b, ts, order_list, out, False)

    def _expire_unplaced(self, p: PlaceOrder, reason: int, release: int, ts: int, out: list[Event]) -> None:
        """End a pending order that was accepted but could not be placed."""
        self.seq += 1
        out.append(OrderExpired(self.seq, ts, p.order_id, p.user_id, p.client_order_id, reason, p.quantity))
        self.seq += 1
        out.append(
            OrderDone(self.seq, ts, p.order_id, p.user_id, p.client_order_id, p.side, EXPIRED, 0, 0, release)
        )

    def _end_list(self, order_list: OrderList, by: Order, cancel: bool, ts: int, out: list[Event]) -> None:
        """End an open order list because its member `by` traded, was triggered, expired or was
        cancelled: every other open member ends too, cancelled when `cancel`, else expired; then
        ListStatus(ALL_DONE). A member that shares the reservation of `by` (an OCO pair) releases
        nothing; a pending order's stand-in releases its reserve, but the second of a pending pair
        when the first (or `by`) released the shared one. A member taken from the trigger book in
        the current check (in no book now) is only marked: `_triggered_by` drops it from its queue."""
        del self.lists[order_list.list_id]
        step = self._step
        pending = self._pending
        working_phase = bool(order_list.pending)
        order_list.pending = []
        pair_released = by.order_id in pending
        if by.order_id in pending:
            del pending[by.order_id]
        for o in order_list.orders:
            o.order_list = None
            if o is by or not o.live:
                continue
            release = 0
            if o.order_id in pending:
                del pending[o.order_id]
                self._unindex_user(o)
                if order_list.contingency == OTO or not pair_released:
                    release = o.reserve_left
                pair_released = True
            elif o.order_id in self.orders:
                self._remove_resting(o)
                if working_phase:
                    release = o.reserve_left
            elif o.order_id in self._waiting:
                self.stops.remove(o)
                self._unindex_user(o)
            o.live = False
            if cancel:
                self._emit_cancelled(o, release, ts, out)
                continue
            self.seq += 1
            out.append(
                OrderExpired(
                    self.seq,
                    ts,
                    o.order_id,
                    o.user_id,
                    o.client_order_id,
                    ORDER_LIST_SIBLING,
                    o.remaining * step,
                )
            )
            self.seq += 1
            out.append(
                OrderDone(
                    self.seq,
                    ts,
                    o.order_id,
                    o.user_id,
                    o.client_order_id,
                    o.side,
                    EXPIRED,
                    o.filled * step,
                    o.filled_quote,
                    release,
                )
            )
        self._emit_list_status(order_list, ListStatusType.ALL_DONE, ListOrderStatus.ALL_DONE, ts, out)

    # ------------------------------------------------------------------ stop orders

    def _triggered_by(self, first: int, ts: int, out: list[Event]) -> list[Order]:
        """Waiting stop orders triggered by the trades in `out[first:]` (one taker's), by order id.
        A member of an open order list ends its list here, and a member ended so is not returned."""
        tick = self._tick
        prices: list[int] = []
        for i in range(first, len(out)):
            e = out[i]
            if isinstance(e, Trade):
                prices.append(e.price // tick)
        orders = self.stops.take_triggered(prices)
        for order in orders:
            self._unindex_user(order)
        if self.lists:
            kept: list[Order] = []
            for order in orders:
                if not order.live:
                    continue
                order_list = order.order_list
                if order_list is not None:
                    self._end_list(order_list, order, False, ts, out)
                kept.append(order)
            orders = kept
        return orders

    def _queue_after(self, first: int, ts: int, out: list[Event]) -> list[Order | OrderList]:
        """What joins the trigger queue when a taker whose events start at `out[first]` has finished
        matching: the lists whose working order it filled, then the stop orders it triggered."""
        queue: list[Order | OrderList] = []
        if self._activated:
            queue.extend(self._activated)
            self._activated.clear()
        if self._waiting:
            queue.extend(self._triggered_by(first, ts, out))
        return queue

    def _run_triggers(self, queue: list[Order | OrderList], ts: int, out: list[Event]) -> None:
        """Run triggered stop orders and activated order lists in queue order; their trades may
        append more (a cascade)."""
        tick = self._tick
        i = 0
        while i < len(queue):
            item = queue[i]
            i += 1
            if isinstance(item, OrderList):
                self._activate(item, ts, out, queue)
                continue
            order = item
            self.seq += 1
            out.append(
                OrderTriggered(
                    self.seq, ts, order.order_id, order.user_id, order.client_order_id, order.stop * tick
                )
            )
            buy = order.side == BUY
            market = order.order_type == STOP_LOSS or order.order_type == TAKE_PROFIT
            limit = (NO_ASK - 1 if buy else 0) if market else order.price
            first = len(out)
            trades = self.trade_id
            self._execute(order, market, limit, order.reserve_left if buy else NO_CAP, False, ts, out)
            if self.trade_id != trades and (self._waiting or self._activated):
                queue.extend(self._queue_after(first, ts, out))

    def _find_open(self, user_id: int, order_id: int, client_order_id: str) -> Order | None:
        """An open order (resting or waiting) by id, or by the user's client id when `order_id` is 0."""
        if order_id:
            order = self.orders.get(order_id)
            if order is None:
                order = self._waiting.get(order_id)
            if order is None and self._pending:
                order = self._pending.get(order_id)
            return order
        if client_order_id:
            owner = self._owner_of(user_id)
            return owner.find(client_order_id) if owner is not None else None
        return None

    def cancel(self, c: CancelOrder, out: list[Event]) -> None:
        """Cancel one open order (docs/matching.md, CancelOrder)."""
        if c.symbol != self.symbol:
            self._reject_cancel(c.user_id, c.order_id, c.client_order_id, Reason.UNKNOWN_MARKET, c.ts, out)
            return
        order = self._find_open(c.user_id, c.order_id, c.client_order_id)
        if order is None:
            self._reject_cancel(c.user_id, c.order_id, c.client_order_id, Reason.UNKNOWN_ORDER, c.ts, out)
            return
        if order.user_id != c.user_id:
            self._reject_cancel(c.user_id, c.order_id, c.client_order_id, Reason.ORDER_NOT_OWNED, c.ts, out)
            return
        self._cancel_resting(order, c.ts, out)
        self._emit_delta(c.ts, out)

    def amend(self, c: AmendOrder, out: list[Event]) -> None:
        """Reduce an open order's quantity in place (docs/matching.md, AmendOrder)."""
        order = self._find_open(c.user_id, c.order_id, c.client_order_id) if c.symbol == self.symbol else None
        reason = self._check_amend(c, order)
        if reason or order is None:
            self.seq += 1
            out.append(AmendRejected(self.seq, c.ts, c.order_id, c.user_id, c.client_order_id, reason))
            return
        step = self._step
        removed = order.filled + order.remaining - c.quantity // step
        visible = order.remaining - order.hidden
        order.remaining -= removed
        resting = order.order_id in self.orders
        if resting:
            shown = visible if visible < order.remaining else order.remaining
            order.hidden = order.remaining - shown
            level = order.level
            assert level is not None
            level.qty += shown - visible
            (self.bids if order.side == BUY else self.asks).touch(order.price, level)
        if order.side == SELL:
            release = removed * step
        else:
            release = removed * order.price * self._npts
            if release > order.reserve_left:
                release = order.reserve_left
        order.reserve_left -= release
        orig = order.client_order_id
        new = c.new_client_order_id
        if new and new != orig:
            owner = order.owner
            assert owner is not None
            owner.rename(order, new)
        self.seq += 1
        out.append(
            OrderAmended(
                self.seq,
                c.ts,
                order.order_id,
                order.user_id,
                order.client_order_id,
                orig,
                order.side,
                c.quantity,
                order.remaining * step,
                order.filled * step,
                order.filled_quote,
                release,
            )
        )
        self._emit_delta(c.ts, out)

    def _check_amend(self, c: AmendOrder, order: Order | None) -> int:
        """The first rule `c` breaks (a Reason), or OK (docs/matching.md, AmendOrder 1-4)."""
        if c.symbol != self.symbol:
            return Reason.UNKNOWN_MARKET
        if order is None:
            return Reason.UNKNOWN_ORDER
        if order.user_id != c.user_id:
            return Reason.ORDER_NOT_OWNED
        if order.order_list is not None:
            return Reason.ORDER_IN_LIST
        step = self._step
        qty = c.quantity
        if qty <= 0 or qty <= order.filled * step:
            return Reason.INVALID_QUANTITY
        if qty % step:
            return Reason.QUANTITY_OFF_STEP
        if qty < self.spec.min_qty_units:
            return Reason.QUANTITY_BELOW_MIN
        if qty >= (order.filled + order.remaining) * step:
            return Reason.QUANTITY_NOT_REDUCED
        new = c.new_client_order_id
        if new and new != order.client_order_id:
            owner = order.owner
            if owner is not None and owner.find(new) is not None:
                return Reason.DUPLICATE_CLIENT_ORDER_ID
        return OK

    def cancel_all(self, c: CancelAll, out: list[Event]) -> None:
        """Cancel every open order of the user in ascending order id (docs/matching.md, CancelAll)."""
        if c.symbol != self.symbol:
            self._reject_cancel(c.user_id, 0, "", Reason.UNKNOWN_MARKET, c.ts, out)
            return
        owner = self._owner_of(c.user_id)
        if owner is None or not owner.count:
            self._reject_cancel(c.user_id, 0, "", Reason.UNKNOWN_ORDER, c.ts, out)
            return
        for order in owner.orders():
            if order.live:  # not cancelled already with an earlier member of its order list
                self._cancel_resting(order, c.ts, out)
        self._emit_delta(c.ts, out)

    # ------------------------------------------------------------------ validation

    def _check_place(self, c: PlaceOrder, now: bool = True) -> int:
        """The first rule `c` breaks (a Reason), or OK (docs/matching.md, PlaceOrder 1-8; 1-6
        when not `now`: the checks that do not depend on the book or the last trade price)."""
        if c.symbol != self.symbol:
            return Reason.UNKNOWN_MARKET
        order_id: object = c.order_id  # boxed once for the lookups
        if (
            order_id in self.orders
            or (self._waiting and order_id in self._waiting)
            or (self._pending and order_id in self._pending)
        ):
            return Reason.DUPLICATE_ORDER_ID
        owner: Owner | None = None
        if c.client_order_id:
            owner = self._owner_of(c.user_id)
            if owner is not None and owner.find(c.client_order_id) is not None:
                return Reason.DUPLICATE_CLIENT_ORDER_ID
        self._checked = c
        self._checked_key = order_id
        self._checked_owner = owner
        side = c.side
        if side != BUY and side != SELL:
            return Reason.INVALID_SIDE
        if not 0 <= c.stp_mode <= EXPIRE_BOTH:
            return Reason.INVALID_STP_MODE
        otype = c.order_type
        if otype in (LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT, TAKE_PROFIT_LIMIT):
            reason = self._check_limit(c, now)
        elif otype == MARKET:
            reason = self._check_market(c)
        elif otype in (STOP_LOSS, TAKE_PROFIT):
            reason = self._check_stop_market(c)
        else:
            return Reason.INVALID_ORDER_TYPE
        if reason or otype < STOP_LOSS or not now:
            return reason
        return self._check_stop(c)

    def _check_limit(self, c: PlaceOrder, now: bool) -> int:
        """LIMIT, LIMIT_MAKER and the *_LIMIT stop types: price, quantity, notional, time in force,
        then (stop price and) reserve, then WOULD_TAKE."""
        price = c.price
        qty = c.quantity
        buy = c.side == BUY
        otype = c.order_type
        if price <= 0:
            return Reason.INVALID_PRICE
        if price % self._tick:
            return Reason.PRICE_OFF_TICK
        if c.quote_quantity or qty <= 0:
            return Reason.INVALID_QUANTITY
        reason = self._check_quantity(qty)
        if reason:
            return reason
        notional = (price // self._tick) * (qty // self._step) * self._npts
        if notional < self.spec.min_notional_units:
            return Reason.BELOW_MIN_NOTIONAL
        tif = c.time_in_force
        if (tif != GTC and tif != IOC and tif != FOK) or (otype == LIMIT_MAKER and tif != GTC):
            return Reason.INVALID_TIME_IN_FORCE
        if otype >= STOP_LOSS:
            reason = self._check_stop_price(c)
            if reason:
                return reason
        elif c.stop_price:
            return Reason.INVALID_STOP_PRICE
        elif c.trailing_delta:
            return Reason.INVALID_TRAILING_DELTA
        ice = c.iceberg_qty
        if ice and (
            ice < 0
            or otype >= STOP_LOSS
            or tif != GTC
            or ice % self._step
            or ice < self.spec.min_qty_units
            or ice >= qty
        ):
            return Reason.INVALID_ICEBERG_QTY
        if c.reserve < (notional if buy else qty):
            return Reason.INSUFFICIENT_RESERVE
        if otype == LIMIT_MAKER and now:
            ticks = price // self._tick
            if (ticks >= self.asks.best) if buy else (ticks <= self.bids.best):
                return Reason.WOULD_TAKE
        return OK

    def _check_market(self, c: PlaceOrder) -> int:
        qty = c.quantity
        buy = c.side == BUY
        if c.price:
            return Reason.INVALID_PRICE
        if (qty > 0) == (c.quote_quantity > 0) or qty < 0 or c.quote_quantity < 0:
            return Reason.INVALID_QUANTITY
        if qty:
            reason = self._check_quantity(qty)
            if reason:
                return reason
            if c.stop_price:
                return Reason.INVALID_STOP_PRICE
            if c.trailing_delta:
                return Reason.INVALID_TRAILING_DELTA
            if c.iceberg_qty:
                return Reason.INVALID_ICEBERG_QTY
            if c.reserve < (1 if buy else qty):
                return Reason.INSUFFICIENT_RESERVE
        else:
            if c.quote_quantity < self.spec.min_notional_units:
                return Reason.BELOW_MIN_NOTIONAL
            if c.stop_price:
                return Reason.INVALID_STOP_PRICE
            if c.trailing_delta:
                return Reason.INVALID_TRAILING_DELTA
            if c.iceberg_qty:
                return Reason.INVALID_ICEBERG_QTY
            if c.reserve <= 0:
                return Reason.INSUFFICIENT_RESERVE
        return OK

    def _check_stop_market(self, c: PlaceOrder) -> int:
        """STOP_LOSS and TAKE_PROFIT: as a MARKET order by quantity, with a stop price."""
        qty = c.quantity
        if c.price:
            return Reason.INVALID_PRICE
        if c.quote_quantity or qty <= 0:
            return Reason.INVALID_QUANTITY
        reason = self._check_quantity(qty)
        if reason:
            return reason
        reason = self._check_stop_price(c)
        if reason:
            return reason
        if c.iceberg_qty:
            return Reason.INVALID_ICEBERG_QTY
        if c.reserve < (1 if c.side == BUY else qty):
            return Reason.INSUFFICIENT_RESERVE
        return OK

    def _check_stop_price(self, c: PlaceOrder) -> int:
        """A stop order's stop price (optional for a trailing one), then its trailing delta."""
        stop = c.stop_price
        trail = c.trailing_delta
        if stop < 0 or stop % self._tick or (not stop and not trail):
            return Reason.INVALID_STOP_PRICE
        if trail < 0 or trail >= BIPS:
            return Reason.INVALID_TRAILING_DELTA
        return OK

    def _check_stop(self, c: PlaceOrder) -> int:
        """WOULD_TRIGGER when the stop order's condition holds for the last trade price."""
        last = self.last_price
        if not last or not c.stop_price:
            return OK
        stop = c.stop_price // self._tick
        if rises(c.side, c.order_type):
            return Reason.WOULD_TRIGGER if last >= stop else OK
        return Reason.WOULD_TRIGGER if last <= stop else OK

    def _check_quantity(self, qty: int) -> int:
        if qty % self._step:
            return Reason.QUANTITY_OFF_STEP
        if qty < self.spec.min_qty_units:
            return Reason.QUANTITY_BELOW_MIN
        if qty > self.spec.max_qty_units:
            return Reason.QUANTITY_ABOVE_MAX
        return OK

    # ------------------------------------------------------------------ matching

    def _fok_fillable(self, taker: Order, limit: int) -> bool:
        """Dry run of a FOK order: can it fill completely now, given its STP mode?"""
        buy = taker.side == BUY
        opp = self.asks if buy else self.bids
        need = taker.remaining
        user = taker.user_id
        stp = taker.stp_mode
        for price, level in zip(opp.prices_from_best(), opp.levels_from_best(), strict=True):
            if (price > limit) if buy else (price < limit):
                return False
            for maker in level.live_orders():
                if stp and maker.user_id == user:
                    if stp == EXPIRE_MAKER:
                        continue
                    return False
                need -= maker.remaining
                if need <= 0:
                    return True
        return False

    def _match(self, t: Order, limit: int, cap: int, ts: int, out: list[Event]) -> int:
        """Take liquidity for taker `t` up to price `limit` (ticks) and spending cap `cap`.

        Returns OK (Reason.NONE) when the taker is filled or nothing crossable is left,
        SELF_TRADE_TAKER when self-trade prevention ended it, RESERVE_EXHAUSTED when its cap
        cannot pay for one more step.
        """
        buy = t.side == BUY
        opp = self.asks if buy else self.bids
        npts = self._npts
        step = self._step
        tick = self._tick
        taker_ppm = self.spec.taker_fee_ppm
        maker_ppm = self.spec.maker_fee_ppm
        stp = t.stp_mode
        tuser = t.user_id
        side = t.side
        stop = OK
        while t.remaining:
            best = opp.best
            if (best > limit) if buy else (best < limit):
                break
            level = opp.best_level()
            cost = best * npts
            price_units = best * tick
            m = level.head
            while m is not None and t.remaining:
                if stp and m.user_id == tuser:
                    self.prevented_match_id += 1
                    if stp == EXPIRE_TAKER:
                        self._stp_counter = m.order_id
                        self._stp_price = price_units
                        stop = SELF_TRADE_TAKER
                        break
                    following = m.next
                    self._expire_maker(m, level, t.order_id, price_units, stp, ts, out)
                    opp.touch(best, level)
                    if stp == EXPIRE_BOTH:
                        self._stp_counter = m.order_id
                        self._stp_price = price_units
                        stop = SELF_TRADE_TAKER
                        break
                    m = following
                    continue
                fill = m.remaining - m.hidden  # the visible part
                if t.remaining < fill:
                    fill = t.remaining
                if cap >= 0:
                    afford = cap // cost
                    if afford < fill:
                        fill = afford
                        if not fill:
                            stop = RESERVE_EXHAUSTED
                            break
                quote = fill * cost
                qty = fill * step
                if cap >= 0:
                    cap -= quote
                m.remaining -= fill
                m.filled += fill
                m.filled_quote += quote
                t.remaining -= fill
                t.filled += fill
                t.filled_quote += quote
                level.qty -= fill
                # Fees rounded up, from non-negative operands only: compiled, a product with a
                # negative factor leaves the machine-integer path for Python's long arithmetic.
                if buy:
                    t.reserve_left -= quote
                    m.reserve_left -= qty
                    taker_fee = (qty * taker_ppm + PPM - 1) // PPM
                    maker_fee = (quote * maker_ppm + PPM - 1) // PPM
                else:
                    t.reserve_left -= qty
                    m.reserve_left -= quote
                    taker_fee = (quote * taker_ppm + PPM - 1) // PPM
                    maker_fee = (qty * maker_ppm + PPM - 1) // PPM
                self.trade_id += 1
                self.seq += 1
                out.append(
                    Trade(
                        self.seq,
                        ts,
                        self.trade_id,
                        price_units,
                        qty,
                        quote,
                        side,
                        m.order_id,
                        m.user_id,
                        t.order_id,
                        tuser,
                        maker_fee,
                        taker_fee,
                        m.filled * step,
                        m.filled_quote,
                        t.filled * step,
                        t.filled_quote,
                    )
                )
                self.last_price = best
                opp.touch(best, level)
                order_list = m.order_list
                maker = m
                if not m.remaining:
                    following = m.next
                    m.live = False
                    level.unlink(m)
                    level.count -= 1
                    self._unindex(m)
                    self.seq += 1
                    out.append(
                        OrderDone(
                            self.seq,
                            ts,
                            m.order_id,
                            m.user_id,
                            m.client_order_id,
                            m.side,
                            FILLED,
                            m.filled * step,
                            m.filled_quote,
                            m.reserve_left,
                        )
                    )
                    m = following
                elif m.remaining == m.hidden:  # an iceberg's tip is gone: replenish, to the back
                    shown = m.iceberg if m.iceberg < m.remaining else m.remaining
                    m.hidden = m.remaining - shown
                    level.qty += shown
                    following = m.next
                    level.to_back(m)
                    if following is not None:
                        m = following
                if order_list is not None:
                    if not order_list.pending:  # an OCO pair: the other member waits in the trigger book
                        self._end_list(order_list, maker, False, ts, out)
                    elif not maker.remaining:  # a working order filled: its list is placed later
                        self._activated.append(order_list)
            if not level.count:
                opp.remove_level(best, level)
            if stop:
                break
        return stop

    def _expire_maker(
        self, m: Order, level: Level, taker_id: int, price: int, stp: int, ts: int, out: list[Event]
    ) -> None:
        """Remove maker `m` (at the head of `level`, at `price` quote units) for self-trade
        prevention by taker `taker_id` in STP mode `stp`: its OrderExpired carries the prevented
        match id just given."""
        m.live = False
        level.unlink(m)
        level.qty -= m.remaining - m.hidden
        level.count -= 1
        self._unindex(m)
        step = self._step
        self.seq += 1
        out.append(
            OrderExpired(
                self.seq,
                ts,
                m.order_id,
                m.user_id,
                m.client_order_id,
                SELF_TRADE_MAKER,
                m.remaining * step,
                self.prevented_match_id,
                taker_id,
                price,
                stp,
            )
        )
        self.seq += 1
        out.append(
            OrderDone(
                self.seq,
                ts,
                m.order_id,
                m.user_id,
                m.client_order_id,
                m.side,
                EXPIRED_IN_MATCH,
                m.filled * step,
                m.filled_quote,
                m.reserve_left,
            )
        )
        if m.order_list is not None:
            self._end_list(m.order_list, m, False, ts, out)

    def _end_taker(
        self, t: Order, status: int, reason: int, by_quote: bool, ts: int, out: list[Event]
    ) -> None:
        """Finish a taker that will not rest: OrderExpired when it did not fill, then OrderDone.
        Ended by self-trade prevention (SELF_TRADE_TAKER), its OrderExpired carries the prevented
        match `_match` recorded last."""
        step = self._step
        if status != FILLED:
            self.seq += 1
            stp = reason == SELF_TRADE_TAKER
            out.append(
                OrderExpired(
                    self.seq,
                    ts,
                    t.order_id,
                    t.user_id,
                    t.client_order_id,
                    reason,
                    0 if by_quote else t.remaining * step,
                    self.prevented_match_id if stp else 0,
                    self._stp_counter if stp else 0,
                    self._stp_price if stp else 0,
                    t.stp_mode if stp else 0,
                )
            )
        self.seq += 1
        out.append(
            OrderDone(
                self.seq,
                ts,
                t.order_id,
                t.user_id,
                t.client_order_id,
                t.side,
                status,
                t.filled * step,
                t.filled_quote,
                t.reserve_left,
            )
        )

    # ------------------------------------------------------------------ book upkeep

    def _rest(self, order: Order) -> None:
        """Put `order` at the back of its price level (its visible part: `hidden` set) and index it."""
        side = self.bids if order.side == BUY else self.asks
        level = side.level_at(order.price)
        side.touch(order.price, level)
        level.append(order)
        key = order.key  # `order_id` boxed by `_check_place`, when it checked the order's command
        if key is None:
            key = order.order_id
            order.key = key
        self.orders[key] = order
        self._index(order)

    def _index(self, order: Order) -> None:
        """Index an open order (resting or waiting) by user and client id. `order.owner`, when
        set, is its user's Owner (from `_check_place`, or from an earlier indexing): taken unless
        it was dropped from `owners` since (its `key` None)."""
        owner = order.owner
        if owner is None or owner.key is None:
            owner = self._owner_of(order.user_id)
            if owner is None:
                user: object = order.user_id
                owner = Owner()
                owner.key = user
                owner.user_id = order.user_id
                self.owners[user] = owner
                self._owner_slots[order.user_id & (OWNER_SLOTS - 1)] = owner
                self._idle_owners += 1
        if not owner.count:
            self._idle_owners -= 1
        owner.add(order)

    def _owner_of(self, user_id: int) -> Owner | None:
        """The user's Owner in `owners`, or None: from its slot in `_owner_slots` when there."""
        slot = user_id & (OWNER_SLOTS - 1)
        owner = self._owner_slots[slot]
        if owner is not None and owner.user_id == user_id and owner.key is not None:
            return owner
        owner = self.owners.get(user_id)
        if owner is not None:
            self._owner_slots[slot] = owner
        return owner

    def _unindex(self, order: Order) -> None:
        """Remove a resting order from the resting orders (by its `key`) and its user's index."""
        del self.orders[order.key]
        self._unindex_user(order)

    def _unindex_user(self, order: Order) -> None:
        """Remove an open order (resting or waiting) from its user's index."""
        owner = order.owner
        assert owner is not None
        owner.remove(order)
        if not owner.count:
            self._idle_owners += 1
            if self._idle_owners > IDLE_OWNERS and 2 * self._idle_owners > len(self.owners):
                self._drop_idle_owners()

    def _drop_idle_owners(self) -> None:
        """Drop the Owners with no open order from `owners`, their `key` set to None."""
        kept: dict[object, Owner] = {}
        for key, owner in self.owners.items():
            if owner.count:
                kept[key] = owner
            else:
                owner.key = None
        self.owners = kept
        self._idle_owners = 0

    def _cancel_resting(self, order: Order, ts: int, out: list[Event]) -> None:
        """Cancel an open order: one resting in the book, or a waiting stop order; the other
        members of its open order list with it."""
        if self._waiting and order.order_id in self._waiting:
            self.stops.remove(order)
            self._unindex_user(order)
        elif self._pending and order.order_id in self._pending:
            self._unindex_user(order)  # the stand-in leaves `_pending` with its list
            order.live = False
        else:
            self._remove_resting(order)
        self._emit_cancelled(order, order.reserve_left, ts, out)
        if order.order_list is not None:
            self._end_list(order.order_list, order, True, ts, out)

    def _remove_resting(self, order: Order) -> None:
        """Take an order resting in the book out of it and out of the indexes (no event)."""
        book = self.bids if order.side == BUY else self.asks
        level = order.level
        assert level is not None
        book.touch(order.price, level)
        order.live = False
        level.qty -= order.remaining - order.hidden
        level.count -= 1
        level.unlink(order)
        if not level.count:
            book.remove_level(order.price, level)
        self._unindex(order)

    def _emit_cancelled(self, order: Order, release: int, ts: int, out: list[Event]) -> None:
        step = self._step
        self.seq += 1
        out.append(
            OrderCancelled(
                self.seq, ts, order.order_id, order.user_id, order.client_order_id, order.remaining * step
            )
        )
        self.seq += 1
        out.append(
            OrderDone(
                self.seq,
                ts,
                order.order_id,
                order.user_id,
                order.client_order_id,
                order.side,
                CANCELED,
                order.filled * step,
                order.filled_quote,
                release,
            )
        )

    def _reject_cancel(
        self, user_id: int, order_id: int, client_order_id: str, reason: int, ts: int, out: list[Event]
    ) -> None:
        self.seq += 1
        out.append(CancelRejected(self.seq, ts, order_id, user_id, client_order_id, reason))

    def _emit_delta(self, ts: int, out: list[Event]) -> None:
        """One BookDelta for the levels the current command touched, if any. Most commands touch
        one side only: the other side's part is then the empty tuple, with no call."""
        bids: tuple[tuple[int, int], ...] = ()
        asks: tuple[tuple[int, int], ...] = ()
        if self.bids.touched:
            bids = self.bids.take_delta(self._step)
        if self.asks.touched:
            asks = self.asks.take_delta(self._step)
        elif not bids:
            return
        self.seq += 1
        out.append(BookDelta(self.seq, ts, bids, asks))

    # ------------------------------------------------------------------ state

    @property
    def client_ids(self) -> dict[tuple[int, str], Order]:
        """Open orders by (user id, client order id), built on demand (for inspection)."""
        return {
            (o.user_id, o.client_order_id): o
            for owner in self.owners.values()
            for o in owner.orders()
            if o.client_order_id
        }

    def open_orders_of(self, user_id: int) -> list[Order]:
        """The user's open orders (resting and waiting) in ascending order id (for inspection)."""
        owner = self.owners.get(user_id)
        return owner.orders() if owner is not None else []

    def best_bid(self) -> int:
        """Best bid in quote units, 0 when there is none."""
        return self.bids.best * self._tick if self.bids.ladder else 0

    def best_ask(self) -> int:
        """Best ask in quote units, 0 when there is none."""
        return self.asks.best * self._tick if self.asks.ladder else 0

    def depth(self, limit: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """Up to `limit` levels per side as (price, quantity) in smallest units, best first."""
        return self._side_depth(self.bids, limit), self._side_depth(self.asks, limit)

    def _side_depth(self, side: BookSide, limit: int) -> list[tuple[int, int]]:
        rows: list[tuple[int, int]] = []
        for price, level in zip(side.prices_from_best(), side.levels_from_best(), strict=True):
            if len(rows) >= limit:
                break
            rows.append((price * self._tick, level.qty * self._step))
        return rows

    def state(self) -> MarketState:
        """The canonical state (matching.state) of this market."""
        records = tuple(self._record(o) for side in (self.bids, self.asks) for o in side.orders_in_priority())
        waiting = self._waiting
        self.stops.settle_references()
        triggers = tuple(self._trigger_record(waiting[order_id]) for order_id in sorted(waiting))
        lists = tuple(self._list_record(self.lists[list_id]) for list_id in sorted(self.lists))
        pending = tuple(
            self._pending_record(p, order_list.list_id)
            for order_list in self.lists.values()
            for p in order_list.pending
        )
        return MarketState(
            self.symbol,
            self.seq,
            self.trade_id,
            self.last_price * self._tick,
            records,
            triggers,
            self.list_id,
            lists,
            tuple(sorted(pending)),
            self.prevented_match_id,
        )

    def state_hash(self) -> str:
        return self.state().digest()

    def snapshot(self) -> bytes:
        return self.state().encode()

    @classmethod
    def restore(cls, spec: MarketSpec, data: bytes) -> "MatchingEngine":
        """An engine in exactly the state `snapshot()` captured."""
        state = MarketState.decode(data)
        if state.symbol != spec.symbol:
            raise ValueError(f"snapshot of {state.symbol} given to {spec.symbol}")
        engine = cls(spec)
        engine.seq = state.seq
        engine.trade_id = state.trade_id
        engine.prevented_match_id = state.last_prevented_match_id
        engine.last_price = state.last_price // spec.tick_units
        for r in state.orders:
            order = Order(
                r[0],
                r[1],
                r[2],
                r[3],
                r[9],
                r[10],
                r[11],
                r[4] // spec.tick_units,
                r[5] // spec.step_units,
                r[8],
                r[12],
            )
            order.filled = r[6] // spec.step_units
            order.filled_quote = r[7]
            order.iceberg = r[13] // spec.step_units
            order.hidden = r[14] // spec.step_units
            engine._rest(order)
        for t in state.triggers:
            order = Order(
                t[0],
                t[1],
                t[2],
                t[3],
                t[4],
                t[5],
                t[10],
                t[6] // spec.tick_units,
                t[7] // spec.step_units,
                t[9],
                t[11],
            )
            engine.stops.restore(order, t[8] // spec.tick_units, t[12], t[13], t[14] // spec.tick_units)
            engine._index(order)
        engine.list_id = state.last_list_id
        waiting_for: dict[int, list[PlaceOrder]] = {}
        for r in state.pending:
            waiting_for.setdefault(r[3], []).append(
                PlaceOrder(
                    state.symbol,
                    r[0],
                    r[1],
                    r[4],
                    r[5],
                    r[6],
                    r[7],
                    r[8],
                    r[9],
                    r[10],
                    r[11],
                    r[2],
                    0,
                    r[12],
                    r[13],
                    r[14],
                )
            )
        for list_id, user_id, client_id, contingency, order_ids in state.lists:
            order_list = engine.lists[list_id] = OrderList(list_id, user_id, client_id, contingency, [])
            commands = {p.order_id: p for p in waiting_for.get(list_id, [])}
            for i in order_ids:
                p = commands.get(i)
                if p is not None:
                    member = Order(
                        i, p.user_id, p.client_order_id, p.side, p.order_type, p.time_in_force, p.stp_mode,
                        p.price // spec.tick_units, p.quantity // spec.step_units, p.reserve, 0,
                    )  # fmt: skip
                    order_list.pending.append(p)
                    engine._pending[i] = member
                    engine._index(member)
                else:
                    found = engine.orders.get(i) or engine._waiting.get(i)
                    if found is None:  # an OTOCO's working order, filled
                        found = Order(i, user_id, "", 0, 0, 0, 0, 0, 0, 0, 0)
                        found.live = False
                    member = found
                member.order_list = order_list
                order_list.orders.append(member)
        engine.bids.take_delta(1)  # forget what restoring touched
        engine.asks.take_delta(1)
        return engine

    @staticmethod
    def _pending_record(p: PlaceOrder, list_id: int) -> PendingRecord:
        return (
            p.order_id,
            p.user_id,
            p.client_order_id,
            list_id,
            int(p.side),
            int(p.order_type),
            int(p.time_in_force),
            p.price,
            p.quantity,
            p.quote_quantity,
            p.reserve,
            int(p.stp_mode),
            p.stop_price,
            p.trailing_delta,
            p.iceberg_qty,
        )

    @staticmethod
    def _list_record(order_list: OrderList) -> ListRecord:
        return (
            order_list.list_id,
            order_list.user_id,
            order_list.client_id,
            order_list.contingency,
            order_list.order_ids(),
        )

    def _trigger_record(self, o: Order) -> TriggerRecord:
        return (
            o.order_id,
            o.user_id,
            o.client_order_id,
            int(o.side),
            int(o.order_type),
            int(o.time_in_force),
            o.price * self._tick,
            o.remaining * self._step,
            o.stop * self._tick,
            o.reserve_left,
            int(o.stp_mode),
            o.ts,
            o.trail,
            o.active,
            o.reference * self._tick,
        )

    def _record(self, o: Order) -> OrderRecord:
        return (
            o.order_id,
            o.user_id,
            o.client_order_id,
            int(o.side),
            o.price * self._tick,
            o.remaining * self._step,
            o.filled * self._step,
            o.filled_quote,
            o.reserve_left,
            int(o.order_type),
            int(o.time_in_force),
            int(o.stp_mode),
            o.ts,
            o.iceberg * self._step,
            o.hidden * self._step,
        )
