"""Typed reads from Redis at one boundary.

Clients are created with `decode_responses=False`, so replies are bytes; redis-py's annotations
allow every reply shape, so the few reads whose shape we rely on are narrowed here.
"""

from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import ResponseError

Entry = tuple[bytes, dict[bytes, bytes]]
# A stream entry as Redis replies it, before redis-py's conversion: [id, [field, value, ...]].
ReplyEntry = list[Any]


def stream_entries(reply: Any) -> list[tuple[bytes, list[Entry]]]:
    """XREAD's reply as hiredis parses it (RESP2: [[stream, [[id, [field, value, ...]], ...]],
    ...] or None) in redis-py's shape: [(stream, [(id, {field: value}), ...]), ...]."""
    out: list[tuple[bytes, list[Entry]]] = []
    for stream, raw in reply or ():
        entries: list[Entry] = []
        for entry_id, flat in raw:
            entries.append((entry_id, dict(zip(flat[::2], flat[1::2], strict=True)) if flat else {}))
        out.append((stream, entries))
    return out


async def xrange(redis: Redis, key: str, after: bytes, count: int) -> list[Entry]:
    """Up to `count` stream entries with ids strictly after `after`."""
    return cast(list[Entry], await redis.xrange(key, min=b"(" + after, max=b"+", count=count))


async def newest(redis: Redis, key: str) -> Entry | None:
    entries = cast(list[Entry], await redis.xrevrange(key, count=1))
    return entries[0] if entries else None


async def xreadgroup(
    redis: Redis, group: str, consumer: str, streams: dict[str, str], count: int, block: int | None
) -> list[tuple[bytes, list[Entry]]]:
    result = await redis.xreadgroup(group, consumer, streams, count=count, block=block)  # type: ignore[arg-type]
    return cast(list[tuple[bytes, list[Entry]]], result or [])


async def hgetall(redis: Redis, key: str) -> dict[bytes, bytes]:
    return cast(dict[bytes, bytes], await redis.hgetall(key))


async def get(redis: Redis, key: str) -> bytes | None:
    return cast(bytes | None, await redis.get(key))


async def zrange_by_score(redis: Redis, key: str, max_score: int, count: int) -> list[tuple[bytes, float]]:
    """Up to `count` members scored at most `max_score`, lowest first, with their scores."""
    result = await redis.zrangebyscore(key, "-inf", max_score, start=0, num=count, withscores=True)
    return cast(list[tuple[bytes, float]], result)


async def hget(redis: Redis, key: str, field: str) -> bytes | None:
    return cast(bytes | None, await redis.hget(key, field))


async def zrange_between(redis: Redis, key: str, low: int | None, high: int | None) -> list[bytes]:
    """Sorted-set members scored within [low, high] (None: unbounded), lowest first."""
    bottom = "-inf" if low is None else low
    top = "+inf" if high is None else high
    return cast(list[bytes], await redis.zrangebyscore(key, bottom, top))


async def smembers(redis: Redis, key: str) -> set[bytes]:
    return cast(set[bytes], await redis.smembers(key))


async def zrange_members(
    redis: Redis,
    key: str,
    *,
    by_score_from: int | None = None,
    count: int | None = None,
    last: int | None = None,
) -> list[bytes]:
    """Sorted-set members: from score `by_score_from` upwards (at most `count`), or the `last` ones."""
    if by_score_from is not None:
        if count is None:
            return cast(list[bytes], await redis.zrangebyscore(key, by_score_from, "+inf"))
        return cast(list[bytes], await redis.zrangebyscore(key, by_score_from, "+inf", start=0, num=count))
    return cast(list[bytes], await redis.zrange(key, -(last or 0), -1))


async def zrange_ranks(redis: Redis, key: str, first: int, last: int) -> list[bytes]:
    """Sorted-set members of ranks `first` to `last` (both included, counted from 0)."""
    return cast(list[bytes], await redis.zrange(key, first, last))


async def zcard(redis: Redis, key: str) -> int:
    """Members of the sorted set `key` (0 when it does not exist)."""
    return int(await redis.zcard(key))


async def ensure_group(redis: Redis, stream: str, group: str, start: str | bytes = "0") -> bool:
    """Create consumer group `group` on `stream` (and the stream) at `start`; False if it existed."""
    try:
        await redis.xgroup_create(stream, group, id=start, mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
        return False
    return True


async def group_backlog(redis: Redis, stream: str, group: str) -> int:
    """Entries of `stream` that `group` has not acknowledged: not yet delivered (the group's lag)
    plus delivered and pending. 0 when the stream or the group does not exist yet; the lag
    counts as 0 when Redis cannot tell it (after deletions in the stream)."""
    try:
        groups = cast(list[dict[str, object]], await redis.xinfo_groups(stream))
    except ResponseError:
        return 0
    for info in groups:
        name = info["name"]
        if (name.decode() if isinstance(name, bytes) else name) == group:
            lag = info.get("lag")
            return int(cast(int, lag) or 0) + int(cast(int, info["pending"]))
    return 0
