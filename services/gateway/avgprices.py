"""Each market's average price for PERCENT_PRICE_BY_SIDE, as GET /api/v3/avgPrice computes it
(exchange_core.marketdb.avg_price over the last AVG_PRICE_MINS minutes), read from PostgreSQL at
most once per market per `ttl_ms`: the order path does not query the database per order.

Concurrent orders of one market while a value is being read wait for that one read.
"""

import asyncio
from collections.abc import Callable

import asyncpg

from exchange_core import marketdb
from exchange_core.clock import now_ms
from gateway.orderlimits import AVG_PRICE_MINS


class AveragePrices:
    """Cached average prices (quote units; None: no trade in the window)."""

    def __init__(self, pool: asyncpg.Pool, ttl_ms: int = 1_000, clock: Callable[[], int] = now_ms) -> None:
        self.pool = pool
        self.ttl_ms = ttl_ms
        self.clock = clock
        self._values: dict[str, tuple[int, asyncio.Future[int | None]]] = {}

    async def get(self, symbol: str) -> int | None:
        """The market's average price as of at most `ttl_ms` ago."""
        now = self.clock()
        cached = self._values.get(symbol)
        if cached is not None and now - cached[0] < self.ttl_ms:
            return await asyncio.shield(cached[1])
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._values[symbol] = (now, future)
        try:
            async with self.pool.acquire() as conn:
                value = await marketdb.avg_price(conn, symbol, now, AVG_PRICE_MINS)
        except Exception as exc:
            self._values.pop(symbol, None)
            future.set_exception(exc)
            future.exception()  # marked retrieved: the waiters re-raise it
            raise
        except BaseException:
            self._values.pop(symbol, None)
            future.cancel()
            raise
        future.set_result(value)
        return value
