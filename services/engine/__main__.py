"""`python -m engine`: run the engine of the market named by $SYMBOL until SIGTERM/SIGINT.

While another engine holds the market's lease this one is a standby. An engine that loses the
lease exits with LEASE_LOST_EXIT, and its supervisor starts it again (as a standby)."""

import logging

import uvloop
from redis.asyncio import Redis

from engine.service import EngineService
from engine.settings import EngineSettings
from exchange_core import store, tracing
from exchange_core.lease import Fenced
from exchange_core.markets import load_markets
from exchange_core.runtime import configure_logging, run_until_stopped, stop_event, tune_gc
from exchange_core.telemetry import serve_probes

LEASE_LOST_EXIT = 3


async def main() -> None:
    settings = EngineSettings()  # type: ignore[call-arg]
    configure_logging(settings.log_level)
    markets = load_markets()
    if settings.symbol not in markets:
        raise SystemExit(f"unknown market {settings.symbol!r}; known: {', '.join(markets)}")
    redis: Redis = store.connect(settings.redis_url)
    service = EngineService(settings, redis, markets[settings.symbol].spec)
    tracing.configure(f"engine-{settings.symbol}")
    probes = await serve_probes(settings, service.metrics.registry, service.ready, service.refresh_metrics)
    stop = stop_event()
    tune_gc()
    try:
        await run_until_stopped(lambda: service.run(stop), stop, service.reset)
    except Fenced as exc:
        logging.getLogger("engine").error("%s; exiting, to start again as a standby", exc)
        raise SystemExit(LEASE_LOST_EXIT) from None
    finally:
        if probes is not None:
            await probes.stop()
        tracing.shutdown()
        await redis.aclose()


if __name__ == "__main__":
    uvloop.run(main())
