"""Process-level set-up shared by the long-running services."""

import asyncio
import gc
import logging
import signal


def tune_gc() -> None:
    """Move what start-up allocated out of the collector's sight and collect young objects less
    often: hot loops allocate many short-lived objects and almost no cycles."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")


def stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop
