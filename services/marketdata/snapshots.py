"""Loading a market's depth snapshot into its feed, shared by the ws tier and the gRPC streams."""

import asyncio
import logging
from collections.abc import Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from exchange_core import redisio
from exchange_core.keys import Keys
from marketdata.feed import SymbolFeed

log = logging.getLogger("marketdata.snapshots")


async def load_depth_snapshot(redis: Redis, keys: Keys, feed: SymbolFeed, in_use: Callable[[], bool]) -> None:
    """Read depth:{SYMBOL} into `feed`, retrying (with back-off) while Redis fails and `in_use()`."""
    delay = 0.1
    while in_use():
        try:
            raw = await redisio.get(redis, keys.depth(feed.symbol))
        except RedisError as exc:
            log.warning("%s: depth snapshot not read (%s), retrying", feed.symbol, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
            continue
        if in_use():
            feed.on_snapshot(raw)
        return
