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


async def test_revoking_an_api_key_closes_the_listen_keys_it_opened_or_kept_alive(
    redis: "Redis[bytes]", keys: Keys
) -> None:
    opened = [await listenkeys.create(redis, keys, 7, "KEY-A") for _ in range(2)]
    by_session = await listenkeys.create(redis, keys, 7)
    other = await listenkeys.create(redis, keys, 7, "KEY-B")
    assert await listenkeys.keepalive(redis, keys, other, "KEY-A")  # now KEY-A's too
    assert await listenkeys.close_of_api_key(redis, keys, "KEY-A") == 3
    assert [await listenkeys.user_of(redis, keys, k) for k in (*opened, other)] == [None, None, None]
    assert await listenkeys.user_of(redis, keys, by_session) == 7
    assert not await redis.exists(keys.api_key_listen_keys("KEY-A"))
    assert await listenkeys.close_of_api_key(redis, keys, "KEY-A") == 0
    assert await redis.ttl(keys.api_key_listen_keys("KEY-B")) > 3500


async def test_an_api_keys_set_forgets_listen_keys_that_are_gone(redis: "Redis[bytes]", keys: Keys) -> None:
    made = [await listenkeys.create(redis, keys, 7, "KEY-C") for _ in range(listenkeys.PRUNE_AT)]
    for key in made:
        await listenkeys.close(redis, keys, key)
    alive = await listenkeys.create(redis, keys, 7, "KEY-C")
    assert await redis.smembers(keys.api_key_listen_keys("KEY-C")) == {alive.encode()}
