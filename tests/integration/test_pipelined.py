"""The auto-pipelined connection against the real Redis: order, errors, many concurrent callers,
connection loss and reconnection."""

import asyncio
import contextlib

import pytest
from redis.asyncio import Redis

from exchange_core.pipelined import PipelinedRedis, ReplyError, listen


async def test_replies_reach_their_callers_in_order(redis_url: str, key_prefix: str) -> None:
    fast = PipelinedRedis(redis_url)
    key = f"{key_prefix}counter"
    try:
        # 2,000 concurrent INCRs, issued in one loop iteration: each sees its own value.
        futures = [fast.execute("INCR", key) for _ in range(2_000)]
        assert await asyncio.gather(*futures) == list(range(1, 2_001))
        assert await fast.execute("GET", key) == b"2000"
        assert await fast.execute("GET", f"{key_prefix}missing") is None
        await fast.execute("RPUSH", f"{key_prefix}list", "a", b"b", 3)
        assert await fast.execute("LRANGE", f"{key_prefix}list", 0, -1) == [b"a", b"b", b"3"]
    finally:
        await fast.aclose()


async def test_connect_opens_the_connection_before_any_command(redis_url: str) -> None:
    fast = PipelinedRedis(redis_url)
    try:
        assert not fast.connected
        await fast.connect()
        assert fast.connected
        await fast.connect()  # open already: nothing
        assert await fast.execute("PING") == b"PONG"
    finally:
        await fast.aclose()


async def test_an_error_reply_fails_only_its_own_command(redis_url: str, key_prefix: str) -> None:
    fast = PipelinedRedis(redis_url)
    try:
        await fast.execute("SET", f"{key_prefix}s", "text")
        before = fast.execute("GET", f"{key_prefix}s")
        wrong = fast.execute("INCR", f"{key_prefix}s")
        after = fast.execute("SET", f"{key_prefix}t", "1")
        assert await before == b"text"
        with pytest.raises(ReplyError, match="not an integer"):
            await wrong
        assert await after == b"OK"
        with pytest.raises(ReplyError, match="NOSCRIPT"):
            await fast.execute("EVALSHA", "0" * 40, 0)
    finally:
        await fast.aclose()


async def test_a_lost_connection_fails_commands_in_flight_and_the_next_reconnects(
    redis_url: str, redis: "Redis[bytes]", key_prefix: str
) -> None:
    fast = PipelinedRedis(redis_url)
    try:
        connection_id = await fast.execute("CLIENT", "ID")
        blocked = fast.execute("BLPOP", f"{key_prefix}never", 10)  # in flight while the server drops us
        await asyncio.sleep(0.1)
        assert await redis.execute_command("CLIENT", "KILL", "ID", connection_id) == 1
        with pytest.raises(ConnectionError):
            await blocked
        assert await fast.execute("SET", f"{key_prefix}k", "v") == b"OK"  # a new connection
        assert await redis.get(f"{key_prefix}k") == b"v"
    finally:
        await fast.aclose()


async def test_like_a_client_uses_its_database(redis_url: str, key_prefix: str) -> None:
    client: Redis = Redis.from_url(redis_url.rsplit("/", 1)[0] + "/3")
    fast = PipelinedRedis.like(client)
    try:
        await fast.execute("SET", f"{key_prefix}db3", "here")
        assert await client.get(f"{key_prefix}db3") == b"here"
        assert b"db=3" in await fast.execute("CLIENT", "INFO")
    finally:
        await client.delete(f"{key_prefix}db3")
        await fast.aclose()
        await client.aclose()


def test_it_runs_on_uvloop(redis_url: str, key_prefix: str) -> None:
    """The gateway's event loop is uvloop, whose transports are not asyncio's classes."""
    import uvloop

    async def roundtrip() -> bytes:
        fast = PipelinedRedis(redis_url)
        try:
            await fast.execute("SET", f"{key_prefix}uv", "loop")
            reply: bytes = await fast.execute("GET", f"{key_prefix}uv")
            return reply
        finally:
            await fast.aclose()

    async def bounded() -> bytes:
        return await asyncio.wait_for(roundtrip(), 5)

    assert uvloop.run(bounded()) == b"loop"


async def test_listen_delivers_and_resubscribes_after_a_lost_connection(
    redis_url: str, redis: "Redis[bytes]", key_prefix: str
) -> None:
    channel = f"{key_prefix}replies"
    got: list[bytes] = []
    ready = asyncio.Event()
    name = f"{key_prefix}listener"
    task = asyncio.create_task(listen(PipelinedRedis(redis_url), channel, got.append, ready, name=name))
    try:
        await asyncio.wait_for(ready.wait(), 5)
        assert await redis.publish(channel, b"\x00one") == 1
        for _ in range(50):
            if got:
                break
            await asyncio.sleep(0.02)
        assert got == [b"\x00one"]
        # Drop the subscriber's connection: it subscribes again and gets what is published next.
        ready.clear()
        clients = await redis.execute_command("CLIENT", "LIST", "TYPE", "pubsub")
        (ours,) = [line for line in clients.decode().splitlines() if f" name={name} " in line]
        connection_id = dict(f.split("=", 1) for f in ours.split(" ") if "=" in f)["id"]
        assert await redis.execute_command("CLIENT", "KILL", "ID", connection_id) == 1
        await asyncio.wait_for(ready.wait(), 5)
        assert await redis.publish(channel, b"two") == 1
        for _ in range(50):
            if len(got) == 2:
                break
            await asyncio.sleep(0.02)
        assert got == [b"\x00one", b"two"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
