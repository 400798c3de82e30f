"""`python -m settlement`: settle every market's events until SIGTERM/SIGINT."""

import asyncio
import logging
import signal

import uvloop
from redis.asyncio import Redis

from exchange_core.markets import load_markets
from exchange_core.runtime import tune_gc
from settlement.service import SettlementService
from settlement.settings import SettlementSettings


async def main() -> None:
    settings = SettlementSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    redis: Redis = Redis.from_url(settings.redis_url)
    service = SettlementService(settings, redis, load_markets())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tune_gc()
    try:
        await service.run(stop)
    finally:
        await redis.aclose()


if __name__ == "__main__":
    uvloop.run(main())
