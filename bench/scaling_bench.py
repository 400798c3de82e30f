"""Per-market scaling: 1, 2 and 4 markets, each with its own engine process, all on this
machine and one Redis. Every engine's command stream is filled beforehand and swapped in while
the engines are paused (SIGSTOP); then all resume at once and the time until every consumer group
has read and acked its stream gives the aggregate commands/s. The same seeded workload per
market (service_bench's).

On a machine with C cores the curve flattens once engines + Redis need more than C cores: an
engine is one single-threaded process, and Redis (one more core's worth of work at these rates)
serves every engine. Each market added on its own node (pod) adds its one-engine rate until the
shared Redis saturates; the keys of one market share one Redis Cluster slot, so markets spread
over Redis shards, each shard carrying its markets' engines."""

import asyncio
import os
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from bench.common import delete_prefix, new_prefix, swap_in_streams
from bench.service_bench import encoded_commands, engine_state
from exchange_core.keys import Keys
from launcher.processes import engine_name
from launcher.supervisor import Supervisor

REDIS_URL = "redis://127.0.0.1:6379/0"
MARKETS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ETHBTC"]
COUNTS = (1, 2, 4)


async def run(symbols: list[str], per_market: int) -> dict[str, float]:
    """Aggregate commands/s of one engine process per symbol, `per_market` commands each."""
    prefix = new_prefix()
    keys = Keys(prefix)
    redis = Redis.from_url(REDIS_URL)
    payloads = {s: encoded_commands(per_market, s, seed=11 + i) for i, s in enumerate(symbols)}
    supervisor = Supervisor(
        {"REDIS_URL": REDIS_URL, "KEY_PREFIX": prefix, "SNAPSHOT_EVERY_COMMANDS": "1000000"},
        Path(tempfile.mkdtemp(prefix="bench-scaling-")),
    )
    for symbol in symbols:
        supervisor.add(engine_name(symbol), "engine", SYMBOL=symbol, CONSUMER=engine_name(symbol))
    supervisor.start_all()
    try:
        for symbol in symbols:
            while (await engine_state(redis, keys.commands(symbol)))[0] < 0:
                await asyncio.sleep(0.05)
        processes = [s.process for s in supervisor.services.values() if s.process is not None]
        streams = {keys.commands(symbol): data for symbol, data in payloads.items()}
        start = await swap_in_streams(redis, "engine", "c", streams, processes)
        finished: dict[str, float] = {}
        while len(finished) < len(symbols):
            await asyncio.sleep(0.02)
            assert all(p.poll() is None for p in processes), "an engine died: see " + str(supervisor.log_dir)
            for symbol in symbols:
                if symbol not in finished and await engine_state(redis, keys.commands(symbol)) == (0, 0):
                    finished[symbol] = time.perf_counter() - start
        elapsed = max(finished.values())
        for symbol in symbols:
            assert await redis.xlen(keys.events(symbol)) > 0, f"{symbol}: no events written"
        total = per_market * len(symbols)
        return {"markets": len(symbols), "commands": total, "seconds": elapsed, "per_second": total / elapsed}
    finally:
        supervisor.stop_all()
        await redis.aclose()
        await delete_prefix(REDIS_URL, prefix)


def main(per_market: int = 100_000) -> list[dict[str, float]]:
    results = [asyncio.run(run(MARKETS[:n], per_market)) for n in COUNTS]
    base = results[0]["per_second"]
    cores = os.cpu_count() or 0
    print(
        f"== per-market scaling: one engine process per market, {per_market:,} commands each, {cores} cores"
    )
    for r in results:
        print(
            f"   {int(r['markets'])} market(s): {r['per_second']:,.0f} commands/s aggregate "
            f"({r['per_second'] / base:.2f}x of one; {r['per_second'] / r['markets']:,.0f}/s per engine)"
        )
    return results
