"""`python -m dbwriter`: write every market's trades and orders to the database until SIGTERM."""

import asyncpg
import uvloop
from redis.asyncio import Redis

from dbwriter.service import DbWriterService
from dbwriter.settings import DbWriterSettings
from dbwriter.store import session_settings
from exchange_core import store, tracing
from exchange_core.markets import load_markets
from exchange_core.runtime import configure_logging, stop_event, tune_gc
from exchange_core.telemetry import serve_probes


async def main() -> None:
    settings = DbWriterSettings()
    configure_logging(settings.log_level)
    redis: Redis = store.connect(settings.redis_url)
    # min_size=0: start (and keep running) while the database is down; connect on first write.
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=0,
        max_size=1,
        command_timeout=settings.command_timeout_s,
        server_settings=session_settings(settings.lease_ttl_ms),
    )
    service = DbWriterService(settings, redis, pool, load_markets())
    tracing.configure("dbwriter")
    probes = await serve_probes(settings, service.metrics.registry, service.ready, service.refresh_metrics)
    stop = stop_event()
    tune_gc()
    try:
        await service.run(stop)
    finally:
        if probes is not None:
            await probes.stop()
        tracing.shutdown()
        await pool.close()
        await redis.aclose()


if __name__ == "__main__":
    uvloop.run(main())
