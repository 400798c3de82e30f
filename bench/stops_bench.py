"""The matching core with trailing stop orders waiting: the core benchmark's workload, timed with
0, 1,000 and 10,000 trailing stop orders in the trigger book.

After the warm-up, an untimed prelude (the first 20,000 commands of the timed stream) places the
trailing stop orders among its commands, so they take their references at different last prices:
BUY and SELL, every stop type, trailing deltas of 20-500 bips (the workload's price stays within
about 9 bips of its start, so none triggers), three in four active at once (no stop price), one in
four with a stop price 1-300 ticks away (some activate during the run: state changes, not
triggers). The rest of the stream is timed, in batches of 100 as the engine service applies them.
Each run checks it did the same work as without stops: trade count, resting orders, no trigger,
every stop order still waiting. Each figure is the best of `repeat` runs (the machine is shared). For
comparison, a run with 1,000 plain stop orders waiting (stop prices out of reach) shows what any
waiting stop order costs a taker (the engine then looks at its trades).
"""

import random
import time

from bench.engine_bench import BATCH, our_commands
from bench.workload import Workload, generate

PRELUDE = 20_000
STOP_USER = 10**6
STOP_IDS = 10**9


def run(
    wl: Workload, commands: list[object], spec_obj: object, seed: int, stops: int, plain: bool = False
) -> dict[str, float | int | bool]:
    """Run the workload with `stops` trailing (or, `plain`, plain) stop orders waiting; return
    figures and checks."""
    import matching
    from matching import MatchingEngine, OrderAccepted, OrderTriggered, OrderType, PlaceOrder, Side, Trade

    warmup = wl.warmup
    spec: matching.MarketSpec = spec_obj  # type: ignore[assignment]
    engine = MatchingEngine(spec)
    engine.apply_journal(commands[:warmup], 0)  # type: ignore[arg-type]
    prelude = commands[warmup : warmup + PRELUDE]
    timed = commands[warmup + PRELUDE :]
    rng = random.Random(seed)
    every = max(1, len(prelude) // stops) if stops else len(prelude) + 1
    trades = triggered = accepted = 0
    placed = 0
    for i, command in enumerate(prelude):
        out = engine.apply(command)  # type: ignore[arg-type]
        trades += sum(1 for e in out if type(e) is Trade)
        if placed < stops and i % every == 0:
            side = rng.choice((Side.BUY, Side.SELL))
            otype = rng.choice(
                (
                    OrderType.STOP_LOSS,
                    OrderType.STOP_LOSS_LIMIT,
                    OrderType.TAKE_PROFIT,
                    OrderType.TAKE_PROFIT_LIMIT,
                )
            )
            limit_type = otype in (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT)
            last = engine.last_price  # ticks
            stop_ticks = 0
            if plain:
                rises = (otype in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)) == (side == Side.BUY)
                stop_ticks = 2 * (last or 1_000_000) if rises else (last or 1_000_000) // 2
            elif last and rng.random() < 0.25:
                rises = (otype in (OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT)) == (side == Side.BUY)
                stop_ticks = last + rng.randint(1, 300) if rises else last - rng.randint(1, 300)
            price = (last or 1_000_000) * spec.tick_units if limit_type else 0
            qty = spec.step_units
            reserve = spec.notional(price or 2_000_000 * spec.tick_units, qty) if side == Side.BUY else qty
            trail = 0 if plain else rng.randint(20, 500)
            order = PlaceOrder(
                spec.symbol, STOP_IDS + placed, STOP_USER, int(side), int(otype), 1,
                price, qty, 0, reserve, 0, "", 0, stop_ticks * spec.tick_units, trail,
            )  # fmt: skip
            for e in engine.apply(order):
                accepted += type(e) is OrderAccepted
            placed += 1
    assert accepted == stops, (accepted, stops)
    batches = [timed[i : i + BATCH] for i in range(0, len(timed), BATCH)]
    apply_journal = engine.apply_journal
    start = time.perf_counter()
    for batch in batches:
        for out in apply_journal(batch, engine.seq):  # type: ignore[arg-type]
            for e in out:
                if type(e) is Trade:
                    trades += 1
                elif type(e) is OrderTriggered:
                    triggered += 1
    elapsed = time.perf_counter() - start
    assert trades == wl.expected_trades, (trades, wl.expected_trades)
    assert not triggered
    assert len(engine.orders) == wl.live_at_end
    assert len(engine.stops.orders) == stops
    return {
        "ops_per_s": len(timed) / elapsed,
        "active": sum(1 for o in engine.stops.orders.values() if o.active),
        "compiled": matching.engine.__file__.endswith(".so"),  # type: ignore[union-attr]
    }


def main(n: int = 300_000, warmup: int = 5_000, seed: int = 7, repeat: int = 3) -> None:
    print(
        f"== matching core with trailing stop orders waiting: {n - PRELUDE:,} timed ops "
        f"(seed {seed}, best of {repeat})"
    )
    wl = generate(n, seed=seed, warmup=warmup)
    commands, spec = our_commands(wl)
    rows = (("none", 0, False), ("1,000 plain stops", 1_000, True), ("1,000 trailing stops", 1_000, False),
            ("10,000 trailing stops", 10_000, False))  # fmt: skip
    base = 0.0
    for name, stops, plain in rows:
        results = [run(wl, commands, spec, seed, stops, plain) for _ in range(repeat)]
        rate = max(float(r["ops_per_s"]) for r in results)
        base = base or rate
        kind = "mypyc-compiled" if results[0]["compiled"] else "NOT compiled"
        active = int(results[0]["active"])
        print(
            f"   {name + ' waiting':32s} ({active:>5,} active at the end), {kind}: {rate:>10,.0f} ops/s "
            f"= {rate / base:6.1%} of none"
        )
