"""Engine events for the history tests: random commands through the real matching core, encoded
as evt:{SYMBOL} entries, and what the database should then hold (an independent model)."""

import random
from dataclasses import dataclass, field
from typing import Any

from exchange_core.wire import encode_batch, encode_event
from matching import (
    AmendOrder,
    CancelOrder,
    Command,
    Event,
    MarketSpec,
    MatchingEngine,
    OrderAccepted,
    OrderAmended,
    OrderDone,
    OrderStatus,
    OrderType,
    PlaceOrder,
    Side,
    StpMode,
    TimeInForce,
    Trade,
)

T0 = 1_767_571_200_000  # 2026-01-05 00:00 UTC, a Monday


@dataclass
class Run:
    """The events of a command run, grouped into stream entries as an engine would write them."""

    symbol: str
    events: list[Event] = field(default_factory=list)
    entries: list[bytes] = field(default_factory=list)

    @property
    def trades(self) -> list[Trade]:
        return [e for e in self.events if isinstance(e, Trade)]


def random_commands(spec: MarketSpec, n: int, seed: int, t0: int = T0) -> list[Command]:
    """`n` commands near a mid price: limits (GTC, IOC, FOK; some GTC ones icebergs), stop-limits
    (some trailing), markets by quantity and by quote amount, cancels, amendments halving an
    order's quantity; a few users; timestamps rising by 0-20 s."""
    rng = random.Random(seed)
    mid = 30_000 * 10**spec.quote_decimals // spec.tick_units * spec.tick_units
    ts = t0
    commands: list[Command] = []
    owners: dict[int, int] = {}
    sizes: dict[int, int] = {}
    for oid in range(1, n + 1):
        ts += rng.randrange(0, 20_000)
        user = rng.randint(1, 6)
        roll = rng.random()
        if roll < 0.04 and owners:
            amended = rng.choice(list(owners)[-8:])  # a recent order: likely still open
            half = max(spec.min_qty_units, sizes[amended] // 2 // spec.step_units * spec.step_units)
            commands.append(AmendOrder(spec.symbol, owners[amended], amended, "", f"a{oid}", half, ts))
            continue
        if roll < 0.15 and owners:
            victim = rng.choice(list(owners))
            commands.append(CancelOrder(spec.symbol, owners[victim], victim, "", ts))
            continue
        side = rng.choice([Side.BUY, Side.SELL])
        qty = rng.randint(20, 400) * spec.step_units
        price = mid + rng.randint(-15, 15) * spec.tick_units
        if roll < 0.80:
            tif = rng.choice([TimeInForce.GTC] * 6 + [TimeInForce.IOC, TimeInForce.FOK])
            reserve = spec.notional(price, qty) if side == Side.BUY else qty
            order = PlaceOrder(spec.symbol, oid, user, side, OrderType.LIMIT, tif, price, qty, 0, reserve,
                               StpMode.NONE, f"c{oid}", ts)  # fmt: skip
            if tif == TimeInForce.GTC and rng.random() < 0.3:
                order.iceberg_qty = max(spec.min_qty_units, qty // 4 // spec.step_units * spec.step_units)
            owners[oid] = user
            sizes[oid] = qty
        elif roll < 0.86:
            # A stop-limit a little beyond the market (some trail instead): waits, may trigger.
            away = rng.randint(2, 10) * spec.tick_units
            stop = mid + away if side == Side.BUY else mid - away
            trailing = rng.choice([0, 0, 50, 200])
            reserve = spec.notional(stop, qty) if side == Side.BUY else qty
            order = PlaceOrder(spec.symbol, oid, user, side, OrderType.STOP_LOSS_LIMIT, TimeInForce.GTC, stop,
                               qty, 0, reserve, StpMode.NONE, f"c{oid}", ts, stop, trailing)  # fmt: skip
            owners[oid] = user
            sizes[oid] = qty
        elif roll < 0.92:
            reserve = spec.notional(mid * 2, qty) if side == Side.BUY else qty
            order = PlaceOrder(spec.symbol, oid, user, side, OrderType.MARKET, TimeInForce.GTC, 0, qty, 0,
                               reserve, StpMode.NONE, f"c{oid}", ts)  # fmt: skip
        else:
            quote = spec.notional(price, qty)
            reserve = quote if side == Side.BUY else qty * 2
            order = PlaceOrder(spec.symbol, oid, user, side, OrderType.MARKET, TimeInForce.GTC, 0, 0, quote,
                               reserve, StpMode.NONE, f"c{oid}", ts)  # fmt: skip
        commands.append(order)
    return commands


def run_engine(spec: MarketSpec, commands: list[Command], seed: int) -> Run:
    """Apply `commands`; each stream entry holds the events of 1-8 consecutive commands."""
    rng = random.Random(seed)
    engine = MatchingEngine(spec)
    run = Run(spec.symbol)
    i = 0
    while i < len(commands):
        chunk = commands[i : i + rng.randint(1, 8)]
        i += len(chunk)
        events = [e for command in chunk for e in engine.apply(command)]
        if events:
            run.events.extend(events)
            run.entries.append(encode_batch(spec.symbol, [encode_event(e) for e in events], f"{i}-0"))
    return run


def expected_orders(run: Run) -> dict[int, tuple[object, ...]]:
    """Each accepted order's row as the orders table should hold it after all of `run`:
    (user, client id, side, type, tif, price, qty, quote qty, status, executed, executed quote,
    created ms, updated ms, seq, stop price, trailing delta, iceberg qty); an amendment sets its
    quantity and client id."""
    static: dict[int, OrderAccepted] = {}
    state: dict[int, tuple[int, int, int, int, int]] = {}  # status, executed, quote, updated, seq
    for e in run.events:
        if isinstance(e, OrderAccepted):
            static[e.order_id] = OrderAccepted(*e.values())  # a copy: an amendment changes it
            state[e.order_id] = (OrderStatus.NEW, 0, 0, e.ts, e.seq)
        elif isinstance(e, Trade):
            for oid, filled, quote in (
                (e.maker_order_id, e.maker_filled, e.maker_filled_quote),
                (e.taker_order_id, e.taker_filled, e.taker_filled_quote),
            ):
                qty = static[oid].quantity
                status = OrderStatus.FILLED if qty and filled >= qty else OrderStatus.PARTIALLY_FILLED
                state[oid] = (status, filled, quote, e.ts, e.seq)
        elif isinstance(e, OrderDone):
            state[e.order_id] = (e.status, e.filled, e.filled_quote, e.ts, e.seq)
        elif isinstance(e, OrderAmended):
            static[e.order_id].quantity = e.quantity
            static[e.order_id].client_order_id = e.client_order_id
            status = OrderStatus.PARTIALLY_FILLED if e.filled else OrderStatus.NEW
            state[e.order_id] = (status, e.filled, e.filled_quote, e.ts, e.seq)
    out: dict[int, tuple[object, ...]] = {}
    for oid, a in static.items():
        status, executed, quote, updated, seq = state[oid]
        static_fields = (a.user_id, a.client_order_id, a.side, a.order_type, a.time_in_force, a.price)
        sizes = (a.quantity, a.quote_quantity)
        stops = (a.stop_price, a.trailing_delta, a.iceberg_qty)
        out[oid] = (*static_fields, *sizes, int(status), executed, quote, a.ts, updated, seq, *stops)
    return out


def trade_row(t: Trade) -> tuple[int, ...]:
    """A Trade event as the trades table holds it (time in ms), in table column order."""
    return (t.trade_id, t.ts, t.price, t.quantity, t.quote_quantity, t.taker_side, t.maker_order_id,
            t.taker_order_id, t.maker_user_id, t.taker_user_id, t.maker_fee, t.taker_fee, t.seq)  # fmt: skip


def synthetic_trades(spec: MarketSpec, n: int, seed: int, t0: int = T0) -> list[Trade]:
    """`n` trades over about two and a half months from `t0`: bursts of one taker order (1-4
    fills in the same ms, sometimes at two prices), quiet minutes, hours and days between."""
    rng = random.Random(seed)
    price = 30_000 * 10**spec.quote_decimals
    ts, trades = t0, []
    taker = 0
    while len(trades) < n:
        ts += rng.choice([0, 50, 900, 4_000, 30_000, 61_000, 400_000, 3_700_000, 20_000_000, 90_000_000])
        taker += 1
        side = rng.choice([Side.BUY, Side.SELL])
        for _ in range(rng.randint(1, 4)):
            if rng.random() < 0.4:
                price += rng.randint(-8, 8) * spec.tick_units
            qty = rng.randint(1, 300) * spec.step_units
            seq = len(trades) * 3 + 7
            trades.append(
                Trade(seq, ts, len(trades) + 1, price, qty, spec.notional(price, qty), int(side),
                      10_000 + len(trades), rng.randint(1, 9), taker, rng.randint(1, 9), 0, 1, qty, 0, qty, 0)
            )  # fmt: skip
    return trades[:n]


def entries_of(symbol: str, events: list[Event], per_entry: int = 50) -> list[bytes]:
    return [
        encode_batch(symbol, [encode_event(e) for e in events[i : i + per_entry]], "")
        for i in range(0, len(events), per_entry)
    ]


async def stored_history(conn: Any, symbol: str) -> tuple[list[tuple[Any, ...]], dict[int, tuple[Any, ...]]]:
    """The trades (as `trade_row`, by seq) and order rows (as `expected_orders`) of `symbol`."""
    trades = await conn.fetch(
        "SELECT id, (extract(epoch FROM time) * 1000)::bigint, price, qty, quote_qty, taker_side,"
        " maker_order_id, taker_order_id, maker_user_id, taker_user_id, maker_fee, taker_fee, seq"
        " FROM trades WHERE symbol = $1 ORDER BY seq",
        symbol,
    )
    orders = await conn.fetch(
        "SELECT order_id, user_id, client_order_id, side, type, time_in_force, price, qty, quote_qty,"
        " status, executed_qty, cumulative_quote_qty, (extract(epoch FROM created_at) * 1000)::bigint,"
        " (extract(epoch FROM updated_at) * 1000)::bigint, seq, stop_price, trailing_delta, iceberg_qty"
        " FROM orders WHERE symbol = $1",
        symbol,
    )
    return [tuple(r) for r in trades], {r[0]: tuple(r)[1:] for r in orders}
