"""Each gateway process's view of the markets' trading statuses (exchange_core.marketstatus).

Read on every new order, so kept in memory: loaded at start-up, re-read for one market when its
symbol is published on `status-changed` (a Redis round trip after the admin's write: about a
millisecond), and re-read for every market each REFRESH_S, which bounds how long a process can
miss a change whose message it lost (pub/sub delivers at most once; a lost subscription is
renewed, but what was published meanwhile is gone).
"""

import asyncio
import contextlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from exchange_core.errors import FILTER_FAILURE, ApiError
from exchange_core.keys import Keys
from exchange_core.marketstatus import TRADING, MarketStatus, read_status, read_statuses
from exchange_core.pipelined import PipelinedRedis, listen
from gateway.responses import JsonObject

log = logging.getLogger("gateway.marketstatus")

REFRESH_S = 2.0
# Binance's answer to a new order in a market that is not trading (docs/admin.md).
MARKET_CLOSED_MSG = "Market is closed."


def market_closed() -> ApiError:
    return ApiError(FILTER_FAILURE, MARKET_CLOSED_MSG)


def status_json(symbol: str, status: MarketStatus) -> JsonObject:
    """A market's status as the admin API and the web page read it."""
    return {"symbol": symbol, "status": status.status.value, "reason": status.reason, "since": status.since}


class MarketStatuses:
    """The statuses of `symbols`, kept current by `start` until `stop`."""

    def __init__(self, redis: Redis, keys: Keys, symbols: list[str], refresh_s: float = REFRESH_S) -> None:
        self.redis = redis
        self.keys = keys
        self.symbols = list(symbols)
        self.refresh_s = refresh_s
        self._statuses: dict[str, MarketStatus] = {}
        # Reads are numbered as they start; a full refresh keeps a market's newer single read.
        self._reads = 0
        self._read_of: dict[str, int] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._pending: set[asyncio.Task[None]] = set()

    def get(self, symbol: str) -> MarketStatus:
        return self._statuses.get(symbol, TRADING)

    def ensure_trading(self, symbol: str) -> None:
        """Raises {-1013, "Market is closed."} unless `symbol` is TRADING."""
        if symbol in self._statuses and not self._statuses[symbol].trading:
            raise market_closed()

    async def start(self) -> None:
        """Load every status, then follow changes (subscribed before this returns)."""
        subscribed = asyncio.Event()
        self._tasks.append(asyncio.create_task(self._listen(subscribed)))
        await asyncio.wait_for(subscribed.wait(), timeout=10)
        await self.refresh()
        self._tasks.append(asyncio.create_task(self._refresh_every()))

    async def stop(self) -> None:
        for task in [*self._tasks, *self._pending]:
            task.cancel()
        for task in [*self._tasks, *self._pending]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def refresh(self) -> None:
        """Re-read every market's status (a market re-read since this began keeps that read)."""
        self._reads += 1
        started = self._reads
        read = await read_statuses(self.redis, self.keys, self.symbols)
        for symbol, status in read.items():
            if self._read_of.get(symbol, 0) < started:
                self._statuses[symbol] = status

    async def _refresh_every(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.refresh()
            except (RedisError, OSError) as exc:
                log.warning("cannot refresh market statuses (%r); keeping the last known", exc)

    async def _listen(self, subscribed: asyncio.Event) -> None:
        server = PipelinedRedis.like(self.redis)
        channel = self.keys.market_status_channel()
        await listen(server, channel, self._changed, subscribed, name="market-status")

    def _changed(self, data: bytes) -> None:
        symbol = data.decode(errors="replace")
        if symbol in self.symbols:
            task = asyncio.create_task(self.reread(symbol))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def snapshot(self) -> dict[str, MarketStatus]:
        """Every market's status as this process applies it now."""
        return {symbol: self.get(symbol) for symbol in self.symbols}

    async def reread(self, symbol: str) -> None:
        """Read `symbol`'s status again (a Redis error is logged: the next refresh retries)."""
        self._reads += 1
        self._read_of[symbol] = self._reads
        try:
            status = await read_status(self.redis, self.keys, symbol)
        except (RedisError, OSError) as exc:
            log.warning("cannot read %s's status (%r); the next refresh will", symbol, exc)
            return
        if status != self._statuses.get(symbol, TRADING):
            log.info("market %s is now %s (%s)", symbol, status.status, status.reason or "no reason given")
        self._statuses[symbol] = status
