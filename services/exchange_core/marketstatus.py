"""A market's trading status (exchangeInfo's `status`), shared by every process through Redis.

`status:{SYM}` holds the status an admin set, as JSON `{"status", "reason", "since"}`; no key
means TRADING. A change writes the key and then publishes the symbol on `status-changed`, so
readers re-read the key (the message carries no state: the key is the truth, and a reader that
missed a message catches up on its next full read). The key carries the market's hash tag, so it
lives in the market's slot on a Redis Cluster.

While a market is not TRADING (HALT or BREAK), new orders are refused with Binance's
{-1013, "Market is closed."}; cancels and queries work (docs/admin.md).
"""

import enum
import json
from dataclasses import dataclass

from redis.asyncio import Redis

from exchange_core import redisio, store
from exchange_core.keys import Keys


class TradingStatus(enum.StrEnum):
    """The statuses an admin can set (Binance's names for a symbol's status)."""

    TRADING = "TRADING"
    HALT = "HALT"
    BREAK = "BREAK"


@dataclass(frozen=True, slots=True)
class MarketStatus:
    status: TradingStatus = TradingStatus.TRADING
    # Why it is not trading, in words for people (the web page shows it); empty when trading.
    reason: str = ""
    # When the status was set, ms since the epoch (0: never set).
    since: int = 0

    @property
    def trading(self) -> bool:
        return self.status is TradingStatus.TRADING

    def encode(self) -> bytes:
        return json.dumps({"status": self.status.value, "reason": self.reason, "since": self.since}).encode()

    @classmethod
    def decode(cls, raw: bytes | None) -> "MarketStatus":
        """The stored status; TRADING for no key."""
        if raw is None:
            return TRADING
        stored = json.loads(raw)
        reason, since = str(stored.get("reason", "")), int(stored.get("since", 0))
        return cls(TradingStatus(stored["status"]), reason, since)


TRADING = MarketStatus()


async def read_status(redis: Redis, keys: Keys, symbol: str) -> MarketStatus:
    return MarketStatus.decode(await redisio.get(redis, keys.market_status(symbol)))


async def read_statuses(redis: Redis, keys: Keys, symbols: list[str]) -> dict[str, MarketStatus]:
    """Every market's status in one round trip (a pipeline of GETs, one slot each)."""
    async with redis.pipeline(transaction=False) as pipe:
        for symbol in symbols:
            pipe.get(keys.market_status(symbol))
        raws: list[bytes | None] = await pipe.execute()
    return {symbol: MarketStatus.decode(raw) for symbol, raw in zip(symbols, raws, strict=True)}


async def write_status(redis: Redis, keys: Keys, symbol: str, status: MarketStatus) -> None:
    """Store `status` for `symbol` (TRADING deletes the key) and tell every reader."""
    if status.trading:
        await redis.delete(keys.market_status(symbol))
    else:
        await redis.set(keys.market_status(symbol), status.encode())
    # a cluster's gateways listen with SSUBSCRIBE (exchange_core.store)
    await store.publish(redis, keys.market_status_channel(), symbol)
