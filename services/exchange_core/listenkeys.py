"""User data stream listen keys (Binance's POST/PUT/DELETE /api/v3/userDataStream).

A listen key is an opaque random token stored as `{prefix}listenKey:{key}` -> user id with a
60-minute time to live; a keepalive restarts the 60 minutes. The gateway creates and extends
keys, the WebSocket tier resolves them and closes a user's stream once its key is gone.

A listen key opened or kept alive with an API key is remembered in that API key's set
(`apiKeyListenKeys:<api key>`, living as long as its newest listen key could), so that revoking
the API key closes them (`close_of_api_key`); one opened from a web session has no API key.
"""

import secrets

from redis.asyncio import Redis

from exchange_core import redisio
from exchange_core.keys import Keys

TTL_S = 3600
KEY_BYTES = 32  # 64 hex characters, like Binance's 60-odd character keys
# An API key's set is pruned of listen keys that are gone once it holds more than this.
PRUNE_AT = 16


def looks_like_key(text: str) -> bool:
    """Whether `text` has the shape of a key made by `create` (cheap check before any lookup)."""
    return len(text) == 2 * KEY_BYTES and all(c in "0123456789abcdef" for c in text)


async def create(redis: Redis, keys: Keys, user_id: int, api_key: str | None = None) -> str:
    """A new listen key for `user_id`, valid for TTL_S seconds; closed early when `api_key` (the
    caller's, None for a web session) is revoked."""
    key = secrets.token_hex(KEY_BYTES)
    await redis.set(keys.listen_key(key), user_id, ex=TTL_S)
    if api_key is not None:
        await _remember(redis, keys, api_key, key)
    return key


async def keepalive(redis: Redis, keys: Keys, key: str, api_key: str | None = None) -> bool:
    """Extend `key` by TTL_S seconds from now; False when it does not exist (expired or closed).
    With `api_key` (the caller's), revoking that API key closes the listen key too."""
    alive = bool(await redis.expire(keys.listen_key(key), TTL_S))
    if alive and api_key is not None:
        await _remember(redis, keys, api_key, key)
    return alive


async def close_of_api_key(redis: Redis, keys: Keys, api_key: str) -> int:
    """Close every listen key that `api_key` opened or kept alive; returns how many existed."""
    owned = keys.api_key_listen_keys(api_key)
    members = await redisio.smembers(redis, owned)
    closed = 0
    for member in members:  # one DEL each: the keys need not share a Redis Cluster slot
        closed += int(await redis.delete(keys.listen_key(member.decode())))
    await redis.delete(owned)
    return closed


async def _remember(redis: Redis, keys: Keys, api_key: str, key: str) -> None:
    owned = keys.api_key_listen_keys(api_key)
    await redis.sadd(owned, key)
    await redis.expire(owned, TTL_S)
    if await redis.scard(owned) > PRUNE_AT:
        for member in await redisio.smembers(redis, owned):
            if not await redis.exists(keys.listen_key(member.decode())):
                await redis.srem(owned, member)


async def close(redis: Redis, keys: Keys, key: str) -> bool:
    """Invalidate `key` at once; False when it did not exist."""
    return bool(await redis.delete(keys.listen_key(key)))


async def user_of(redis: Redis, keys: Keys, key: str) -> int | None:
    """The user id behind `key`, or None when it is unknown or expired."""
    if not looks_like_key(key):
        return None
    raw = await redis.get(keys.listen_key(key))
    return int(raw) if raw is not None else None
