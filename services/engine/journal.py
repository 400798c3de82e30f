"""Reading the command journal (cmd:{SYMBOL}) and the engine's snapshot and event positions."""

from dataclasses import dataclass
from typing import cast

from redis.asyncio import Redis

from exchange_core import redisio, tracing
from exchange_core.commandwire import JournalCommand, decode_command
from exchange_core.protocol import decode_events


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


async def read_after(redis: Redis, key: str, after: bytes, count: int, block_ms: int) -> list[redisio.Entry]:
    """Up to `count` entries of `key` after `after`, waiting up to `block_ms` for one (XREAD)."""
    result = await redis.xread({key: after}, count=count, block=block_ms)
    return cast(list[tuple[bytes, list[redisio.Entry]]], result)[0][1] if result else []


async def last_written_seq(redis: Redis, events_key: str) -> int:
    """The seq of the newest event in evt:{SYMBOL}, 0 when there is none."""
    entry = await redisio.newest(redis, events_key)
    if entry is None:
        return 0
    _, events, _ = decode_events(entry[1][b"e"])
    return events[-1].seq if events else 0
