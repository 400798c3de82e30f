"""Settlement workers: aggregate settled orders/s with 1, 2 and 4 workers over 4 markets, in one
run, and the CPU each worker process (and Redis) spends per order.

The four markets' event streams are produced once by their engines (the seeded workload of
service_bench, `PER_MARKET` commands each). For each worker count the workers start on an empty
copy of the exchange (a key prefix of their own) and take their markets' settlement leases;
then every market's events are swapped in at once (COPY + RENAME) and the time until every
market's `settlement` group has caught up gives the aggregate orders/s (orders: the workload's
new orders; cancels ride along). Worker i settles the markets at positions i, i + N, ... .

The floor (bench.settlement_floor: one process making the same settle.lua calls with arguments
precomputed, and the same fenced position writes) settles the same events, measured the same
way, right before the one-worker run. Target: one worker >= 60% of the floor's orders/s."""

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from bench.common import cpu_seconds, delete_prefix, new_prefix, redis_server_pid
from bench.results import Figure, add
from bench.service_bench import encoded_commands, engine_state
from bench.workload import CANCEL, generate
from exchange_core.keys import Keys
from launcher.processes import engine_name, settlement_name
from launcher.supervisor import Supervisor

REDIS_URL = "redis://127.0.0.1:6379/0"
MARKETS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ETHBTC"]
WORKER_COUNTS = (1, 2, 4)
PER_MARKET = 20_000
SEEDS = {symbol: 11 + i for i, symbol in enumerate(MARKETS)}


def orders_in(n: int, seed: int) -> int:
    """New orders among the workload's `n` commands (the rest are cancels)."""
    return sum(1 for op in generate(n, seed=seed, warmup=0).ops if op.kind != CANCEL)


async def produce_events(redis: Redis, prefix: str, per_market: int) -> None:
    """Run one engine per market over its commands until all are applied; evt:{SYMBOL} holds the result."""
    keys = Keys(prefix)
    supervisor = Supervisor(
        {"REDIS_URL": REDIS_URL, "KEY_PREFIX": prefix, "SNAPSHOT_EVERY_COMMANDS": "1000000"},
        Path(tempfile.mkdtemp(prefix="bench-settlement-engines-")),
    )
    for symbol in MARKETS:
        supervisor.add(engine_name(symbol), "engine", SYMBOL=symbol)
    supervisor.start_all()
    try:
        # Commands appended before an engine has recovered are replayed in chunks, each chunk's
        # events one evt:{SYMBOL} entry: not the one entry per command a running engine writes.
        while not all(engine_started(supervisor.log_dir, symbol) for symbol in MARKETS):
            await asyncio.sleep(0.05)
        for symbol in MARKETS:
            data = encoded_commands(per_market, symbol, seed=SEEDS[symbol])
            for i in range(0, len(data), 5_000):
                pipe = redis.pipeline(transaction=False)
                for item in data[i : i + 5_000]:
                    pipe.xadd(keys.commands(symbol), {"c": item})
                await pipe.execute()
        for symbol in MARKETS:
            while await engine_state(redis, keys.commands(symbol)) != (0, 0):
                await asyncio.sleep(0.05)
    finally:
        supervisor.stop_all()


def engine_started(log_dir: Path, symbol: str) -> bool:
    """Has `symbol`'s engine recovered (and now follows its journal)?"""
    log = log_dir / f"{engine_name(symbol)}.log"
    return log.exists() and " recovered: " in log.read_text()


async def settlement_caught_up(redis: Redis, keys: Keys) -> bool:
    for symbol in MARKETS:
        groups = {g["name"]: g for g in await redis.xinfo_groups(keys.events(symbol))}
        group = groups.get(b"settlement")
        if group is None or group["lag"] != 0 or group["pending"] != 0:
            return False
    return True


async def run(workers: int, source: str, orders: dict[str, int]) -> dict[str, float]:
    """Settle the events under `source` with `workers` workers; orders/s and CPU per order."""
    prefix = new_prefix()
    keys, source_keys = Keys(prefix), Keys(source)
    redis = Redis.from_url(REDIS_URL)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-settlement-"))
    supervisor = Supervisor({"REDIS_URL": REDIS_URL, "KEY_PREFIX": prefix, "CLAIM_AFTER_MS": "0"}, log_dir)
    names = [settlement_name(i) for i in range(workers)]
    for index, name in enumerate(names):
        supervisor.add(name, "settlement", WORKERS=str(workers), WORKER_INDEX=str(index))
    supervisor.start_all()
    try:
        while sum((log_dir / f"{n}.log").read_text().count("settlement of ") for n in names if
                  (log_dir / f"{n}.log").exists()) < len(MARKETS):  # fmt: skip
            await asyncio.sleep(0.05)
        pids = supervisor.pids()
        redis_pid = redis_server_pid()
        if redis_pid is not None:
            pids["redis"] = redis_pid
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.perf_counter()
        for symbol in MARKETS:
            staged = keys.events(symbol) + ":staged"
            await redis.copy(source_keys.events(symbol), staged)
            await redis.xgroup_create(staged, "settlement", id="0")
            await redis.rename(staged, keys.events(symbol))
        while not await settlement_caught_up(redis, keys):
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
        total = sum(orders.values())
        result: dict[str, float] = {"workers": workers, "orders": total, "seconds": elapsed,
                                    "per_second": total / elapsed}  # fmt: skip
        for index, name in enumerate(names):
            own = sum(orders[s] for i, s in enumerate(MARKETS) if i % workers == index)
            result[f"cpu_ms_per_order:{name}"] = 1000 * cpu[name] / own
        if "redis" in cpu:
            result["cpu_ms_per_order:redis"] = 1000 * cpu["redis"] / total
        return result
    finally:
        supervisor.stop_all()
        await redis.aclose()
        await delete_prefix(REDIS_URL, prefix)


async def run_floor(source: str, orders: dict[str, int]) -> dict[str, float]:
    """The floor process over a copy of the events under `source`; orders/s and its CPU per order."""
    prefix = new_prefix()
    keys, source_keys = Keys(prefix), Keys(source)
    redis = Redis.from_url(REDIS_URL)
    for symbol in MARKETS:
        await redis.copy(source_keys.events(symbol), keys.events(symbol))
        await redis.xgroup_create(keys.events(symbol), "settlement", id="0")
    floor = subprocess.Popen(
        [sys.executable, "-m", "bench.settlement_floor", prefix, *MARKETS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert floor.stdin is not None and floor.stdout is not None
    try:
        assert floor.stdout.readline().strip() == "ready"
        redis_pid = redis_server_pid()
        pids = {"floor": floor.pid, **({"redis": redis_pid} if redis_pid is not None else {})}
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.perf_counter()
        floor.stdin.write("go\n")
        floor.stdin.flush()
        while not await settlement_caught_up(redis, keys):
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        cpu = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
        assert floor.wait(timeout=30) == 0
        total = sum(orders.values())
        result = {"orders": total, "seconds": elapsed, "per_second": total / elapsed}
        return result | {f"cpu_ms_per_order:{name}": 1000 * seconds / total for name, seconds in cpu.items()}
    finally:
        if floor.poll() is None:
            floor.kill()
        await redis.aclose()
        await delete_prefix(REDIS_URL, prefix)


async def run_all(per_market: int) -> list[dict[str, float]]:
    source = new_prefix()
    redis = Redis.from_url(REDIS_URL)
    try:
        await produce_events(redis, source, per_market)
        orders = {symbol: orders_in(per_market, SEEDS[symbol]) for symbol in MARKETS}
        floor = await run_floor(source, orders)
        return [floor] + [await run(workers, source, orders) for workers in WORKER_COUNTS]
    finally:
        await redis.aclose()
        await delete_prefix(REDIS_URL, source)


def cpu_ms(result: dict[str, float]) -> dict[str, float]:
    return {k.split(":", 1)[1]: v for k, v in result.items() if k.startswith("cpu_ms_per_order:")}


def main(per_market: int = PER_MARKET) -> list[dict[str, float]]:
    floor, *results = asyncio.run(run_all(per_market))
    print(f"== settlement workers over {len(MARKETS)} markets ({per_market:,} commands per market)")
    print(
        f"   floor (the same settle.lua calls, arguments precomputed, fenced positions; one process): "
        f"{floor['per_second']:,.0f} settled orders/s ({floor['seconds']:.2f} s); CPU ms per order: "
        + ", ".join(f"{k} {v:.3f}" for k, v in cpu_ms(floor).items())
    )
    for r in results:
        cpu = ", ".join(
            f"{k.split(':', 1)[1]} {v:.3f}" for k, v in r.items() if k.startswith("cpu_ms_per_order:")
        )
        print(
            f"   {int(r['workers'])} worker(s): {r['per_second']:,.0f} settled orders/s "
            f"({int(r['orders']):,} orders in {r['seconds']:.2f} s); CPU ms per order: {cpu}"
        )
    one = results[0]
    add(
        Figure(
            "settlement_one_worker",
            "orders",
            one["per_second"],
            floor["per_second"],
            0.60,
            cpu_ms_per_unit={"ours": cpu_ms(one), "floor": cpu_ms(floor)},
        )
    )
    return results
