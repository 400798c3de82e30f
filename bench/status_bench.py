"""How fast a market's halt reaches every gateway process: GATEWAYS views of the statuses
(gateway.marketstatus.MarketStatuses, each on a Redis connection of its own, as each gateway
process has), one admin write (exchange_core.marketstatus.write_status) after another, alternately
HALT and TRADING, and the time from the write's start until the last view applies it. On the
local Redis, under this machine's load; it checks that every view saw every change."""

import asyncio
import statistics
import time
import uuid

from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.marketstatus import TRADING, MarketStatus, TradingStatus, write_status
from gateway.marketstatus import MarketStatuses

REDIS_URL = "redis://127.0.0.1:6379/0"
GATEWAYS = 4
CHANGES = 100
SYMBOL = "BTCUSDT"


async def _run() -> list[float]:
    keys = Keys(f"bench-status-{uuid.uuid4().hex[:8]}:")
    admin: Redis = Redis.from_url(REDIS_URL)
    clients: list[Redis] = [Redis.from_url(REDIS_URL) for _ in range(GATEWAYS)]
    # refresh_s far beyond the run: only the published message can carry a change.
    views = [MarketStatuses(c, keys, [SYMBOL], refresh_s=3600) for c in clients]
    for view in views:
        await view.start()
    seconds: list[float] = []
    try:
        for n in range(CHANGES):
            wanted = MarketStatus(TradingStatus.HALT, f"bench {n}", n + 1) if n % 2 == 0 else TRADING
            started = time.perf_counter()
            await write_status(admin, keys, SYMBOL, wanted)
            while any(view.get(SYMBOL) != wanted for view in views):
                if time.perf_counter() - started > 10:
                    raise AssertionError(f"change {n} not seen by every view within 10 s")
                await asyncio.sleep(0)
            seconds.append(time.perf_counter() - started)
    finally:
        for view in views:
            await view.stop()
        await admin.delete(keys.market_status(SYMBOL))
        for client in [admin, *clients]:
            await client.aclose()
    return seconds


def main() -> None:
    seconds = asyncio.run(_run())
    ms = sorted(1000 * s for s in seconds)
    p99 = ms[int(len(ms) * 0.99) - 1]
    print(
        f"market status: {len(ms)} changes seen by all {GATEWAYS} gateway views: "
        f"median {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, max {ms[-1]:.2f} ms (write to applied)"
    )


if __name__ == "__main__":
    main()
