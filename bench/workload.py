"""A seeded order-book workload shared by every engine in the benchmark.

About 60% resting limit orders near the mid, 25% cancels of live orders, 15% crossing orders
that take 1-3 whole price levels. A shadow book tracks what each step leaves behind, so the
workload knows how many maker orders each crossing order fills (one trade per maker).
"""

import random
from dataclasses import dataclass, field

REST = 0
CANCEL = 1
CROSS = 2
BUY = 1
SELL = 2


@dataclass(slots=True)
class Op:
    kind: int
    order_id: int
    side: int = 0
    price: int = 0  # ticks
    qty: int = 0  # steps
    user: int = 0


@dataclass
class Workload:
    ops: list[Op]
    expected_trades: int
    live_at_end: int
    rests: int = 0
    cancels: int = 0
    crosses: int = 0
    warmup: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def generate(
    n: int, seed: int = 7, mid: int = 1_000_000, users: int = 500, spread: int = 50, warmup: int = 0
) -> Workload:
    """`warmup` resting orders (not counted in `n`) come first, so the book starts deep."""
    rng = random.Random(seed)
    levels: dict[int, dict[int, dict[int, int]]] = {BUY: {}, SELL: {}}  # side -> price -> {oid: qty}
    where: dict[int, tuple[int, int]] = {}  # oid -> (side, price)
    live: list[int] = []
    slot: dict[int, int] = {}
    ops: list[Op] = []
    next_id = 0
    trades = 0
    counts = [0, 0, 0]

    def add_live(oid: int) -> None:
        slot[oid] = len(live)
        live.append(oid)

    def drop_live(oid: int) -> None:
        i = slot.pop(oid)
        last = live.pop()
        if last != oid:
            live[i] = last
            slot[last] = i

    for i in range(n + warmup):
        r = 1.0 if i < warmup else rng.random()
        bids, asks = levels[BUY], levels[SELL]
        best_bid = max(bids) if bids else mid - 1
        best_ask = min(asks) if asks else mid + 1
        if r < 0.25 and live:
            oid = live[rng.randrange(len(live))]
            side, price = where.pop(oid)
            level = levels[side][price]
            del level[oid]
            if not level:
                del levels[side][price]
            drop_live(oid)
            ops.append(Op(CANCEL, oid))
            counts[CANCEL] += 1
            continue
        next_id += 1
        user = rng.randrange(1, users + 1)
        if r < 0.40 and (bids or asks):
            side = BUY if (rng.random() < 0.5 and asks) or not bids else SELL
            book = levels[SELL] if side == BUY else levels[BUY]
            prices = sorted(book) if side == BUY else sorted(book, reverse=True)
            k = min(len(prices), rng.randint(1, 3))
            qty = 0
            for p in prices[:k]:
                for oid in list(book[p]):
                    qty += book[p][oid]
                    del where[oid]
                    drop_live(oid)
                    trades += 1
                del book[p]
            ops.append(Op(CROSS, next_id, side, prices[k - 1], qty, user))
            counts[CROSS] += 1
            continue
        side = BUY if rng.random() < 0.5 else SELL
        offset = rng.randint(0, spread)
        if side == BUY:
            price = min(best_ask - 1, (best_bid + best_ask) // 2 - offset)
        else:
            price = max(best_bid + 1, (best_bid + best_ask) // 2 + offset + 1)
        qty = rng.randint(1, 10)
        levels[side].setdefault(price, {})[next_id] = qty
        where[next_id] = (side, price)
        add_live(next_id)
        ops.append(Op(REST, next_id, side, price, qty, user))
        counts[REST] += 1
    return Workload(ops, trades, len(live), counts[REST], counts[CANCEL], counts[CROSS], warmup)
