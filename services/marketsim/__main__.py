"""`python -m marketsim`: simulate every market until SIGTERM/SIGINT, then cancel every resting order."""

import asyncio
import logging
import signal

import uvloop

from botkit.startup import parse_start_prices
from botkit.telemetry import stats_registry
from exchange_core.telemetry import serve_probes
from marketsim.settings import SimSettings
from marketsim.simulation import MarketSimulation

METRICS_PREFIX = "exchange_marketsim"


async def always_ready() -> bool:
    """The simulation has no dependency of its own to check: the gateway's readiness covers it."""
    return True


async def main() -> int:
    settings = SimSettings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        parse_start_prices(settings.sim_start_prices)
        simulation = MarketSimulation(settings)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    registry = stats_registry(simulation.stats, METRICS_PREFIX)
    registry.register(simulation.scenario_counts)
    probes = await serve_probes(settings, registry, always_ready)
    try:
        left = await simulation.run(stop)
    finally:
        if probes is not None:
            await probes.stop()
        await simulation.aclose()
    return 1 if left else 0


if __name__ == "__main__":
    raise SystemExit(uvloop.run(main()))
