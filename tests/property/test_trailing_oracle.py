"""The grouped trigger book (`matching.triggers.TriggerBook`, `matching.trailing`) against the
O(n) one it replaced (`tests.reference.trigger_oracle`), which is the specification.

Book level: random adds (plain and trailing stop orders, with and without a stop price, at
coarse and fine price grids), cancels, takers' trade price lists and snapshot-like restores: the
same orders triggered in the same order, the same orders waiting with the same `active` and
`reference` after each step. Engine level: random command sequences rich in trailing and plain
stop orders through the engine with each book: the same events and state hash after every
command, and after a snapshot and restore of both.
"""

import random
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching import Command, MatchingEngine, OrderType, Side, StpMode, TimeInForce
from matching.book import Order
from matching.triggers import TriggerBook
from tests.corehelpers import SPEC, cancel, cancel_all, limit, market, stop
from tests.reference.trigger_oracle import OracleTriggerBook, oracle_engine_class

STOP_TYPES = (
    OrderType.STOP_LOSS,
    OrderType.STOP_LOSS_LIMIT,
    OrderType.TAKE_PROFIT,
    OrderType.TAKE_PROFIT_LIMIT,
)
# Trailing deltas: small, round (exact equality of p * BIPS and r * (BIPS +/- d) at price 100),
# large, and the extremes.
TRAILS = st.one_of(
    st.integers(1, 60),
    st.sampled_from([1, 100, 200, 500, 9_999]),
    st.integers(60, 2_000),
    st.integers(2_000, 9_999),
)
CENTERS = st.sampled_from([100, 1_000, 10_000])


# ------------------------------------------------------------------ book level


@dataclass
class Add:
    order_id: int
    side: int
    order_type: int
    stop: int
    trail: int


@dataclass
class Cancel:
    pick: int  # index into the waiting orders, by id


@dataclass
class Trades:
    prices: list[int]


@dataclass
class Restore:
    pass


Step = Add | Cancel | Trades | Restore


def new_order(a: Add) -> Order:
    return Order(a.order_id, 1, "", a.side, a.order_type, TimeInForce.GTC, StpMode.NONE, 0, 1, 1, 0)


def restored(book: TriggerBook | OracleTriggerBook, make: type) -> TriggerBook | OracleTriggerBook:
    """A fresh book holding what `book` holds, as the engine's restore from a snapshot builds it."""
    book.settle_references()
    fresh = make()
    for order_id in sorted(book.orders):
        o = book.orders[order_id]
        copy = Order(o.order_id, 1, "", o.side, o.order_type, TimeInForce.GTC, StpMode.NONE, 0, 1, 1, 0)
        fresh.restore(copy, o.stop, o.trail, o.active, o.reference)
    return fresh


def waiting_state(book: TriggerBook | OracleTriggerBook) -> list[tuple[int, int, int, int]]:
    book.settle_references()
    return [(oid, o.stop, o.active, o.reference) for oid, o in sorted(book.orders.items())]


def run_steps(steps: list[Step]) -> None:
    """Apply `steps` to both books; assert they agree after each."""
    fast: TriggerBook | OracleTriggerBook = TriggerBook()
    oracle: TriggerBook | OracleTriggerBook = OracleTriggerBook()
    last_price = 0
    for i, step in enumerate(steps):
        if isinstance(step, Add):
            fast.add(new_order(step), step.stop, step.trail, last_price)
            oracle.add(new_order(step), step.stop, step.trail, last_price)
        elif isinstance(step, Cancel):
            if not oracle.orders:
                continue
            ids = sorted(oracle.orders)
            order_id = ids[step.pick % len(ids)]
            fast.remove(fast.orders[order_id])
            oracle.remove(oracle.orders[order_id])
        elif isinstance(step, Trades):
            got = [o.order_id for o in fast.take_triggered(step.prices)]
            want = [o.order_id for o in oracle.take_triggered(step.prices)]
            assert got == want, f"step {i}: prices {step.prices} triggered {got}, the oracle {want}"
            last_price = step.prices[-1]
        else:
            fast = restored(fast, TriggerBook)
            oracle = restored(oracle, OracleTriggerBook)
        assert waiting_state(fast) == waiting_state(oracle), f"step {i} ({step})"


