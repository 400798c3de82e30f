"""Workers that share the markets' event streams under leases (settlement, the DB processor).

Worker `index()` of `workers` takes the `role` leases of the markets at positions index,
index + workers, ... of the market list, and claims any market whose lease nobody has held for
`claim_after_ms` (its own worker is gone). Per held market it keeps a position in evt:{SYMBOL}:
the last entry whose effects it has written, recorded in the role's consumer group (XGROUP SETID
with ENTRIESREAD, so the group's lag stays the backlog) through the lease's fence. Entries are
read with XREAD after a position: reading takes nothing from anybody, so a paused former holder
cannot hide entries from its successor, which starts at the recorded position. docs/leases.md.
"""

import asyncio
import logging
import re
import socket
import time
from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis

from exchange_core import redisio, store
from exchange_core.keys import Keys
from exchange_core.lease import Command, Lease, LeaseSettings
from exchange_core.pipelined import PipelinedRedis
from exchange_core.streamids import entry_before, stream_id

log = logging.getLogger("exchange_core.partitions")

# The entries of a stream up to and including `position` (ARGV[1]), as XGROUP SETID's ENTRIESREAD
# wants them: counted in one step, so that an entry appended meanwhile cannot leave the group's
# lag one short of zero forever.
_ENTRIES_READ = """
local after = #redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+')
local info = redis.call('XINFO', 'STREAM', KEYS[1])
for i = 1, #info, 2 do
  if info[i] == 'entries-added' then return info[i + 1] - after end
end
return redis.error_reply('XINFO STREAM without entries-added')
"""


class PartitionSettings(LeaseSettings):
    """WORKERS, WORKER_INDEX, CLAIM_AFTER_MS of a worker sharing the markets."""

    workers: int = 1
    # -1: the ordinal at the end of the host name (a StatefulSet pod "settlement-2" is worker 2),
    # else 0.
    worker_index: int = -1
    # Any worker claims a market whose lease nobody has held for this long; 0: only its own.
    claim_after_ms: int = 10_000

    def index(self) -> int:
        """This worker's index among `workers`."""
        workers = max(1, self.workers)
        if self.worker_index >= 0:
            return self.worker_index % workers
        ordinal = re.search(r"-(\d+)$", socket.gethostname())
        return int(ordinal.group(1)) % workers if ordinal else 0


