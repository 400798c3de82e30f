"""`python -m ws`: serve Binance-compatible streams on HOST:PORT (127.0.0.1:8001) until SIGTERM.

While Redis cannot be reached (not up yet at start, restarting) the service waits and tries
again with back-off (exchange_core.runtime.run_until_stopped); /readyz answers 503 meanwhile."""

import asyncio
import contextlib
import logging
import signal

import uvloop

from exchange_core import store
from exchange_core.markets import load_markets
from exchange_core.runtime import run_until_stopped, tune_gc
from ws.server import WsServer
from ws.service import WsService
from ws.settings import WsSettings

log = logging.getLogger("ws")


async def main() -> None:
    settings = WsSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("websockets").setLevel(logging.WARNING)
    markets = load_markets()
    redis = store.connect(settings.redis_url, max_connections=64)
    service = WsService(settings, redis, markets)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tune_gc()
    try:
        async with WsServer(service).serve(settings.host, settings.port):
            log.info("ws listening on %s:%d", settings.host, settings.port)
            running = asyncio.create_task(run_until_stopped(service.run, stop, lambda: None))
            stopping = asyncio.create_task(stop.wait())
            done, _ = await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
            running.cancel()
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            if running in done and running.exception() is not None:
                raise running.exception()  # type: ignore[misc]
    finally:
        log.info("ws stopped; counters %s", service.counters)
        await redis.aclose()


if __name__ == "__main__":
    uvloop.run(main())
