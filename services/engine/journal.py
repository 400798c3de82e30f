"""Reading the command journal (cmd:{SYMBOL}) and the engine's snapshot and event positions."""

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, cast

from redis.asyncio import Redis

from exchange_core import redisio, tracing
from exchange_core.commandwire import JournalCommand, decode_command
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


def journal_reader(redis: Redis) -> Redis:
    """A client for `read_after` on `redis`'s connections, whose XREAD answers are Redis's reply
    as it came: the engine decodes each entry's [id, [field, value, ...]] itself, without
    redis-py making a tuple and a dict of every entry first. A cluster client is returned as it
    is (its answers are converted; `read_after` takes both)."""
    if is_cluster(redis):
        return redis
    reader = Redis(connection_pool=redis.connection_pool)
    reader.set_response_callback("XREAD", _as_sent)
    return reader


def _as_sent(response: Any, **options: Any) -> Any:
    return response


async def read_after(
    redis: Redis, key: str, after: bytes, count: int, block_ms: int | None = None
) -> JournalEntries:
    """Up to `count` entries of `key` after `after`, waiting up to `block_ms` for one (XREAD;
    without `block_ms`, none: what is there now). Each entry as converted by redis-py or, from
    a `journal_reader`, as Redis replied it (`commandwire.decode_commands` takes both)."""
    result = await redis.xread({key: after}, count=count, block=block_ms)
    if not result:
        return []
    if isinstance(result, dict):  # RESP3: a map of the one stream to its entries
        return cast(JournalEntries, next(iter(result.values())))
    return cast(JournalEntries, result[0][1])


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
