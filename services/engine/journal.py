"""Reading the command journal (cmd:{SYMBOL}) and the engine's snapshot and event positions."""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from exchange_core import redisio, tracing
from exchange_core.commandwire import JournalCommand, decode_command
from exchange_core.pipelined import PipelinedRedis
from exchange_core.protocol import decode_events
from exchange_core.store import is_cluster

# A batch of journal entries, as redis-py converts them or as Redis replies them.
JournalEntries = list[redisio.Entry] | list[redisio.ReplyEntry]


def decode_entry(entry_id: bytes, fields: dict[bytes, bytes]) -> JournalCommand:
    """The command of one journal entry (its trace context only while tracing is on)."""
    return decode_command(entry_id, fields[b"c"], tracing.ENABLED)


@dataclass(frozen=True, slots=True)
class Snapshot:
    state: bytes
    command_id: bytes
    seq: int


async def load_snapshot(redis: Redis, key: str) -> Snapshot | None:
    raw = await redisio.hgetall(redis, key)
    if not raw:
        return None
    return Snapshot(raw[b"state"], raw[b"command_id"], int(raw[b"seq"]))


class JournalReader:
    """Reads the journal for `read_after`. On one Redis: XREAD on a hiredis connection of its own
    (exchange_core.pipelined; a blocking read holds it, nothing else waits behind), whose answer
    is Redis's reply as it came: the engine decodes each entry's [id, [field, value, ...]]
    itself, without a client library's layers per call or a tuple and a dict of every entry.
    On a cluster: the cluster client's XREAD (its answers converted; `read_after` takes both)."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.connection = None if is_cluster(redis) else PipelinedRedis.like(redis)

    async def read(self, key: str, after: bytes, count: int, block_ms: int | None) -> JournalEntries:
        if self.connection is None:
            result = await self.redis.xread({key: after}, count=count, block=block_ms)
            if not result:
                return []
            if isinstance(result, dict):  # RESP3: a map of the one stream to its entries
                return cast(JournalEntries, next(iter(result.values())))
            return cast(JournalEntries, result[0][1])
        command: list[str | bytes | int] = ["XREAD", "COUNT", count]
        if block_ms is not None:
            command += ["BLOCK", block_ms]
        reply = await self.connection.execute(*command, "STREAMS", key, after)
        return cast(JournalEntries, reply[0][1]) if reply else []

    async def aclose(self) -> None:
        if self.connection is not None:
            await self.connection.aclose()


def journal_reader(redis: Redis) -> JournalReader:
    """The reader of the journal on `redis` (see JournalReader)."""
    return JournalReader(redis)


async def read_after(
    reader: JournalReader, key: str, after: bytes, count: int, block_ms: int | None = None
) -> JournalEntries:
    """Up to `count` entries of `key` after `after`, waiting up to `block_ms` for one (XREAD;
    without `block_ms`, none: what is there now). Each entry as Redis replied it, or as the
    cluster client converted it (`commandwire.decode_commands` takes both)."""
    return await reader.read(key, after, count, block_ms)


class ReadAhead:
    """The journal's next batch, asked for before the current one is processed: while the
    engine works on a batch, Redis reads the next one. Used only after a full batch (the journal
    is backlogged), so a read ahead never waits for new entries."""

    def __init__(self) -> None:
        self._next: asyncio.Task[JournalEntries] | None = None

    def pending(self) -> bool:
        return self._next is not None

    async def start(self, read: Awaitable[JournalEntries]) -> None:
        """Send `read` now (it runs until it waits for Redis's answer)."""
        self._next = asyncio.ensure_future(read)
        await asyncio.sleep(0)

    async def take(self) -> JournalEntries:
        """The batch read ahead (call only when `pending()`)."""
        assert self._next is not None
        ahead, self._next = self._next, None
        return await ahead

    def cancel(self) -> None:
        if self._next is not None:
            self._next.cancel()
            self._next = None


async def last_written_seq(redis: Redis, events_key: str) -> int:
    """The seq of the newest event in evt:{SYMBOL}, 0 when there is none."""
    entry = await redisio.newest(redis, events_key)
    if entry is None:
        return 0
    _, events, _ = decode_events(entry[1][b"e"])
    return events[-1].seq if events else 0
