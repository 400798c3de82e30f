"""Differential test: the fast `matching.MatchingEngine` against the naive `tests.reference.NaiveBook`.

Both implement docs/matching.md. A seeded random command stream for one market is fed to both;
every command's events must be equal (values and order) and every 100 commands the canonical state
digests must match. On a difference the failure names the seed, the command index, the command,
both event lists and the first differing event field, so the case can be replayed.

The stream is built up front from `random.Random(seed)` without looking at either book: prices
cluster near a drifting mid so orders cross often, a handful of users with mixed STP modes makes
self-trades common, and a share of the commands is deliberately invalid.
"""

import random
from collections import Counter
from collections.abc import Callable, Sequence
from enum import IntEnum

import pytest

from matching import (
    AmendOrder,
    AmendRejected,
    CancelAll,
    CancelOrder,
    CancelRejected,
    Command,
    ContingencyType,
    Event,
    ListStatus,
    ListStatusType,
    MarketSpec,
    MatchingEngine,
    OrderAccepted,
    OrderDone,
    OrderExpired,
    OrderRejected,
    OrderStatus,
    OrderType,
    PlaceOrder,
    PlaceOrderList,
    Reason,
    Side,
    StpMode,
    TimeInForce,
)
from matching.state import MarketState
from tests.reference.naive_book import NaiveBook

# min_qty_units is 3 steps (not 1) so that QUANTITY_BELOW_MIN is reachable on the grid. The maker and
# taker fees differ (a swap would show) and are not whole per step, so the fee's rounding up matters
# for base-unit fees too.
SPEC = MarketSpec(
    "BTCUSDT",
    "BTC",
    "USDT",
    8,
    8,
    tick_units=1_000_000,
    step_units=1000,
    min_qty_units=3000,
    max_qty_units=10**12,
    min_notional_units=10**9,
    maker_fee_ppm=750,
    taker_fee_ppm=1250,
)
NPTS = SPEC.notional_per_tick_step
STEP = SPEC.step_units
TICK = SPEC.tick_units
USERS = (1, 2, 3, 4, 5, 6)
DIGEST_EVERY = 100
RECENT = 400  # how many recently placed orders cancels and duplicates draw from
STOP_TYPES = (
    OrderType.STOP_LOSS,
    OrderType.STOP_LOSS_LIMIT,
    OrderType.TAKE_PROFIT,
    OrderType.TAKE_PROFIT_LIMIT,
)


