"""`python -m dbwriter`: write every market's trades and orders to the database until SIGTERM."""

import asyncio
import logging
import signal

import asyncpg
import uvloop
from redis.asyncio import Redis

from dbwriter.service import DbWriterService
from dbwriter.settings import DbWriterSettings
from exchange_core.markets import load_markets
from exchange_core.runtime import tune_gc


async def main() -> None:
    settings = DbWriterSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    redis: Redis = Redis.from_url(settings.redis_url)
    # min_size=0: start (and keep running) while the database is down; connect on first write.
    pool = await asyncpg.create_pool(
        settings.database_url, min_size=0, max_size=1, command_timeout=settings.command_timeout_s
    )
    service = DbWriterService(settings, redis, pool, load_markets())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tune_gc()
    try:
        await service.run(stop)
    finally:
        await pool.close()
        await redis.aclose()


if __name__ == "__main__":
    uvloop.run(main())
