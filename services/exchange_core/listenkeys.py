"""User data stream listen keys (Binance's POST/PUT/DELETE /api/v3/userDataStream).

A listen key is an opaque random token stored as `{prefix}listenKey:{key}` -> user id with a
60-minute time to live; a keepalive restarts the 60 minutes. The gateway creates and extends
keys, the WebSocket tier resolves them and closes a user's stream once its key is gone.
"""

import secrets

from redis.asyncio import Redis

from exchange_core.keys import Keys

TTL_S = 3600
KEY_BYTES = 32  # 64 hex characters, like Binance's 60-odd character keys


def looks_like_key(text: str) -> bool:
    """Whether `text` has the shape of a key made by `create` (cheap check before any lookup)."""
    return len(text) == 2 * KEY_BYTES and all(c in "0123456789abcdef" for c in text)


async def create(redis: Redis, keys: Keys, user_id: int) -> str:
    """A new listen key for `user_id`, valid for TTL_S seconds."""
    key = secrets.token_hex(KEY_BYTES)
    await redis.set(keys.listen_key(key), user_id, ex=TTL_S)
    return key


async def keepalive(redis: Redis, keys: Keys, key: str) -> bool:
    """Extend `key` by TTL_S seconds from now; False when it does not exist (expired or closed)."""
    return bool(await redis.expire(keys.listen_key(key), TTL_S))


async def close(redis: Redis, keys: Keys, key: str) -> bool:
    """Invalidate `key` at once; False when it did not exist."""
    return bool(await redis.delete(keys.listen_key(key)))


async def user_of(redis: Redis, keys: Keys, key: str) -> int | None:
    """The user id behind `key`, or None when it is unknown or expired."""
    if not looks_like_key(key):
        return None
    raw = await redis.get(keys.listen_key(key))
    return int(raw) if raw is not None else None
