"""Engine takeover: the owner of BTCUSDT is stopped (SIGSTOP) with `JOURNAL` commands in the
journal since its last snapshot; time until a command appended right after is applied by the
standby (its OrderAccepted in evt:{BTCUSDT}), with a hot standby (following the owner's book)
and a cold one (snapshot + journal replay at takeover). Lease TTL 2 s, poll 0.2 s
(docs/leases.md); the rest is recovery."""

import asyncio
import signal
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from bench.common import delete_prefix, new_prefix
from bench.service_bench import SYMBOL, encoded_commands, engine_state
from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from exchange_core.protocol import decode_events, encode_command
from launcher.supervisor import Supervisor
from matching import OrderAccepted, OrderType, PlaceOrder, Side, StpMode, TimeInForce

REDIS_URL = "redis://127.0.0.1:6379/0"
JOURNAL = 100_000
PROBE_ORDER_ID = 10**9


def probe_command() -> bytes:
    spec = load_markets()[SYMBOL].spec
    price, qty = 500_000 * spec.tick_units, spec.step_units * 100
    command = PlaceOrder(SYMBOL, PROBE_ORDER_ID, 1, Side.BUY, OrderType.LIMIT, TimeInForce.GTC, price, qty, 0,
                         spec.notional(price, qty), StpMode.NONE, "probe")  # fmt: skip
    return encode_command(command)


async def accepted(redis: Redis, keys: Keys) -> bool:
    for _, fields in await redis.xrevrange(keys.events(SYMBOL), count=5):
        if any(
            isinstance(e, OrderAccepted) and e.order_id == PROBE_ORDER_ID
            for e in decode_events(fields[b"e"])[1]
        ):
            return True
    return False


async def run(hot: bool, journal: int) -> float:
    """Seconds from the owner's SIGSTOP to the probe order's acceptance by the standby."""
    prefix = new_prefix()
    keys = Keys(prefix)
    redis = Redis.from_url(REDIS_URL)
    supervisor = Supervisor(
        {"REDIS_URL": REDIS_URL, "KEY_PREFIX": prefix, "SNAPSHOT_EVERY_COMMANDS": "10000000",
         "SNAPSHOT_EVERY_MS": "600000", "HOT_STANDBY": str(hot).lower()},
        Path(tempfile.mkdtemp(prefix="bench-takeover-")),
    )  # fmt: skip
    supervisor.add("owner", "engine", SYMBOL=SYMBOL)
    supervisor.add("standby", "engine", SYMBOL=SYMBOL)
    supervisor.start("owner")
    try:
        while (await engine_state(redis, keys.commands(SYMBOL)))[0] < 0:
            await asyncio.sleep(0.05)
        supervisor.start("standby")
        data = encoded_commands(journal)
        for i in range(0, len(data), 5_000):
            pipe = redis.pipeline(transaction=False)
            for item in data[i : i + 5_000]:
                pipe.xadd(keys.commands(SYMBOL), {"c": item})
            await pipe.execute()
        while await engine_state(redis, keys.commands(SYMBOL)) != (0, 0):
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # the standby has caught up (hot) or waits idle (cold)
        supervisor.kill("owner", signal.SIGSTOP)
        stopped = time.perf_counter()
        await redis.xadd(keys.commands(SYMBOL), {"c": probe_command()})
        while not await accepted(redis, keys):
            await asyncio.sleep(0.005)
        return time.perf_counter() - stopped
    finally:
        supervisor.kill("owner", signal.SIGCONT)
        supervisor.stop_all()
        await redis.aclose()
        await delete_prefix(REDIS_URL, prefix)


def main(journal: int = JOURNAL) -> dict[str, float]:
    results = {"hot": asyncio.run(run(True, journal)), "cold": asyncio.run(run(False, journal))}
    print(f"== engine takeover ({SYMBOL}, {journal:,} commands journaled since the snapshot; lease TTL 2 s)")
    for kind, seconds in results.items():
        print(f"   {kind} standby: owner stopped -> first order accepted again in {seconds:.2f} s")
    return results
