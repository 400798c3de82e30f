"""A worker taking a market's partition (exchange_core.partitions) sets its consumer group at the
recorded position with the exact number of entries read so far, even while the engine appends:
the group's lag is then the backlog, and reaches 0 once the worker has recorded the last entry
(a lag stuck at 1 after a takeover made "caught up" unreachable)."""

import asyncio

from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.partitions import PartitionSettings, StreamPartitions
from tests import services

SYMBOL = "BTCUSDT"
TAKES = 30


async def _take_while_appending(redis_url: str) -> None:
    keys = Keys(services.new_prefix())
    redis = Redis.from_url(redis_url)
    stream = keys.events(SYMBOL)
    settings = PartitionSettings(claim_after_ms=0, worker_index=0, workers=1)
    appending = True
    go = asyncio.Event()  # appends while set; the checks clear it
    idle = asyncio.Event()  # set while the appender waits for `go`

    async def append() -> None:
        writer = Redis.from_url(redis_url)
        try:
            while appending:
                if not go.is_set():
                    idle.set()
                    await go.wait()
                    idle.clear()
                await writer.xadd(stream, {"e": b"x"})
                await asyncio.sleep(0)
        finally:
            await writer.aclose()

    await redis.xadd(stream, {"e": b"x"})
    appender = asyncio.create_task(append())
    try:
        for _ in range(TAKES):
            partitions = StreamPartitions(redis, keys, [SYMBOL], "dbwriter", "dbwriter", settings)
            go.set()
            assert await partitions.claim() == [SYMBOL]  # while entries are appended
            go.clear()
            await idle.wait()
            newest = (await redis.xrevrange(stream, count=1))[0][0]
            position = partitions.positions[SYMBOL][0]
            caught_up = len(await redis.xrange(stream, min=b"(" + position, max=newest))
            await partitions.record(SYMBOL, newest, caught_up)  # as if it wrote them
            group = {g["name"]: g for g in await redis.xinfo_groups(stream)}[b"dbwriter"]
            added = int((await redis.xinfo_stream(stream))["entries-added"])
            later = len(await redis.xrange(stream, min=b"(" + newest, max="+"))
            assert group["entries-read"] == added - later, (group, added, later)
            assert group["lag"] == later
            await partitions.release_all()
    finally:
        appending = False
        go.set()
        await appender
        await services.delete_prefix(keys.prefix)
        await redis.aclose()


def test_a_taken_partition_counts_its_entries_read_exactly_while_entries_are_appended(redis_url: str) -> None:
    asyncio.run(_take_while_appending(redis_url))
