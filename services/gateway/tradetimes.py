"""A user's trades of one market by time (myTrades with startTime/endTime), read from Redis.

The user's trades of a market are a sorted set scored by trade id, and a market's trade ids rise
with their times (one engine numbers and stamps them in order), so the trades of a time range
are one run of ranks: found by a binary search over ranks (one one-member read per step), then
read as one range. New trades only ever join at the top, so a search stays valid while they do.
"""

from redis.asyncio import Redis

from exchange_core import redisio
from exchange_core.records import TradeRecord


async def _ranks(redis: Redis, key: str, first: int, last: int) -> list[TradeRecord]:
    return [TradeRecord.decode(r) for r in await redisio.zrange_ranks(redis, key, first, last)]


async def first_rank_at(redis: Redis, key: str, time_ms: int) -> int:
    """The rank of the first trade of `key` stamped at or after `time_ms` (the count when none)."""
    low, high = 0, await redisio.zcard(redis, key)
    while low < high:
        middle = (low + high) // 2
        member = await redisio.zrange_ranks(redis, key, middle, middle)
        if not member or TradeRecord.decode(member[0]).time >= time_ms:
            high = middle
        else:
            low = middle + 1
    return low


async def trades_between(
    redis: Redis, key: str, start_time: int | None, end_time: int | None, limit: int
) -> list[TradeRecord]:
    """Binance's combinations, oldest first: with `start_time` the oldest `limit` trades from it
    (none after `end_time` when given); with `end_time` alone the newest `limit` up to it. Needs
    one of the two times."""
    if start_time is not None:
        first = await first_rank_at(redis, key, start_time)
        trades = await _ranks(redis, key, first, first + limit - 1)
        return [t for t in trades if end_time is None or t.time <= end_time]
    assert end_time is not None, "trades_between needs a start or an end time"
    after = await first_rank_at(redis, key, end_time + 1)
    if after == 0:
        return []
    return await _ranks(redis, key, max(0, after - limit), after - 1)