class StreamBuilder:
    """Builds a seeded command stream for SPEC. All randomness comes from `rng`."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.mid = 3_000_000  # ticks (30,000.00 USDT)
        self.ts = 1_700_000_000_000
        self.next_order_id = 1
        self.next_client_id = 1
        self.recent: list[tuple[int, int, str]] = []  # (order_id, user_id, client_order_id)
        self.steps_of: dict[int, int] = {}  # order id -> its quantity in steps, as placed

    # ------------------------------------------------------------------ helpers

    def _tick(self) -> None:
        """Advance the clock and let the mid price drift (bounded random walk)."""
        self.ts += self.rng.randint(0, 3)
        if self.rng.random() < 0.3:
            self.mid += self.rng.choice((-2, -1, 1, 2))
        self.mid = min(max(self.mid, 2_900_000), 3_100_000)

    def _enum(self, value: int) -> int:
        """An enum value as the IntEnum member or its plain int (commands may hold either)."""
        return value if self.rng.random() < 0.5 else int(value)

    def _user(self) -> int:
        return self.rng.choice(USERS)

    def _stp(self) -> int:
        return self._enum(self.rng.choice((StpMode.NONE, StpMode.NONE, *StpMode)))

    def _order_id(self) -> int:
        """Usually fresh; sometimes a recent id, a duplicate while that order is still open."""
        if self.recent and self.rng.random() < 0.03:
            return self.rng.choice(self.recent)[0]
        oid = self.next_order_id
        self.next_order_id += 1
        return oid

    def _client_id(self, user: int) -> str:
        """Empty, fresh, or a recent one of the same user (a duplicate while that order is open)."""
        r = self.rng.random()
        if r < 0.45:
            return ""
        if r < 0.9:
            cid = f"c{self.next_client_id}"
            self.next_client_id += 1
            return cid
        mine = [cid for _, u, cid in self.recent if u == user and cid]
        return self.rng.choice(mine) if mine else ""

    def _steps(self) -> int:
        """Quantity in steps: around the min-notional boundary, typical, or large."""
        r = self.rng.random()
        if r < 0.15:
            return self.rng.randint(3, 45)
        if r < 0.85:
            return self.rng.randint(30, 600)
        return self.rng.randint(600, 4000)

    def _limit_price_ticks(self, side: int) -> int:
        """Near the mid, skewed so that roughly a third of the orders cross."""
        if self.rng.random() < 0.03:
            return self.mid + self.rng.randint(-300, 300)
        offset = self.rng.randint(-4, 14)
        return self.mid - offset if side == Side.BUY else self.mid + offset

    def _remember(self, c: PlaceOrder) -> None:
        self.recent.append((c.order_id, c.user_id, c.client_order_id))
        self.steps_of[c.order_id] = c.quantity // STEP
        if len(self.recent) > RECENT:
            self.steps_of.pop(self.recent.pop(0)[0], None)

    def _place(
        self,
        side: int,
        order_type: int,
        tif: int,
        price: int,
        qty: int,
        quote: int,
        reserve: int,
        user: int | None = None,
        stop_price: int = 0,
        trailing_delta: int = 0,
        iceberg_qty: int = 0,
    ) -> PlaceOrder:
        user = self._user() if user is None else user
        c = PlaceOrder(
            SPEC.symbol,
            self._order_id(),
            user,
            self._enum(side),
            self._enum(order_type),
            self._enum(tif),
            price,
            qty,
            quote,
            reserve,
            self._stp(),
            self._client_id(user),
            self.ts,
            stop_price,
            trailing_delta,
            iceberg_qty,
        )
        self._remember(c)
        return c

    # ------------------------------------------------------------------ reserves

    def _limit_reserve(self, side: int, price_ticks: int, steps: int) -> int:
        """BUY: the notional exactly, more, or too little; SELL: the quantity exactly, more, or less."""
        need = price_ticks * steps * NPTS if side == Side.BUY else steps * STEP
        r = self.rng.random()
        if r < 0.55:
            return need
        if r < 0.93:
            return need + self.rng.randint(1, need)
        if r < 0.98:
            return need - self.rng.randint(1, max(1, need // 10))
        return self.rng.choice((0, -1))

    def _market_buy_reserve(self, budget: int) -> int:
        """Plenty, about the budget, small enough that the cap binds early, or invalid."""
        r = self.rng.random()
        if r < 0.4:
            return budget * 2
        if r < 0.7:
            return budget
        if r < 0.85:
            return self.rng.randint(budget // 20, budget // 2)
        if r < 0.95:
            return self.rng.randint(1, self.mid * NPTS * 2)  # below or about one step's cost
        return self.rng.choice((0, -5))

    def _base_reserve(self, steps: int) -> int:
        """A SELL reserve in base units: plenty, exact, off-step, tiny (< one step), or invalid."""
        r = self.rng.random()
        if r < 0.4:
            return steps * STEP
        if r < 0.7:
            return steps * STEP + self.rng.randint(1, 5 * STEP)
        if r < 0.85:
            return self.rng.randint(1, 10) * STEP + self.rng.randint(0, STEP - 1)
        if r < 0.95:
            return self.rng.randint(1, STEP - 1)
        return self.rng.choice((0, -STEP))

    # ------------------------------------------------------------------ command kinds

    def stop(self) -> PlaceOrder:
        """A stop order of any of the four types, its stop near the mid on either side (some would
        trigger at once), sometimes with a bad stop price."""
        side = self.rng.choice((Side.BUY, Side.SELL))
        otype = self.rng.choice(
            (
                OrderType.STOP_LOSS,
                OrderType.STOP_LOSS_LIMIT,
                OrderType.TAKE_PROFIT,
                OrderType.TAKE_PROFIT_LIMIT,
            )
        )
        rises = (otype in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)) == (side == Side.BUY)
        offset = self.rng.randint(-3, 12)
        stop_ticks = self.mid + offset if rises else self.mid - offset
        stop_price = stop_ticks * TICK
        r = self.rng.random()
        if r < 0.03:
            stop_price = self.rng.choice((0, -TICK, stop_price + self.rng.randint(1, TICK - 1)))
        trail = 0
        if r > 0.65:  # trailing: 1 bip is 300 ticks here, so far orders and sweeps trigger them
            trail = self.rng.choice((1, 1, 1, 2, 3, 10, -1, 10_000)) if r > 0.68 else 0
            if r > 0.8:
                stop_price = 0
        steps = self._steps()
        tif = self.rng.choice((TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK))
        if otype in (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT):
            ticks = stop_ticks + self.rng.randint(-6, 6)
            reserve = self._limit_reserve(side, ticks, steps)
            return self._place(
                side, otype, tif, ticks * TICK, steps * STEP, 0, reserve, None, stop_price, trail
            )
        if side == Side.BUY:
            reserve = self._market_buy_reserve(stop_ticks * steps * NPTS)
        else:
            reserve = self._base_reserve(steps)
        return self._place(side, otype, tif, 0, steps * STEP, 0, reserve, None, stop_price, trail)

    def order_list(self) -> PlaceOrderList:
        """An OCO of one user and side: a profit member (LIMIT_MAKER, TAKE_PROFIT(_LIMIT)) and a
        loss member (STOP_LOSS(_LIMIT)) in either order, their levels near the mid on their own
        sides (some would take or trigger at once, some the wrong way round); now and then broken
        (another contingency, one member, members that differ, two profit members)."""
        rng = self.rng
        user = self._user()
        side = rng.choice((Side.BUY, Side.SELL))
        up = 1 if side == Side.SELL else -1  # where the profit level lies from the mid
        steps = self._steps()
        profit_type = rng.choice((OrderType.LIMIT_MAKER, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT))
        loss_type = rng.choice((OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT))
        level = self.mid + up * rng.randint(-2, 12)
        trigger = self.mid - up * rng.randint(-2, 12)
        if rng.random() < 0.04:
            level, trigger = trigger, level
        broken = rng.random()
        if broken < 0.02:
            loss_type = OrderType.LIMIT_MAKER
        profit_ticks = level if profit_type == OrderType.LIMIT_MAKER else level + rng.randint(-3, 3)
        if profit_type == OrderType.TAKE_PROFIT:
            profit_ticks = 0
        loss_ticks = trigger + rng.randint(-3, 3) if loss_type != OrderType.STOP_LOSS else 0
        if side == Side.SELL:
            reserve = self._base_reserve(steps)
        else:
            reserve = self._limit_reserve(side, max(profit_ticks, loss_ticks, trigger), steps)
        stp = self._stp()

        def member(order_type: int, ticks: int, stop_ticks: int) -> PlaceOrder:
            c = PlaceOrder(
                SPEC.symbol,
                self._order_id(),
                user,
                self._enum(side),
                self._enum(order_type),
                self._enum(TimeInForce.GTC),
                ticks * TICK,
                steps * STEP,
                0,
                reserve,
                stp,
                self._client_id(user),
                self.ts,
                stop_ticks * TICK,
            )
            self._remember(c)
            return c

        profit = member(profit_type, profit_ticks, 0 if profit_type == OrderType.LIMIT_MAKER else level)
        loss = member(loss_type, loss_ticks, 0 if loss_type == OrderType.LIMIT_MAKER else trigger)
        members: tuple[PlaceOrder, ...] = (profit, loss) if rng.random() < 0.5 else (loss, profit)
        contingency = self._enum(ContingencyType.OCO)
        if broken > 0.98:
            contingency = ContingencyType.OTO
        elif broken > 0.96:
            members = members[:1]
        elif broken > 0.94:
            members[1].quantity += STEP
        elif broken > 0.92:
            loss.client_order_id = profit.client_order_id
        return PlaceOrderList(SPEC.symbol, user, f"L{self.next_order_id}", contingency, members, self.ts)

    def oto_list(self) -> PlaceOrderList:
        """An OTO or OTOCO of one user: a working LIMIT (now and then LIMIT_MAKER, IOC) near the mid,
        so that about a third fills at once, and a pending order of any type and side (OTO) or
        an OCO pair as `order_list` builds them (OTOCO); now and then broken (a MARKET working
        order, a pending MARKET by quote, a member missing)."""
        rng = self.rng
        otoco = rng.random() < 0.45
        pair = self.order_list() if otoco else None
        user = pair.user_id if pair is not None else self._user()
        side = rng.choice((Side.BUY, Side.SELL))
        steps = self._steps()
        ticks = self._limit_price_ticks(side)
        working_type = OrderType.LIMIT_MAKER if rng.random() < 0.2 else OrderType.LIMIT
        tif = TimeInForce.IOC if working_type == OrderType.LIMIT and rng.random() < 0.15 else TimeInForce.GTC
        broken = rng.random()
        if broken < 0.02:
            working = self._place(
                side, OrderType.MARKET, tif, 0, steps * STEP, 0, self._base_reserve(steps), user
            )
        else:
            reserve = self._limit_reserve(side, ticks, steps)
            working = self._place(side, working_type, tif, ticks * TICK, steps * STEP, 0, reserve, user)
        if pair is not None:
            members: tuple[PlaceOrder, ...] = (working, *pair.orders)
        else:
            members = (working, self._pending_order(user))
        if 0.02 <= broken < 0.04:
            members = members[:-1]
        contingency = self._enum(ContingencyType.OTOCO if otoco else ContingencyType.OTO)
        return PlaceOrderList(SPEC.symbol, user, f"L{self.next_order_id}", contingency, members, self.ts)

    def _pending_order(self, user: int) -> PlaceOrder:
        """An OTO's pending order: LIMIT, LIMIT_MAKER, MARKET by quantity or a stop order, either side
        (mostly the other side of the mid than it would fill at now); rarely a MARKET by quote."""
        rng = self.rng
        side = rng.choice((Side.BUY, Side.SELL))
        steps = self._steps()
        r = rng.random()
        if r < 0.03:
            quote = rng.randint(1, 40) * self.mid * NPTS
            return self._place(side, OrderType.MARKET, TimeInForce.GTC, 0, 0, quote, quote, user)
        if r < 0.15:
            reserve = (
                self._market_buy_reserve(steps * self.mid * NPTS)
                if side == Side.BUY
                else self._base_reserve(steps)
            )
            return self._place(side, OrderType.MARKET, TimeInForce.GTC, 0, steps * STEP, 0, reserve, user)
        if r < 0.55:
            ticks = self._limit_price_ticks(side)
            otype = OrderType.LIMIT_MAKER if rng.random() < 0.4 else OrderType.LIMIT
            tif = rng.choice((TimeInForce.GTC, TimeInForce.GTC, TimeInForce.IOC))
            tif = TimeInForce.GTC if otype == OrderType.LIMIT_MAKER else tif
            reserve = self._limit_reserve(side, ticks, steps)
            return self._place(side, otype, tif, ticks * TICK, steps * STEP, 0, reserve, user)
        otype = rng.choice(
            (
                OrderType.STOP_LOSS,
                OrderType.STOP_LOSS_LIMIT,
                OrderType.TAKE_PROFIT,
                OrderType.TAKE_PROFIT_LIMIT,
            )
        )
        stop_ticks = self.mid + rng.randint(-12, 12)
        limit_type = otype in (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
        ticks = stop_ticks + rng.randint(-3, 3) if limit_type else 0
        if side == Side.SELL:
            reserve = self._base_reserve(steps)
        elif limit_type:
            reserve = self._limit_reserve(side, ticks, steps)
        else:
            reserve = self._market_buy_reserve(stop_ticks * steps * NPTS)
        return self._place(
            side, otype, TimeInForce.GTC, ticks * TICK, steps * STEP, 0, reserve, user, stop_ticks * TICK
        )

    def _iceberg_qty(self, steps: int) -> int:
        """Mostly 0; else a visible part of a few steps up to most of the order (valid when the
        order has more than the minimum), now and then one step more than it."""
        r = self.rng.random()
        if r < 0.75 or steps <= 3:
            return 0
        if r < 0.98:
            return self.rng.randint(3, min(steps - 1, self.rng.choice((6, 40, steps)))) * STEP
        return (steps + 1) * STEP

    def limit(self, tif: int) -> PlaceOrder:
        side = self.rng.choice((Side.BUY, Side.SELL))
        ticks = self._limit_price_ticks(side)
        steps = self._steps()
        reserve = self._limit_reserve(side, ticks, steps)
        iceberg = self._iceberg_qty(steps) if tif == TimeInForce.GTC else 0
        return self._place(
            side, OrderType.LIMIT, tif, ticks * TICK, steps * STEP, 0, reserve, iceberg_qty=iceberg
        )

    def limit_maker(self) -> PlaceOrder:
        side = self.rng.choice((Side.BUY, Side.SELL))
        ticks = self._limit_price_ticks(side)
        steps = self._steps()
        reserve = self._limit_reserve(side, ticks, steps)
        return self._place(
            side,
            OrderType.LIMIT_MAKER,
            TimeInForce.GTC,
            ticks * TICK,
            steps * STEP,
            0,
            reserve,
            iceberg_qty=self._iceberg_qty(steps),
        )

    def market(self) -> PlaceOrder:
        side = self.rng.choice((Side.BUY, Side.SELL))
        by_quote = self.rng.random() < 0.5
        tif = self.rng.choice(tuple(TimeInForce))  # ignored for MARKET
        sweep = self.rng.random() < 0.05  # big enough to empty one side of the book now and then
        steps = self.rng.randint(10_000, 60_000) if sweep else self._steps()
        if side == Side.BUY:
            budget = steps * (self.mid + 20) * NPTS
            quote = budget if by_quote else 0
            reserve = self._market_buy_reserve(budget)
        else:
            quote = steps * self.mid * NPTS if by_quote else 0
            reserve = self._base_reserve(steps) if by_quote else self._limit_reserve(side, 0, steps)
        return self._place(side, OrderType.MARKET, tif, 0, 0 if by_quote else steps * STEP, quote, reserve)

    def cancel(self) -> CancelOrder:
        """By id (own or another user's), by client id, unknown ids, or the wrong symbol."""
        r = self.rng.random()
        symbol = SPEC.symbol if self.rng.random() > 0.03 else "ETHUSDT"
        if not self.recent or r < 0.05:
            return CancelOrder(symbol, self._user(), order_id=10**9 + self.rng.randint(0, 99), ts=self.ts)
        oid, user, cid = self.rng.choice(self.recent)
        if r < 0.55:
            return CancelOrder(symbol, user, order_id=oid, ts=self.ts)
        if r < 0.65:
            other = self.rng.choice([u for u in USERS if u != user])
            return CancelOrder(symbol, other, order_id=oid, ts=self.ts)
        if r < 0.9 and cid:
            return CancelOrder(symbol, user, client_order_id=cid, ts=self.ts)
        if r < 0.95:
            return CancelOrder(symbol, user, client_order_id=f"nope{self.rng.randint(0, 9)}", ts=self.ts)
        return CancelOrder(symbol, self._user(), client_order_id="", ts=self.ts)

    def amend(self) -> AmendOrder:
        """A reduction of a recent order (usually below its quantity, now and then not, off the step
        grid or another user's), with its client id kept, a fresh one or one already in use."""
        symbol = SPEC.symbol if self.rng.random() > 0.02 else "ETHUSDT"
        if not self.recent:
            return AmendOrder(symbol, self._user(), 10**9, "", "", STEP, self.ts)
        oid, user, cid = self.rng.choice(self.recent[-12:])  # the newest: most likely still open
        steps = max(1, self.steps_of.get(oid, 1))
        r = self.rng.random()
        if r < 0.8:
            qty = self.rng.randint(1, steps) * STEP
        elif r < 0.9:
            qty = self.rng.randint(steps, steps + 5) * STEP
        else:
            qty = self.rng.choice(
                (0, -STEP, self.rng.randint(1, steps) * STEP + self.rng.randint(1, STEP - 1))
            )
        who = user if self.rng.random() > 0.05 else self.rng.choice([u for u in USERS if u != user])
        others = [c for _, u, c in self.recent[-40:] if u == user and c and c != cid]
        new = self.rng.choice(("", cid, f"m{self.rng.randint(0, 10**6)}", *others[-1:]))
        if self.rng.random() < 0.3 and cid:
            return AmendOrder(symbol, who, 0, cid, new, qty, self.ts)
        return AmendOrder(symbol, who, oid, "", new, qty, self.ts)

    def cancel_all(self) -> CancelAll:
        symbol = SPEC.symbol if self.rng.random() > 0.05 else "ETHUSDT"
        return CancelAll(symbol, self._user(), ts=self.ts)

    def invalid(self) -> PlaceOrder:
        """A PlaceOrder that breaks one validation rule (it may also be rejected earlier)."""
        side = self.rng.choice((Side.BUY, Side.SELL))
        ticks = self.mid + self.rng.randint(-10, 10)
        steps = self.rng.randint(40, 400)
        price, qty, reserve = ticks * TICK, steps * STEP, 10**15
        limit, market, gtc = OrderType.LIMIT, OrderType.MARKET, TimeInForce.GTC
        cases: list[Callable[[], PlaceOrder]] = [
            lambda: self._wrong_symbol(side, price, qty, reserve),
            lambda: self._place(side, limit, gtc, price + self.rng.randint(1, TICK - 1), qty, 0, reserve),
            lambda: self._place(side, limit, gtc, self.rng.choice((0, -TICK)), qty, 0, reserve),
            lambda: self._place(side, limit, gtc, price, qty + self.rng.randint(1, STEP - 1), 0, reserve),
            lambda: self._place(side, limit, gtc, price, self.rng.choice((0, -STEP)), 0, reserve),
            lambda: self._place(side, limit, gtc, price, qty, 10**10, reserve),
            lambda: self._place(side, limit, gtc, price, self.rng.choice((STEP, 2 * STEP)), 0, reserve),
            lambda: self._place(side, limit, gtc, price, SPEC.max_qty_units + STEP, 0, reserve),
            lambda: self._place(side, limit, gtc, price, 5 * STEP, 0, reserve),
            lambda: self._place(
                side,
                OrderType.LIMIT_MAKER,
                self.rng.choice((TimeInForce.IOC, TimeInForce.FOK)),
                price,
                qty,
                0,
                reserve,
            ),
            lambda: self._place(side, market, gtc, price, qty, 0, reserve),
            lambda: self._place(side, market, gtc, 0, qty, 10**10, reserve),
            lambda: self._place(side, market, gtc, 0, 0, 0, reserve),
            lambda: self._place(side, market, gtc, 0, -STEP, 0, reserve),
            lambda: self._place(side, market, gtc, 0, 0, SPEC.min_notional_units - 1, reserve),
            lambda: self._place(side, market, gtc, 0, qty + 1, 0, reserve),
            lambda: self._place(side, market, gtc, 0, STEP, 0, reserve),
            lambda: self._place(side, self.rng.choice((0, 8, 99)), gtc, price, qty, 0, reserve),
            lambda: self._place(self.rng.choice((0, 3)), OrderType.LIMIT, gtc, price, qty, 0, reserve),
            lambda: self._with_stp(self._place(side, OrderType.LIMIT, gtc, price, qty, 0, reserve), 4),
            lambda: self._place(side, OrderType.LIMIT, self.rng.choice((0, 5)), price, qty, 0, reserve),
            lambda: self._place(side, limit, gtc, price, qty, 0, reserve, stop_price=price),
            lambda: self._place(side, market, gtc, 0, qty, 0, reserve, stop_price=price),
            lambda: self._place(side, OrderType.STOP_LOSS, gtc, price, qty, 0, reserve, stop_price=price),
            lambda: self._place(side, OrderType.TAKE_PROFIT, gtc, 0, 0, qty, reserve, stop_price=price),
            lambda: self._place(side, OrderType.STOP_LOSS_LIMIT, gtc, price, qty, 0, reserve),
            lambda: self._place(side, limit, gtc, price, qty, 0, reserve, trailing_delta=5),
            lambda: self._place(side, market, gtc, 0, qty, 0, reserve, trailing_delta=5),
            lambda: self._place(side, limit, TimeInForce.IOC, price, qty, 0, reserve, iceberg_qty=3 * STEP),
            lambda: self._place(side, limit, gtc, price, qty, 0, reserve, iceberg_qty=qty),
            lambda: self._place(side, limit, gtc, price, qty, 0, reserve, iceberg_qty=3 * STEP + 1),
            lambda: self._place(side, limit, gtc, price, qty, 0, reserve, iceberg_qty=2 * STEP),
            lambda: self._place(side, limit, gtc, price, qty, 0, reserve, iceberg_qty=-STEP),
            lambda: self._place(side, market, gtc, 0, qty, 0, reserve, iceberg_qty=3 * STEP),
            lambda: self._place(
                side, OrderType.STOP_LOSS_LIMIT, gtc, price, qty, 0, reserve, price, 0, 3 * STEP
            ),
        ]
        return self.rng.choice(cases)()

    @staticmethod
    def _with_stp(c: PlaceOrder, stp_mode: int) -> PlaceOrder:
        c.stp_mode = stp_mode
        return c

    def _wrong_symbol(self, side: int, price: int, qty: int, reserve: int) -> PlaceOrder:
        c = self._place(side, OrderType.LIMIT, TimeInForce.GTC, price, qty, 0, reserve)
        c.symbol = "ETHUSDT"
        return c

    # ------------------------------------------------------------------ stream

    def next(self) -> Command:
        self._tick()
        r = self.rng.random()
        if r < 0.08:
            return self.stop()
        if r < 0.38:
            return self.limit(TimeInForce.GTC)
        if r < 0.45:
            return self.limit(TimeInForce.IOC)
        if r < 0.51:
            return self.limit(TimeInForce.FOK)
        if r < 0.58:
            return self.limit_maker()
        if r < 0.70:
            return self.market()
        if r < 0.82:
            return self.cancel()
        if r < 0.85:
            return self.oto_list()
        if r < 0.856:
            return self.cancel_all()
        if r < 0.89:
            return self.amend()
        if r < 0.93:
            return self.order_list()
        return self.invalid()


def build_commands(seed: int, n: int) -> list[Command]:
    """`n` commands for SPEC from `random.Random(seed)`."""
    builder = StreamBuilder(seed)
    return [builder.next() for _ in range(n)]


# ---------------------------------------------------------------------- diagnostics

_ENUM_FIELDS: dict[str, type[IntEnum]] = {
    "reason": Reason,
    "status": OrderStatus,
    "side": Side,
    "taker_side": Side,
    "order_type": OrderType,
    "time_in_force": TimeInForce,
    "stp_mode": StpMode,
}


def _show(name: str, value: object) -> str:
    """A field value, with the enum member's name when the field is enumerated (303 (FOK_NOT_FILLABLE))."""
    enum = _ENUM_FIELDS.get(name)
    if enum is not None and isinstance(value, int) and value in enum._value2member_map_:
        return f"{int(value)} ({enum(value).name})"
    return repr(value)


def _field_diff(expected: Event, actual: Event) -> str:
    if type(expected) is not type(actual):
        return f"event type differs: reference {type(expected).__name__}, engine {type(actual).__name__}"
    diffs = [
        f"{name}: reference {_show(name, e)}, engine {_show(name, a)}"
        for name, e, a in zip(expected.FIELDS, expected.values(), actual.values(), strict=True)
        if e != a
    ]
    return "; ".join(diffs)


def describe_event_mismatch(
    origin: str, index: int, command: Command, expected: Sequence[Event], actual: Sequence[Event]
) -> str:
    """A replayable report: where, what, both event lists and the first differing event."""
    first = next(
        (i for i, (e, a) in enumerate(zip(expected, actual, strict=False)) if e != a),
        min(len(expected), len(actual)),
    )
    if first < min(len(expected), len(actual)):
        where = f"first difference at event #{first}: {_field_diff(expected[first], actual[first])}"
    else:
        where = f"event lists differ in length at #{first}: reference {len(expected)}, engine {len(actual)}"
    lines = [
        f"{origin} command index={index}",
        f"command: {command!r}",
        where,
        "reference (NaiveBook) events:",
        *(f"  {e!r}" for e in expected),
        "engine (MatchingEngine) events:",
        *(f"  {a!r}" for a in actual),
    ]
    return "\n".join(lines)


def describe_state_mismatch(origin: str, index: int, expected: MarketState, actual: MarketState) -> str:
    """The first differing header field or order record of two states."""
    lines = [f"{origin} state digest differs after command index={index}"]
    for name in ("symbol", "seq", "trade_id", "last_price"):
        e, a = getattr(expected, name), getattr(actual, name)
        if e != a:
            lines.append(f"{name}: reference {e!r}, engine {a!r}")
    for i, (e, a) in enumerate(zip(expected.orders, actual.orders, strict=False)):
        if e != a:
            lines.append(f"first differing order record #{i}:\n  reference {e!r}\n  engine    {a!r}")
            break
    if len(expected.orders) != len(actual.orders):
        lines.append(f"open orders: reference {len(expected.orders)}, engine {len(actual.orders)}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- the check


def _coverage_key(event: Event) -> str:
    """The event's class, with its reason or status name: "OrderExpired:FOK_NOT_FILLABLE"."""
    name = type(event).__name__
    if isinstance(event, OrderRejected | OrderExpired | CancelRejected | AmendRejected):
        return f"{name}:{Reason(event.reason).name}"
    if isinstance(event, OrderDone):
        return f"{name}:{OrderStatus(event.status).name}"
    if isinstance(event, ListStatus):
        if event.reason:
            return f"{name}:REJECT:{Reason(event.reason).name}"
        return f"{name}:{ListStatusType(event.status_type).name}"
    return name


def _list_coverage_keys(command: Command, events: list[Event]) -> list[str]:
    """OTO/OTOCO coverage: their list statuses ("OTO:ListStatus:ALL_DONE"), and pending orders
    placed, by the kind of command that filled their working order."""
    keys: list[str] = []
    for e in events:
        if isinstance(e, ListStatus) and e.contingency != ContingencyType.OCO:
            keys.append(f"{ContingencyType(e.contingency).name}:{_coverage_key(e)}")
        if not isinstance(e, OrderAccepted) or not e.order_list_id:
            continue
        if not isinstance(command, PlaceOrderList):
            keys.append(f"OrderAccepted:pending-placed-by:{type(command).__name__}")
        elif command.contingency != ContingencyType.OCO and e.order_id != command.orders[0].order_id:
            keys.append("OrderAccepted:pending-placed-by:PlaceOrderList")
    return keys


def compare(origin: str, commands: Sequence[Command], digest_every: int = DIGEST_EVERY) -> Counter[str]:
    """Run both books over `commands`; fail on the first difference. Returns event-kind coverage.

    Events are compared after every command; state digests every `digest_every` commands and after
    the last one.
    """
    engine = MatchingEngine(SPEC)
    naive = NaiveBook(SPEC)
    coverage: Counter[str] = Counter()
    last = len(commands) - 1
    for index, command in enumerate(commands):
        expected = naive.apply(command)
        actual = engine.apply(command)
        if expected != actual:
            pytest.fail(describe_event_mismatch(origin, index, command, expected, actual), pytrace=False)
        coverage.update(_coverage_key(e) for e in expected)
        coverage.update(_list_coverage_keys(command, expected))
        if index % digest_every == digest_every - 1 or index == last:
            want, got = naive.state(), engine.state()
            if want.digest() != got.digest():
                pytest.fail(describe_state_mismatch(origin, index, want, got), pytrace=False)
    return coverage


def run_differential(seed: int, n: int) -> Counter[str]:
    """The seeded stream of `n` commands through both books (see `compare`)."""
    origin = f"seed={seed} n={n} (replay: build_commands({seed}, {n}))"
    return compare(origin, build_commands(seed, n))


# Reasons only order lists (and AmendOrder of a list member: the last) give.
LIST_REASONS = (
    Reason.INVALID_CONTINGENCY,
    Reason.ORDER_LIST_LEGS_DIFFER,
    Reason.INVALID_OCO_LEG_TYPES,
    Reason.INVALID_OCO_PRICES,
    Reason.ORDER_IN_LIST,
)

# Every event kind the stream is built to reach.
REQUIRED_COVERAGE = {
    "OrderAccepted",
    "Trade",
    "BookDelta",
    "OrderCancelled",
    "OrderTriggered",
    *(
        f"OrderRejected:{r.name}"
        for r in Reason
        if (100 < r < 300 and r != Reason.QUANTITY_NOT_REDUCED and r not in LIST_REASONS)
        or r in (Reason.WOULD_TAKE, Reason.WOULD_TRIGGER)
    ),
    "ListStatus:EXEC_STARTED",
    "ListStatus:ALL_DONE",
    *(
        f"ListStatus:REJECT:{r.name}"
        for r in (
            *LIST_REASONS[:-1],
            Reason.WOULD_TAKE,
            Reason.WOULD_TRIGGER,
            Reason.DUPLICATE_CLIENT_ORDER_ID,
            Reason.INSUFFICIENT_RESERVE,
        )
    ),
    "AmendRejected:ORDER_IN_LIST",
    "OrderAmended",
    *(
        f"AmendRejected:{r.name}"
        for r in (
            Reason.UNKNOWN_MARKET,
            Reason.UNKNOWN_ORDER,
            Reason.ORDER_NOT_OWNED,
            Reason.INVALID_QUANTITY,
            Reason.QUANTITY_OFF_STEP,
            Reason.QUANTITY_NOT_REDUCED,
            Reason.DUPLICATE_CLIENT_ORDER_ID,
        )
    ),
    *(f"OrderExpired:{r.name}" for r in Reason if 301 < r < 400 and r != Reason.WOULD_TRIGGER),
    *(
        f"CancelRejected:{r.name}"
        for r in (Reason.UNKNOWN_MARKET, Reason.UNKNOWN_ORDER, Reason.ORDER_NOT_OWNED)
    ),
    *(f"OrderDone:{s.name}" for s in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED)),
    f"OrderDone:{OrderStatus.EXPIRED_IN_MATCH.name}",
    *(f"{kind}:ListStatus:{t}" for kind in ("OTO", "OTOCO") for t in ("EXEC_STARTED", "ALL_DONE")),
    "OTO:ListStatus:REJECT:INVALID_OCO_LEG_TYPES",
    "OTOCO:ListStatus:REJECT:INVALID_OCO_PRICES",
    "OrderAccepted:pending-placed-by:PlaceOrder",
    "OrderAccepted:pending-placed-by:PlaceOrderList",
    "OrderExpired:WOULD_TAKE",
    "OrderExpired:WOULD_TRIGGER",
}


@pytest.mark.slow
def test_differential_100k() -> None:
    coverage = run_differential(seed=20_240_601, n=100_000)
    missing = REQUIRED_COVERAGE - set(coverage)
    assert not missing, f"the stream never produced {sorted(missing)}; coverage: {dict(coverage)}"


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_differential_small(seed: int) -> None:
    run_differential(seed=seed, n=5_000)


# ---------------------------------------------------------------------- minimal cases
# Hand-written corners, each small enough to read in a failure message. Prices in ticks, sizes in steps.


def _limit(
    oid: int,
    user: int,
    side: Side,
    ticks: int,
    steps: int,
    tif: TimeInForce = TimeInForce.GTC,
    stp: StpMode = StpMode.NONE,
    reserve: int | None = None,
    cid: str = "",
) -> PlaceOrder:
    """A LIMIT order reserving exactly what it may spend unless told."""
    if reserve is None:
        reserve = ticks * steps * NPTS if side == Side.BUY else steps * STEP
    return PlaceOrder(
        SPEC.symbol,
        oid,
        user,
        side,
        OrderType.LIMIT,
        tif,
        ticks * TICK,
        steps * STEP,
        0,
        reserve,
        stp,
        cid,
        oid,
    )


def _market(
    oid: int,
    user: int,
    side: Side,
    steps: int = 0,
    quote: int = 0,
    *,
    reserve: int,
    stp: StpMode = StpMode.NONE,
) -> PlaceOrder:
    return PlaceOrder(
        SPEC.symbol,
        oid,
        user,
        side,
        OrderType.MARKET,
        TimeInForce.GTC,
        0,
        steps * STEP,
        quote,
        reserve,
        stp,
        "",
        oid,
    )


def _stop(
    oid: int, user: int, side: Side, otype: OrderType, stop_ticks: int, steps: int, ticks: int = 0
) -> PlaceOrder:
    """A stop order (a *_LIMIT one when `ticks` is given) reserving plenty."""
    reserve = 10 * stop_ticks * steps * NPTS if side == Side.BUY else steps * STEP
    return PlaceOrder(
        SPEC.symbol, oid, user, side, otype, TimeInForce.GTC, ticks * TICK, steps * STEP, 0, reserve,
        StpMode.NONE, "", oid, stop_ticks * TICK,
    )  # fmt: skip


def _trailing(
    oid: int, user: int, side: Side, otype: OrderType, stop_ticks: int, bips: int, steps: int
) -> PlaceOrder:
    """A trailing stop order (`stop_ticks` 0: none) reserving plenty."""
    c = _stop(oid, user, side, otype, stop_ticks, steps)
    c.trailing_delta = bips
    c.reserve = 10 * PX * steps * NPTS if side == Side.BUY else steps * STEP
    return c


def _iceberg(oid: int, user: int, side: Side, ticks: int, steps: int, tip: int, **kw: object) -> PlaceOrder:
    """A LIMIT GTC iceberg order showing `tip` steps at a time."""
    c = _limit(oid, user, side, ticks, steps, **kw)  # type: ignore[arg-type]
    c.iceberg_qty = tip * STEP
    return c


BUY, SELL, FOK, IOC = Side.BUY, Side.SELL, TimeInForce.FOK, TimeInForce.IOC
SL, SLL, TP, TPL = (
    OrderType.STOP_LOSS,
    OrderType.STOP_LOSS_LIMIT,
    OrderType.TAKE_PROFIT,
    OrderType.TAKE_PROFIT_LIMIT,
)
PX = 3_000_000  # ticks
ONE_STEP_COST = PX * NPTS

MINIMAL_CASES: dict[str, list[Command]] = {
    # docs "AmendOrder": the amended order keeps its place ahead of order 2; an iceberg's tip shrinks
    # only when its quantity left falls below it; a BUY releases the removed notional at its price.
    "amend_keeps_priority": [
        _limit(1, 2, SELL, PX, 100, cid="a"),
        _limit(2, 3, SELL, PX, 40),
        AmendOrder(SPEC.symbol, 2, 1, "", "b", 60 * STEP),
        _limit(3, 4, BUY, PX, 70, IOC),
        AmendOrder(SPEC.symbol, 2, 0, "b", "", 20 * STEP),
        AmendOrder(SPEC.symbol, 2, 1, "", "", 60 * STEP),
    ],
    "amend_iceberg_and_buy_release": [
        _iceberg(1, 2, BUY, PX, 100, 30),
        AmendOrder(SPEC.symbol, 2, 1, "", "", 50 * STEP),
        AmendOrder(SPEC.symbol, 2, 1, "", "", 20 * STEP),
        _stop(2, 2, BUY, SLL, PX + 5, 50, PX + 6),
        AmendOrder(SPEC.symbol, 2, 2, "", "", 10 * STEP),
        CancelAll(SPEC.symbol, 2),
    ],
    # docs "Iceberg orders": each replenishment goes to the back of the level, behind order 2.
    "iceberg_replenishes_to_back": [
        _iceberg(1, 2, SELL, PX, 100, 30),
        _limit(2, 3, SELL, PX, 40),
        _limit(3, 4, BUY, PX, 100, IOC),
        _limit(4, 4, BUY, PX, 35),
    ],
    "iceberg_alone_in_its_level_meets_the_taker_again": [
        _iceberg(1, 2, SELL, PX, 100, 30),
        _limit(2, 4, BUY, PX + 1, 110),
        CancelOrder(SPEC.symbol, 4, order_id=2),
    ],
    "iceberg_taker_rests_its_tip": [
        _limit(1, 2, SELL, PX, 20),
        _iceberg(2, 3, BUY, PX, 100, 15),
        _limit(3, 4, SELL, PX - 1, 20),
        CancelOrder(SPEC.symbol, 3, order_id=2),
    ],
    "iceberg_fok_counts_hidden": [_iceberg(1, 2, SELL, PX, 100, 10), _limit(2, 3, BUY, PX, 100, FOK)],
    "iceberg_stp_expires_whole_order": [
        _iceberg(1, 2, SELL, PX, 100, 10),
        _limit(2, 2, BUY, PX, 50, stp=StpMode.EXPIRE_MAKER),
    ],
    # docs "Stop orders": a cascade, each check's triggers in ascending order id.
    "stop_cascade": [
        _limit(1, 2, SELL, PX, 50),
        _market(2, 3, BUY, 50, reserve=10 * 50 * ONE_STEP_COST),
        _limit(3, 2, BUY, PX - 2, 50),
        _limit(4, 2, BUY, PX - 5, 200),
        _stop(6, 7, SELL, SL, PX - 2, 50),
        _stop(5, 8, SELL, SLL, PX - 4, 60, PX - 6),
        _stop(7, 9, BUY, TP, PX - 5, 10),
        _market(8, 4, SELL, 10, reserve=10 * STEP),
    ],
    # A triggered limit restores the level a taker emptied: listed in the BookDelta all the same.
    "stop_level_back_where_it_began": [
        _limit(1, 2, SELL, PX, 50),
        _market(2, 3, BUY, 50, reserve=10 * 50 * ONE_STEP_COST),
        _limit(3, 2, SELL, PX + 1, 40),
        _stop(4, 7, SELL, TPL, PX + 1, 40, PX + 1),
        _limit(5, 3, BUY, PX + 1, 40),
    ],
    # docs "Trailing stop orders": a SELL trailing 1 bip (300 ticks) without a stop price follows
    # the rise, then triggers on a fall of 1 bip from the highest price; the one with a stop price
    # is activated by the rise first.
    "trailing_sell_follows_then_triggers": [
        _limit(1, 2, SELL, PX, 50),
        _market(2, 3, BUY, 50, reserve=10 * 50 * ONE_STEP_COST),
        _trailing(3, 7, SELL, SL, 0, 1, 40),
        _trailing(4, 8, SELL, TP, PX + 400, 1, 40),
        _limit(5, 2, SELL, PX + 500, 50),
        _market(6, 3, BUY, 50, reserve=10 * 50 * ONE_STEP_COST),
        _limit(7, 2, BUY, PX + 201, 80),
        _limit(8, 2, BUY, PX + 199, 80),
        _market(9, 5, SELL, 120, reserve=120 * STEP),
    ],
    "trailing_buy_from_no_trade_yet": [
        _trailing(1, 7, BUY, TP, 0, 2, 40),
        _limit(2, 2, SELL, PX, 50),
        _market(3, 3, BUY, 50, reserve=10 * 50 * ONE_STEP_COST),
        _limit(4, 2, SELL, PX + 600, 100),
        _limit(5, 3, BUY, PX + 600, 40),
    ],
    "stop_would_trigger_and_cancels": [
        _limit(1, 2, SELL, PX, 50),
        _market(2, 3, BUY, 50, reserve=10 * 50 * ONE_STEP_COST),
        _stop(3, 7, SELL, SL, PX, 50),
        _stop(4, 7, BUY, SL, PX + 1, 50),
        _stop(5, 7, SELL, TP, PX + 1, 50),
        CancelOrder(SPEC.symbol, 8, order_id=4),
        CancelOrder(SPEC.symbol, 7, order_id=4),
        CancelAll(SPEC.symbol, 7),
    ],
    # docs: "If the sum is below the order's quantity: OrderExpired(FOK_NOT_FILLABLE ...)": also when 0.
    "fok_empty_book": [_limit(1, 1, SELL, PX, 50, FOK)],
    "fok_no_crossing_level": [_limit(1, 2, SELL, PX + 10, 50), _limit(2, 1, BUY, PX, 50, FOK)],
    "fok_crossing_but_too_small": [_limit(1, 2, SELL, PX, 40), _limit(2, 1, BUY, PX, 50, FOK)],
    "fok_own_maker_ends_walk": [
        _limit(1, 1, SELL, PX, 60),
        _limit(3, 2, SELL, PX, 60),
        _limit(2, 1, BUY, PX, 50, FOK, StpMode.EXPIRE_TAKER),
    ],
    "fok_own_maker_skipped": [
        _limit(1, 1, SELL, PX, 60),
        _limit(3, 2, SELL, PX, 60),
        _limit(2, 1, BUY, PX, 50, FOK, StpMode.EXPIRE_MAKER),
    ],
    # docs: "if any price level changed, one BookDelta listing every changed level": none changed here.
    "stp_expire_taker_on_first_maker": [
        _limit(1, 1, SELL, PX, 60),
        _limit(2, 1, BUY, PX, 50, IOC, StpMode.EXPIRE_TAKER),
    ],
    "stp_expire_taker_after_other_level": [
        _limit(1, 2, SELL, PX, 40),
        _limit(2, 1, SELL, PX + 1, 40),
        _limit(3, 1, BUY, PX + 1, 100, IOC, StpMode.EXPIRE_TAKER),
    ],
    "stp_expire_both": [
        _limit(1, 2, SELL, PX, 40),
        _limit(2, 1, SELL, PX, 40),
        _limit(3, 2, SELL, PX, 40),
        _limit(4, 1, BUY, PX, 200, stp=StpMode.EXPIRE_BOTH),
    ],
    "cap_binds_before_first_fill": [_limit(1, 2, SELL, PX, 60), _market(2, 1, BUY, 50, reserve=1000)],
    "cap_binds_mid_level": [
        _limit(1, 2, SELL, PX, 60),
        _market(2, 1, BUY, 50, reserve=10 * ONE_STEP_COST + 1),
    ],
    "market_buy_by_quote_cap_before_fill": [
        _limit(1, 2, SELL, PX, 60),
        _market(2, 1, BUY, quote=SPEC.min_notional_units, reserve=ONE_STEP_COST - 1),
    ],
    "market_sell_by_quote_reserve_below_one_step": [
        _limit(1, 2, BUY, PX, 60),
        _market(2, 1, SELL, quote=SPEC.min_notional_units, reserve=STEP - 1),
    ],
    "market_sell_by_quote_runs_out_of_base": [
        _limit(1, 2, BUY, PX, 60),
        _market(2, 1, SELL, quote=10 * SPEC.min_notional_units, reserve=40 * STEP + 7),
    ],
    # docs: "Not found: UNKNOWN_ORDER. Found but another user's: ORDER_NOT_OWNED. Wrong symbol: ..."
    "cancel_wrong_symbol_unknown_order": [CancelOrder("ETHUSDT", 1, order_id=99)],
    "cancel_wrong_symbol_other_users_order": [
        _limit(1, 2, BUY, PX, 50),
        CancelOrder("ETHUSDT", 1, order_id=1),
    ],
    "cancel_by_empty_client_id": [_limit(1, 1, BUY, PX, 50), CancelOrder(SPEC.symbol, 1, order_id=0)],
    "cancel_all_in_ascending_order_id": [
        _limit(5, 1, BUY, PX, 50),
        CancelOrder(SPEC.symbol, 1, order_id=5),
        _limit(9, 1, BUY, PX, 50),
        _limit(5, 1, BUY, PX - 1, 50),
        CancelAll(SPEC.symbol, 1),
    ],
}


@pytest.mark.parametrize("name", sorted(MINIMAL_CASES))
def test_minimal_case(name: str) -> None:
    compare(f"case={name}", MINIMAL_CASES[name], digest_every=1)
