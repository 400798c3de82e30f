"""`python -m marketmaker`: quote every market until SIGTERM/SIGINT, then cancel every quote."""

import asyncio
import logging
import signal

import uvloop

from botkit.client import ExchangeClient
from botkit.startup import parse_start_prices
from botkit.telemetry import stats_registry
from exchange_core.telemetry import serve_probes
from marketmaker.maker import MarketMaker
from marketmaker.settings import MarketMakerSettings

METRICS_PREFIX = "exchange_marketmaker"


async def always_ready() -> bool:
    """The bot has no dependency of its own to check: the gateway's readiness covers it."""
    return True


async def main() -> int:
    settings = MarketMakerSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not settings.mm_api_key or not settings.mm_api_secret:
        raise SystemExit("MM_API_KEY and MM_API_SECRET are required (the launcher creates them)")
    try:
        parse_start_prices(settings.mm_start_prices)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    client = ExchangeClient(
        settings.gateway_url, settings.mm_api_key, settings.mm_api_secret, settings.mm_request_timeout_seconds
    )
    maker = MarketMaker(settings, client)
    probes = await serve_probes(settings, stats_registry(maker.stats, METRICS_PREFIX), always_ready)
    try:
        left = await maker.run(stop)
    finally:
        if probes is not None:
            await probes.stop()
        await client.aclose()
    return 1 if left else 0


if __name__ == "__main__":
    raise SystemExit(uvloop.run(main()))
