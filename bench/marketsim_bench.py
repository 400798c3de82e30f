"""The market simulation at its defaults on every market of the registry (the real stack, as
`make run` starts it): once every book holds 200 levels a side within 5% of the mid, its CPU time
over wall time for WINDOW_S seconds (the start-up burst of placing the deep books excluded and
printed apart), per market, and the book updates per second it makes the engines publish
(GET /api/v3/depth lastUpdateId advances once per depth update) and the trades per second; and,
steadier than a share of a core on a loaded machine, its CPU milliseconds per book update, with
the load average over the window.

    python -m bench marketsim        (MARKETSIM_BENCH_SECONDS, default 60)
"""

import asyncio
import os
import time
from decimal import Decimal

import httpx

from bench.common import CpuMeter, delete_prefix, drop_database, fresh_database, new_prefix
from exchange_core.markets import load_markets
from launcher.stack import REDIS_URL, Stack, running_stack

WINDOW_S = float(os.environ.get("MARKETSIM_BENCH_SECONDS", "60"))
READY_DEADLINE_S = 300.0
MIN_LEVELS = 200
BUDGET = 0.25  # of one core, for every market together


def levels_within_5pct(book: dict[str, list[list[str]]]) -> int:
    if not book["bids"] or not book["asks"]:
        return 0
    mid = (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2
    low, high = mid * Decimal("0.95"), mid * Decimal("1.05")
    return min(
        sum(1 for p, _ in book["bids"] if Decimal(p) >= low),
        sum(1 for p, _ in book["asks"] if Decimal(p) <= high),
    )


def update_ids(http: httpx.Client, symbols: list[str]) -> dict[str, int]:
    return {
        s: int(http.get("/api/v3/depth", params={"symbol": s, "limit": 1}).json()["lastUpdateId"])
        for s in symbols
    }


def trade_ids(http: httpx.Client, symbols: list[str]) -> dict[str, int]:
    out = {}
    for s in symbols:
        rows = http.get("/api/v3/trades", params={"symbol": s, "limit": 1}).json()
        out[s] = int(rows[-1]["id"]) if rows else 0
    return out


def measure(stack: Stack, http: httpx.Client) -> None:
    symbols = stack.symbols
    process = stack.supervisor.services["marketsim"].process
    assert process is not None
    meter = CpuMeter({"marketsim": process.pid})
    meter.start()
    started = time.monotonic()
    while True:
        depth = {
            s: levels_within_5pct(http.get("/api/v3/depth", params={"symbol": s, "limit": 1000}).json())
            for s in symbols
        }
        if min(depth.values()) >= MIN_LEVELS:
            break
        if time.monotonic() - started > READY_DEADLINE_S:
            raise AssertionError(
                f"books not {MIN_LEVELS} levels deep within {READY_DEADLINE_S:.0f} s: {depth}"
            )
        time.sleep(1.0)
    ready_s = time.monotonic() - started
    startup_cpu = meter.stop()["marketsim"]
    meter.start()
    updates, trades = update_ids(http, symbols), trade_ids(http, symbols)
    begin = time.monotonic()
    time.sleep(WINDOW_S)
    wall = time.monotonic() - begin
    cpu = meter.stop()["marketsim"]
    updates_after, trades_after = update_ids(http, symbols), trade_ids(http, symbols)
    n = len(symbols)
    load = os.getloadavg()[0]
    print(
        f"== marketsim: {n} markets, default agent mix, window {wall:.0f} s (after the books were ready), "
        f"load average {load:.1f}"
    )
    print(f"   start-up: books {MIN_LEVELS} levels a side deep in {ready_s:.1f} s, {startup_cpu:.1f} CPU s")
    share = cpu / wall
    print(f"   CPU: {share:.1%} of one core in all, {share / n:.1%} per market (budget {BUDGET:.0%} in all)")
    total_updates = sum(updates_after[s] - updates[s] for s in symbols)
    if total_updates:
        per_update = cpu * 1000 / total_updates
        print(f"   CPU per book update: {per_update:.2f} ms ({total_updates / wall:.1f} updates/s in all)")
    for s in symbols:
        rate = (updates_after[s] - updates[s]) / wall
        traded = (trades_after[s] - trades[s]) / wall
        print(f"   {s:<8} book updates/s {rate:6.1f}   trades/s {traded:5.2f}   levels within 5% {depth[s]}")
        assert updates_after[s] > updates[s], f"{s}: no book update in the window"
        assert trades_after[s] > trades[s], f"{s}: no trade in the window"


def main() -> None:
    dsn = fresh_database()
    prefix = new_prefix()
    try:
        symbols = list(load_markets())
        with (
            running_stack(
                dsn, prefix, symbols, with_dbwriter=True, with_marketsim=True, up_seconds=120
            ) as stack,
            httpx.Client(base_url=stack.url, timeout=30) as http,
        ):
            measure(stack, http)
    finally:
        asyncio.run(delete_prefix(REDIS_URL, prefix))
        drop_database(dsn)


if __name__ == "__main__":
    main()
