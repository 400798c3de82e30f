"""`python -m settlement`: settle every market's events until SIGTERM/SIGINT."""

import uvloop
from redis.asyncio import Redis

from exchange_core import store, tracing
from exchange_core.markets import load_markets
from exchange_core.runtime import configure_logging, run_until_stopped, stop_event, tune_gc
from exchange_core.telemetry import serve_probes
from settlement.service import SettlementService
from settlement.settings import SettlementSettings


async def main() -> None:
    settings = SettlementSettings()
    configure_logging(settings.log_level)
    redis: Redis = store.connect(settings.redis_url)
    service = SettlementService(settings, redis, load_markets())
    tracing.configure("settlement")
    probes = await serve_probes(settings, service.metrics.registry, service.ready, service.refresh_metrics)
    stop = stop_event()
    tune_gc()
    try:
        await run_until_stopped(lambda: service.run(stop), stop, service.reset)
    finally:
        if probes is not None:
            await probes.stop()
        tracing.shutdown()
        await redis.aclose()


if __name__ == "__main__":
    uvloop.run(main())
