"""Listen keys in real Redis: create, resolve, keep alive, close."""

from redis.asyncio import Redis

from exchange_core import listenkeys
from exchange_core.keys import Keys


async def test_listen_key_lifecycle(redis: "Redis[bytes]", keys: Keys) -> None:
    key = await listenkeys.create(redis, keys, 42)
    assert listenkeys.looks_like_key(key) and key != await listenkeys.create(redis, keys, 42)
    assert await listenkeys.user_of(redis, keys, key) == 42
    assert 3500 < await redis.ttl(keys.listen_key(key)) <= listenkeys.TTL_S
    await redis.expire(keys.listen_key(key), 10)
    assert await listenkeys.keepalive(redis, keys, key)
    assert await redis.ttl(keys.listen_key(key)) > 3500
    assert await listenkeys.close(redis, keys, key)
    assert await listenkeys.user_of(redis, keys, key) is None
    assert not await listenkeys.keepalive(redis, keys, key)
    assert not await listenkeys.close(redis, keys, key)
    assert await listenkeys.user_of(redis, keys, "not-a-key") is None
