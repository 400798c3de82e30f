"""Each market's average price for PERCENT_PRICE_BY_SIDE, as GET /api/v3/avgPrice computes it
(exchange_core.marketdb.avg_price over the last AVG_PRICE_MINS minutes), read from PostgreSQL at
most once per market per `ttl_ms`: the order path does not query the database per order.

Concurrent orders of one market while a value is being read wait for that one read. A database
that does not answer (down, slow) gives no average: the filter is skipped rather than the order
refused, as the order path does not otherwise depend on PostgreSQL.
"""

import asyncio
import logging
from collections.abc import Callable

import asyncpg

from exchange_core import marketdb
from exchange_core.clock import now_ms
from gateway.orderlimits import AVG_PRICE_MINS

log = logging.getLogger(__name__)


class AveragePrices:
    """Cached average prices (quote units; None: no trade in the window)."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        ttl_ms: int = 1_000,
        timeout_s: float = 0.5,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.pool = pool
        self.ttl_ms = ttl_ms
        self.timeout_s = timeout_s
        self.clock = clock
        self._values: dict[str, tuple[int, asyncio.Future[int | None]]] = {}

    async def get(self, symbol: str) -> int | None:
        """The market's average price as of at most `ttl_ms` ago; None also when the database
        cannot answer within `timeout_s` (the filter is then not applied: the order path does
        not depend on PostgreSQL)."""
        now = self.clock()
        cached = self._values.get(symbol)
        if cached is not None and now - cached[0] < self.ttl_ms:
            if cached[1].done():  # the common case: no shield (a future and a callback) per order
                return cached[1].result()
            return await asyncio.shield(cached[1])
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._values[symbol] = (now, future)
        try:
            value = await self._read(symbol, now)
        except BaseException:  # this request was cancelled: the others go on without an average
            self._values.pop(symbol, None)
            future.set_result(None)
            raise
        future.set_result(value)
        return value

    async def _read(self, symbol: str, now: int) -> int | None:
        try:
            async with asyncio.timeout(self.timeout_s), self.pool.acquire() as conn:
                return await marketdb.avg_price(conn, symbol, now, AVG_PRICE_MINS)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("%s: no average price (%r): PERCENT_PRICE_BY_SIDE not applied", symbol, exc)
            return None
