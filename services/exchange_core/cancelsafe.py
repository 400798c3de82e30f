"""`asyncio.wait_for` that never loses a cancellation, on every Python this project runs.

Python 3.11's `wait_for` returns its awaitable's result when the caller is cancelled in the
loop turn that awaitable completes in (bpo-42130): the caller goes on as if never cancelled.
Libraries call it on every command (redis-py's `send_packed_command` with a socket timeout), so
a task cancelled while it sends (a market's settlement task stopped beside a failed one) ran on,
and whoever awaited its end waited forever. Python 3.12 rebuilt `wait_for` on `asyncio.timeout`,
which re-raises such a cancellation; `install()` gives 3.11 the same.
"""

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def wait_for(aw: Awaitable[T], timeout: float | None) -> T:
    """The awaitable's result; TimeoutError after `timeout` seconds (its task, if any, is then
    cancelled); a cancellation of the caller always propagates (as Python 3.12's)."""
    async with asyncio.timeout(timeout):
        return await aw


def install() -> None:
    """Replace `asyncio.wait_for` by `wait_for` before Python 3.12 (callers look it up at each
    call, so every library in the process gets it)."""
    if sys.version_info < (3, 12):
        asyncio.wait_for = wait_for  # type: ignore[assignment]
