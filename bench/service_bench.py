"""The engine process alone, against its floor: pre-encoded commands XADDed to cmd:{BTCUSDT}
at once (bench.common.swap_in_streams): time until its consumer group's position
has passed them all. Then the floor (bench.service_floor: the same reads and the same fenced
batch writes, without decoding or matching) on the same commands, measured the same way.
Each side's run is under a second of work here, so the two alternate SERVICE_BENCH_ROUNDS times
(3 by default) and the figure is the median of each side's rates.
Target: ours >= 60% of the floor's commands/s."""

import asyncio
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from redis.asyncio import Redis

from bench.common import cpu_seconds, delete_prefix, group_state, new_prefix, swap_in_streams
from bench.results import Figure, add
from bench.workload import BUY, CANCEL, generate
from engine.settings import EngineSettings
from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from exchange_core.protocol import encode_command
from launcher.supervisor import Supervisor
from matching import CancelOrder, OrderType, PlaceOrder, StpMode, TimeInForce

REDIS_URL = "redis://127.0.0.1:6379/0"
SYMBOL = "BTCUSDT"


def encoded_commands(n: int, symbol: str = SYMBOL, seed: int = 11) -> list[bytes]:
    """`n` commands of the seeded workload for `symbol`, protobuf-encoded as the gateway sends them."""
    spec = load_markets()[symbol].spec
    workload = generate(n, seed=seed, warmup=0)
    owner: dict[int, int] = {}
    out = []
    for op in workload.ops:
        if op.kind == CANCEL:
            out.append(encode_command(CancelOrder(symbol, owner[op.order_id], op.order_id)))
            continue
        owner[op.order_id] = op.user
        price, qty = op.price * spec.tick_units, op.qty * spec.step_units * 100
        reserve = spec.notional(price, qty) if op.side == BUY else qty
        command = PlaceOrder(symbol, op.order_id, op.user, op.side, OrderType.LIMIT, TimeInForce.GTC,
                             price, qty, 0, reserve, StpMode.NONE, f"c{op.order_id}")  # fmt: skip
        out.append(encode_command(command))
    return out


async def engine_state(redis: Redis, key: str) -> tuple[int, int]:
    """(lag, pending) of the engines' consumer group on `key`; (-1, -1) before it exists."""
    return await group_state(redis, key, "engine")


async def preload(redis: Redis, key: str, payloads: list[bytes]) -> None:
    for i in range(0, len(payloads), 5_000):
        pipe = redis.pipeline(transaction=False)
        for data in payloads[i : i + 5_000]:
            pipe.xadd(key, {"c": data})
        await pipe.execute()


async def drained(redis: Redis, key: str) -> float:
    """Poll until the `engine` group's position has passed every entry of `key`; returns when."""
    while await engine_state(redis, key) != (0, 0):
        await asyncio.sleep(0.01)
    return time.perf_counter()


async def run(n: int, payloads: list[bytes], **extra_env: str) -> dict[str, object]:
    """Ours: the engine process over `payloads`; also what it wrote (events entries, the last
    depth snapshot) for the floor to write."""
    prefix = new_prefix()
    keys = Keys(prefix)
    redis = Redis.from_url(REDIS_URL)
    supervisor = Supervisor(
        {"REDIS_URL": REDIS_URL, "KEY_PREFIX": prefix, "SNAPSHOT_EVERY_COMMANDS": "1000000", **extra_env},
        Path(tempfile.mkdtemp(prefix="bench-engine-")),
    )
    supervisor.add("engine", "engine", SYMBOL=SYMBOL)
    supervisor.start_all()
    try:
        while (await engine_state(redis, keys.commands(SYMBOL)))[0] < 0:
            await asyncio.sleep(0.05)
        process = supervisor.services["engine"].process
        assert process is not None
        cpu = cpu_seconds(process.pid)
        start = await swap_in_streams(redis, "engine", "c", {keys.commands(SYMBOL): payloads}, [process])
        elapsed = await drained(redis, keys.commands(SYMBOL)) - start
        cpu = cpu_seconds(process.pid) - cpu
        events = [fields[b"e"] for _, fields in await redis.xrange(keys.events(SYMBOL))]
        assert events
        depth = await redis.get(keys.depth(SYMBOL))
        return {"seconds": elapsed, "per_second": n / elapsed, "cpu_s": cpu, "events": events, "depth": depth}
    finally:
        supervisor.stop_all()
        await redis.aclose()
        await delete_prefix(REDIS_URL, prefix)


async def run_floor(
    n: int, payloads: list[bytes], outputs: dict[str, object], batch: int
) -> dict[str, float]:
    """The floor process (bench.service_floor) over the same commands, measured as ours is."""
    prefix = new_prefix()
    keys = Keys(prefix)
    redis = Redis.from_url(REDIS_URL)
    with tempfile.NamedTemporaryFile(suffix=".pickle") as fh:
        fh.write(pickle.dumps(outputs))
        fh.flush()
        floor = subprocess.Popen(
            [sys.executable, "-m", "bench.service_floor", prefix, SYMBOL, str(n), str(batch), fh.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert floor.stdin is not None and floor.stdout is not None
        try:
            await redis.xgroup_create(keys.commands(SYMBOL), "engine", id="0", mkstream=True)
            await preload(redis, keys.commands(SYMBOL), payloads)
            assert floor.stdout.readline().strip() == "ready"
            cpu = cpu_seconds(floor.pid)
            start = time.perf_counter()
            floor.stdin.write("go\n")
            floor.stdin.flush()
            elapsed = await drained(redis, keys.commands(SYMBOL)) - start
            cpu = cpu_seconds(floor.pid) - cpu
            assert await redis.xlen(keys.events(SYMBOL)) == -(-n // batch)
            assert floor.wait(timeout=30) == 0
            return {"seconds": elapsed, "per_second": n / elapsed, "cpu_s": cpu}
        finally:
            if floor.poll() is None:
                floor.kill()
            await redis.aclose()
            await delete_prefix(REDIS_URL, prefix)


def main(n: int = 200_000) -> Figure:
    batch = int(EngineSettings.model_fields["batch_size"].default)
    payloads = encoded_commands(n)
    rounds = max(1, int(os.environ.get("SERVICE_BENCH_ROUNDS", "3")))
    ours_runs: list[dict[str, object]] = []
    floor_runs: list[dict[str, float]] = []
    for _ in range(rounds):
        ours = asyncio.run(run(n, payloads))
        outputs = {"events": ours["events"], "depth": ours["depth"]}
        ours_runs.append(ours)
        floor_runs.append(asyncio.run(run_floor(n, payloads, outputs, batch)))
    ours_rate = median(float(o["per_second"]) for o in ours_runs)  # type: ignore[arg-type]
    ours_cpu = median(float(o["cpu_s"]) for o in ours_runs)  # type: ignore[arg-type]
    floor_rate = median(f["per_second"] for f in floor_runs)
    floor_cpu = median(f["cpu_s"] for f in floor_runs)
    print(f"== engine service ({SYMBOL}, one process): {n:,} pre-encoded commands, batches of {batch:,}")
    print(
        f"   {rounds} rounds, ours then the floor; ours "
        + ", ".join(f"{float(o['seconds']):.2f}" for o in ours_runs)  # type: ignore[arg-type]
        + f" s ({len(ours_runs[0]['events']):,} event batches), floor "  # type: ignore[arg-type]
        + ", ".join(f"{f['seconds']:.2f}" for f in floor_runs)
        + " s (same XREAD, one fenced XADD/PUBLISH/SET/SETID per batch, no decoding or matching);"
        " medians below"
    )
    figure = add(
        Figure(
            "engine_service",
            "commands",
            ours_rate,
            floor_rate,
            0.60,
            cpu_ms_per_unit={
                "ours": {"engine": ours_cpu * 1000 / n},
                "floor": {"floor": floor_cpu * 1000 / n},
            },
        )
    )
    print(f"   CPU ms per command: engine {ours_cpu * 1000 / n:.4f}, floor {floor_cpu * 1000 / n:.4f}")
    return figure