@st.composite
def book_steps(draw: st.DrawFn) -> list[Step]:
    center = draw(CENTERS)
    band = max(3, center // 25)
    prices = st.integers(center - band, center + band)
    steps: list[Step] = []
    next_id = 1
    for _ in range(draw(st.integers(1, 120))):
        roll = draw(st.integers(0, 19))
        if roll < 9:
            trail = draw(TRAILS) if roll < 7 else 0
            stop_price = draw(prices) if not trail or draw(st.booleans()) else 0
            steps.append(
                Add(
                    next_id,
                    draw(st.sampled_from([1, 2])),
                    draw(st.sampled_from(STOP_TYPES)),
                    stop_price,
                    trail,
                )
            )
            next_id += 1
        elif roll < 11:
            steps.append(Cancel(draw(st.integers(0, 10**6))))
        elif roll < 19:
            steps.append(Trades(draw(st.lists(prices, min_size=1, max_size=6))))
        else:
            steps.append(Restore())
    return steps


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(book_steps())
def test_the_trigger_book_agrees_with_the_oracle(steps: list[Step]) -> None:
    run_steps(steps)


def test_the_trigger_book_agrees_with_the_oracle_over_a_long_random_walk() -> None:
    """Thousands of orders waiting at once and a price walking around: many groups merge, heaps
    fill with stale entries and are rebuilt."""
    for seed in range(3):
        rng = random.Random(seed)
        price = 10_000
        steps: list[Step] = []
        for order_id in range(1, 6_001):
            steps.append(
                Add(
                    order_id,
                    rng.choice([1, 2]),
                    rng.choice(STOP_TYPES),
                    price + rng.randint(-300, 300) if rng.random() < 0.3 else 0,
                    rng.choice([rng.randint(1, 40), rng.randint(40, 600), rng.randint(600, 9_999)]),
                )
            )
            if rng.random() < 0.2:
                steps.append(Cancel(rng.randrange(10**6)))
            if rng.random() < 0.5:
                walk = []
                for _ in range(rng.randint(1, 5)):
                    price = max(1, price + rng.randint(-25, 25))
                    walk.append(price)
                steps.append(Trades(walk))
            if order_id % 2_000 == 0:
                steps.append(Restore())
        run_steps(steps)


# ------------------------------------------------------------------ engine level


@st.composite
def stop_heavy_commands(draw: st.DrawFn) -> list[Command]:
    """Commands on TST/USD around a price of 100 or 1,000 cents: many trailing stop orders (some
    with a stop price), plain stop orders, limit and market orders that trade, cancels."""
    center = draw(st.sampled_from([100, 1_000]))
    band = max(5, center // 20)
    prices = st.integers(center - band, center + band)
    out: list[Command] = []
    next_id = 1
    for _ in range(draw(st.integers(1, 120))):
        roll = draw(st.integers(0, 19))
        user = draw(st.integers(1, 4))
        side = draw(st.sampled_from([Side.BUY, Side.SELL]))
        stp = draw(st.sampled_from([StpMode.NONE, StpMode.NONE, StpMode.EXPIRE_MAKER]))
        if roll < 7:
            out.append(limit(next_id, user, side, draw(prices), draw(st.integers(1, 6)), stp=stp))
        elif roll < 9:
            qty = draw(st.integers(1, 8))
            reserve = 10 * center * qty if side == Side.BUY else qty
            out.append(market(next_id, user, side, qty=qty, reserve=reserve, stp=stp))
        elif roll < 17:
            otype = draw(st.sampled_from(STOP_TYPES))
            trail = draw(TRAILS) if roll < 15 else 0
            stop_price = draw(prices) if not trail or draw(st.booleans()) else 0
            price = draw(prices) if otype in (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT) else 0
            qty = draw(st.integers(1, 5))
            reserve = 10 * center * qty if side == Side.BUY else qty
            command = stop(next_id, user, side, otype, stop_price, qty, price=price, reserve=reserve, stp=stp)
            command.trailing_delta = trail
            out.append(command)
        elif roll < 19:
            out.append(cancel(user, oid=draw(st.integers(1, next_id))))
            continue
        else:
            out.append(cancel_all(user))
            continue
        next_id += 1
    return out


ORACLE_ENGINE = oracle_engine_class()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stop_heavy_commands(), st.data())
def test_the_engine_gives_the_oracles_events_and_state(cmds: list[Command], data: st.DataObject) -> None:
    fast = MatchingEngine(SPEC)
    oracle = ORACLE_ENGINE(SPEC)
    cut = data.draw(st.integers(0, len(cmds)))
    for i, c in enumerate(cmds):
        if i == cut:
            fast = MatchingEngine.restore(SPEC, fast.snapshot())
            oracle = ORACLE_ENGINE.restore(SPEC, oracle.snapshot())
        got = fast.apply(c)
        want = oracle.apply(c)
        assert got == want, f"command {i}: {c}"
        assert fast.state_hash() == oracle.state_hash(), f"after command {i}: {c}"
    assert isinstance(oracle.stops, OracleTriggerBook)
