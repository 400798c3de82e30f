"""Process-level set-up shared by the long-running services."""

import asyncio
import contextlib
import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable

from exchange_core.unavailable import backend_unreachable

log = logging.getLogger("runtime")


def tune_gc() -> None:
    """Move what start-up allocated out of the collector's sight and collect young objects less
    often: hot loops allocate many short-lived objects and almost no cycles."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `stop` is set meanwhile. A cancellation always propagates
    (asyncio.timeout; Python 3.11's wait_for can swallow one that lands with the event)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


def stop_event() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (call inside the running loop)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_until_stopped(
    run: Callable[[], Awaitable[None]],
    stop: asyncio.Event,
    reset: Callable[[], None],
    *,
    first_delay_s: float = 0.2,
    max_delay_s: float = 5.0,
) -> None:
    """Run `run()` until it returns. When it fails because Redis or PostgreSQL cannot be reached
    (restarting, loading, a network cut, a socket timeout after a long pause), call `reset()` to
    forget in-memory state that may no longer match the backend, wait (from `first_delay_s`,
    doubling to `max_delay_s` while failures follow each other) and run it again: the process
    outlives a backend restart instead of exiting into the orchestrator's crash back-off.
    Any other exception propagates."""
    delay = first_delay_s
    while not stop.is_set():
        started = time.monotonic()
        try:
            await run()
            return
        except Exception as exc:
            if not backend_unreachable(exc):
                raise
            if time.monotonic() - started > 10 * max_delay_s:
                delay = first_delay_s
            log.warning("backend unreachable (%r); starting again in %.1f s", exc, delay)
        reset()
        await pause(stop, delay)
        delay = min(max_delay_s, delay * 2)
