"""The engine process alone: pre-encoded commands XADDed to cmd:{BTCUSDT} while the engine is
paused (SIGSTOP), then resumed: time until its consumer group has read and acked them all.
Target: >= 50,000 commands/s for one symbol process."""

import asyncio
import signal
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from bench.common import delete_prefix, new_prefix
from bench.workload import BUY, CANCEL, generate
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


async def group_state(redis: Redis, key: str) -> tuple[int, int]:
    if not await redis.exists(key):
        return -1, -1
    for group in await redis.xinfo_groups(key):
        if group["name"] == b"engine":
            return int(group["lag"] or 0), int(group["pending"])
    return -1, -1


async def run(n: int, **extra_env: str) -> dict[str, float]:
    prefix = new_prefix()
    keys = Keys(prefix)
    redis = Redis.from_url(REDIS_URL)
    payloads = encoded_commands(n)
    supervisor = Supervisor(
        {"REDIS_URL": REDIS_URL, "KEY_PREFIX": prefix, "SNAPSHOT_EVERY_COMMANDS": "1000000", **extra_env},
        Path(tempfile.mkdtemp(prefix="bench-engine-")),
    )
    supervisor.add("engine", "engine", SYMBOL=SYMBOL)
    supervisor.start_all()
    try:
        while (await group_state(redis, keys.commands(SYMBOL)))[0] < 0:
            await asyncio.sleep(0.05)
        process = supervisor.services["engine"].process
        assert process is not None
        process.send_signal(signal.SIGSTOP)
        for i in range(0, len(payloads), 5_000):
            pipe = redis.pipeline(transaction=False)
            for data in payloads[i : i + 5_000]:
                pipe.xadd(keys.commands(SYMBOL), {"c": data})
            await pipe.execute()
        start = time.perf_counter()
        process.send_signal(signal.SIGCONT)
        while await group_state(redis, keys.commands(SYMBOL)) != (0, 0):
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - start
        events = await redis.xlen(keys.events(SYMBOL))
        assert events > 0
        return {"commands": n, "seconds": elapsed, "per_second": n / elapsed, "event_batches": events}
    finally:
        supervisor.stop_all()
        await redis.aclose()
        await delete_prefix(REDIS_URL, prefix)


def main(n: int = 200_000) -> dict[str, float]:
    result = asyncio.run(run(n))
    print(f"== engine service ({SYMBOL}, one process): {n:,} pre-encoded commands")
    print(
        f"   {result['per_second']:,.0f} commands/s ({result['seconds']:.2f} s, "
        f"{int(result['event_batches']):,} event batches written; target >= 50,000)"
    )
    return result