class StreamPartitions:
    """The markets whose `role` lease this worker holds, and its position in each one's events."""

    def __init__(
        self, redis: Redis, keys: Keys, symbols: list[str], role: str, group: str, settings: PartitionSettings
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.role = role
        self.group = group
        self.claim_after_s = settings.claim_after_ms / 1000
        self.poll_s = settings.lease_poll_ms / 1000
        index, workers = settings.index(), max(1, settings.workers)
        self.own = {s for i, s in enumerate(symbols) if i % workers == index}
        self.symbols = {keys.events(s): s for s in symbols}  # stream -> symbol
        self.leases = {s: Lease(redis, keys, s, role, settings) for s in symbols}
        self.positions: dict[str, tuple[bytes, int]] = {}  # held market -> (entry id, entries read)
        self.keepers: dict[str, asyncio.Task[None]] = {}
        self.free_since: dict[str, float] = {}
        # One Redis: each market's blocking XREAD on a hiredis connection of its own (a blocked
        # read holds its connection), made when first needed.
        self.readers: dict[str, PipelinedRedis] = {}
        self.one_redis = not store.is_cluster(redis)

    def held(self) -> list[str]:
        return list(self.positions)

    def token(self, symbol: str) -> int:
        return self.leases[symbol].token

    async def claim(self) -> list[str]:
        """Take the leases of this worker's markets that are free, and of other markets free for
        `claim_after_ms`; returns the markets taken."""
        now, taken = time.monotonic(), []
        for symbol, lease in self.leases.items():
            if symbol in self.positions:
                continue
            if symbol not in self.own:
                if not self.claim_after_s or await self.redis.exists(lease.key):
                    self.free_since.pop(symbol, None)
                    continue
                if now - self.free_since.setdefault(symbol, now) < self.claim_after_s:
                    continue
            if await lease.try_acquire():
                await self._take(symbol)
                taken.append(symbol)
        return taken

    async def _take(self, symbol: str) -> None:
        """Start at the group's position, or before the first entry that a worker of an older
        version (reading through the group) left pending."""
        stream = self.keys.events(symbol)
        await redisio.ensure_group(self.redis, stream, self.group)
        info = {g["name"]: g for g in await self.redis.xinfo_groups(stream)}[self.group.encode()]
        position: bytes = info["last-delivered-id"]
        waiting = await self.redis.xpending_range(stream, self.group, "-", "+", 10_000)
        pending = [cast(bytes, p["message_id"]) for p in waiting]
        if pending:
            position = entry_before(min(pending, key=stream_id))
        read = int(await self.redis.eval(_ENTRIES_READ, 1, stream, position))
        commands: list[Command] = [("XGROUP", "SETID", stream, self.group, position, "ENTRIESREAD", read)]
        if pending:
            commands.append(("XACK", stream, self.group, *pending))
        lease = self.leases[symbol]
        await lease.write([stream], commands)
        self.positions[symbol] = (position, read)
        self.keepers[symbol] = asyncio.create_task(lease.keep())
        log.info(
            "%s: %s of %s from %s (token %d)", lease.holder, self.role, symbol, position.decode(), lease.token
        )

    def drop(self, symbol: str) -> None:
        """Stop working on `symbol` (its lease is lost, or the worker resets)."""
        self.positions.pop(symbol, None)
        keeper = self.keepers.pop(symbol, None)
        if keeper is not None:
            keeper.cancel()

    def drop_fenced(self, symbol: str, why: str) -> None:
        """Leave `symbol` after one of its writes was refused by a higher token outside `write`
        (e.g. settle.lua's own fence): the lease counts as lost, as a refused renewal would."""
        self.leases[symbol].lose(why)
        self.drop(symbol)

    def drop_lost(self) -> list[str]:
        """Drop the markets whose lease passed to another holder (a renewal or write refused, or
        Redis unreachable past the TTL); returns them. A late renewal that Redis accepts keeps a
        market: its writes are fenced either way."""
        lost = [s for s in self.positions if self.leases[s].lost.is_set()]
        for symbol in lost:
            log.warning("%s: %s lease lost; leaving the market to its new holder", symbol, self.role)
            self.drop(symbol)
        return lost

    async def release_all(self) -> None:
        """Drop every market and release its lease (a clean stop: others need not wait the TTL),
        and close the markets' read connections."""
        readers, self.readers = self.readers, {}
        for reader in readers.values():
            await reader.aclose()
        for symbol in list(self.positions):
            self.drop(symbol)
            try:
                await self.leases[symbol].release()
            except Exception as exc:  # the lease then runs out with its TTL
                log.warning("%s: releasing the %s lease failed: %r", symbol, self.role, exc)

    async def read(
        self, after: dict[str, bytes], count: int, block: int | None
    ) -> list[tuple[str, list[redisio.Entry]]]:
        """Up to `count` entries per market after `after[symbol]`, waiting up to `block` ms. One
        market on one Redis is read on its own hiredis connection (`readers`)."""
        streams: dict[Any, Any] = {self.keys.events(s): position for s, position in after.items()}
        if not streams:
            return []
        if len(streams) == 1 and self.one_redis:
            ((symbol, position),) = after.items()
            reader = self.readers.get(symbol)
            if reader is None:
                reader = self.readers[symbol] = PipelinedRedis.like(self.redis)
            command: list[str | bytes | int] = ["XREAD", "COUNT", count]
            if block is not None:
                command += ["BLOCK", block]
            command += ["STREAMS", self.keys.events(symbol), position]
            return self._entries(redisio.stream_entries(await reader.execute(*command)))
        if len(streams) > 1 and store.is_cluster(self.redis):
            return await self._read_each(streams, count, block)
        return self._entries(await self.redis.xread(streams, count=count, block=block))

    async def _read_each(
        self, streams: dict[Any, Any], count: int, block: int | None
    ) -> list[tuple[str, list[redisio.Entry]]]:
        """On a cluster the markets' streams are in different slots and one XREAD reads one slot:
        read each stream without waiting; when all are empty, wait on all at once until the first
        one has entries (the other reads are cancelled)."""
        reads = [self.redis.xread({stream: position}, count=count) for stream, position in streams.items()]
        out = [entry for result in await asyncio.gather(*reads) for entry in self._entries(result)]
        if out or not block:
            return out
        waits = {
            asyncio.ensure_future(self.redis.xread({stream: position}, count=count, block=block))
            for stream, position in streams.items()
        }
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return [entry for task in done for entry in self._entries(task.result())]

    def _entries(self, result: Any) -> list[tuple[str, list[redisio.Entry]]]:
        out = []
        for stream, entries in cast(list[tuple[bytes, list[redisio.Entry]]], result or []):
            if entries:
                out.append((self.symbols[stream.decode()], entries))
        return out

    async def record(
        self,
        symbol: str,
        entry_id: bytes,
        count: int,
        extra: Sequence[Command] = (),
        extra_keys: Sequence[str] = (),
        via: PipelinedRedis | None = None,
    ) -> None:
        """Move `symbol`'s position to `entry_id`, `count` entries on (with `extra` commands
        writing `extra_keys` of the market's slot) through the fence: raises Fenced once the
        lease is another worker's. `via`: sent on that auto-pipelined connection (Lease.write)."""
        stream = self.keys.events(symbol)
        _, read = self.positions.get(symbol, (b"0-0", 0))
        read += count
        commands: list[Command] = [
            ("XGROUP", "SETID", stream, self.group, entry_id, "ENTRIESREAD", read),
            *extra,
        ]
        await self.leases[symbol].write([stream, *extra_keys], commands, via)
        if symbol in self.positions:
            self.positions[symbol] = (entry_id, read)
