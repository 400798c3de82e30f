"""The engine process of one market.

Reads cmd:{SYMBOL} in batches after the last applied entry (XREAD), applies each command to the
matching core, and per batch writes in one atomic step (one round trip, lease.lua): the events to
evt:{SYMBOL} with the references of commands that wait for an answer (settlement sends it once
their effects are visible), one market-data message to md.{SYMBOL}, the depth snapshot, and the
`engine` group's position (XGROUP SETID: the group shows the engine's backlog). After every
`snapshot_every_commands` commands (or `snapshot_every_ms`) a forked child writes the engine
snapshot (engine.snapshots) while the loop goes on. On start it recovers: snapshot + replay of
the journal after it, suppressing events whose seq is already in evt:{SYMBOL}.

One writer per market: the engine runs its loop only while it holds the market's engine lease
(exchange_core.lease), and every batch write and snapshot goes through the lease's fence, so an
engine that lost the lease (paused, cut off) cannot write after its successor started. Losing it
raises Fenced out of `run` (the process exits; its supervisor starts it again as a standby). An
engine started while another holds the lease is a standby: it writes nothing, and with
`hot_standby` keeps its book at the point the holder has written (snapshot, then the commands
up to the newest evt:{SYMBOL} batch's command id), so that taking over replays only the rest.
"""

import asyncio
import json
import logging
import time
from typing import cast

import orjson
from redis.asyncio import Redis

from engine.journal import (
    JournalEntries,
    ReadAhead,
    journal_reader,
    last_written_seq,
    load_snapshot,
    read_after,
)
from engine.outputs import BatchOutputs, batch_outputs
from engine.settings import EngineSettings
from engine.snapshots import Landed, SnapshotWriter
from engine.telemetry import CommandSpans, EngineMetrics
from exchange_core import redisio, store, tracing
from exchange_core.commandwire import decode_commands
from exchange_core.keys import Keys
from exchange_core.lease import Command, Fenced, Lease
from exchange_core.lease_telemetry import LeaseCollector
from exchange_core.linger import LingeredCollector, linger
from exchange_core.pipelined import PipelinedRedis
from exchange_core.protocol import decode_events
from exchange_core.runtime import pause
from exchange_core.streamids import entry_ms, stream_id
from exchange_core.telemetry import redis_ready
from matching import MarketSpec, MatchingEngine

log = logging.getLogger("engine")

REPLAY_CHUNK = 2_000


class EngineService:
    def __init__(self, settings: EngineSettings, redis: Redis, spec: MarketSpec) -> None:
        self.settings = settings
        self.redis = redis
        self.reader = journal_reader(redis)
        self.spec = spec
        self.symbol = spec.symbol
        keys = Keys(settings.key_prefix)
        self.cmd_key = keys.commands(self.symbol)
        self.evt_key = keys.events(self.symbol)
        self.snap_key = keys.snapshot(self.symbol)
        self.depth_key = keys.depth(self.symbol)
        self.batch_keys = [self.evt_key, self.depth_key, self.cmd_key]
        self.md_channel = keys.market_data(self.symbol)
        self.publish = store.publish_command(redis)
        self.engine = MatchingEngine(spec)
        self.last_id = b"0-0"
        self.written_seq = 0
        self.commands_since_snapshot = 0
        self.snapshot_due = time.monotonic() + settings.snapshot_every_ms / 1000
        self.lease = Lease(redis, keys, self.symbol, "engine", settings)
        # A batch's write goes on a hiredis connection on one Redis (through the cluster
        # client's pool on a cluster): a client library's layers cost more than the write.
        self.writer = None if store.is_cluster(redis) else PipelinedRedis.like(redis)
        self.snapshots = SnapshotWriter(
            redis, self.lease, self.snap_key, self.cmd_key, settings.trim_journal, settings.snapshot_fork
        )
        self.entries_read = 0  # entries of cmd:{SYMBOL} ever added up to last_id (the group's count)
        self.following = False  # a hot standby's book: snapshot + the commands the holder wrote
        self.standing_by = False
        self.processed = 0
        self.events_written = 0
        self.trades = 0
        self.recovered = False
        self.metrics = EngineMetrics(
            self.symbol, lambda: (self.processed, self.events_written, self.trades, self.written_seq)
        )
        self.metrics.registry.register(LeaseCollector(lambda: [self.lease]))
        self.linger = linger(settings)
        self.metrics.registry.register(
            LingeredCollector("exchange_engine_lingered_reads", {self.symbol: self.linger})
        )

    # ------------------------------------------------------------------ recovery

    async def recover(self) -> int:
        """Rebuild the book from snapshot + journal; returns the number of commands replayed."""
        snap = await load_snapshot(self.redis, self.snap_key)
        if snap is not None:
            self.snapshots.set_landed(snap.command_id)
            # A hot standby's book is newer, unless the journal it followed was trimmed past it.
            if not self.following or stream_id(snap.command_id) > stream_id(self.last_id):
                self.engine = MatchingEngine.restore(self.spec, snap.state)
                self.last_id = snap.command_id
        self.following = False
        self.written_seq = await last_written_seq(self.redis, self.evt_key)
        await redisio.ensure_group(self.redis, self.cmd_key, self.settings.group, self.last_id)
        replayed, looked_twice = 0, False
        ahead = ReadAhead()
        try:
            while True:
                if ahead.pending():
                    entries = await ahead.take()
                else:
                    entries = await redisio.xrange(self.redis, self.cmd_key, self.last_id, REPLAY_CHUNK)
                if entries:
                    if len(entries) >= REPLAY_CHUNK:
                        await ahead.start(
                            redisio.xrange(self.redis, self.cmd_key, entries[-1][0], REPLAY_CHUNK)
                        )
                    await self.process(entries, ack=False)
                    replayed += len(entries)
                    looked_twice = False
                    continue
                # At the journal's end (gateways may be appending): how many entries it ever had.
                info = await self.redis.xinfo_stream(self.cmd_key)
                if info["last-generated-id"] in (self.last_id, b"0-0") or looked_twice:
                    self.entries_read = int(info["entries-added"])
                    break
                looked_twice = True
        finally:
            ahead.cancel()
        await self._reset_group()
        self.recovered = True
        log.info(
            "%s recovered: snapshot at %s, %d commands replayed, seq %d, state %s",
            self.symbol,
            snap.command_id.decode() if snap else "none",
            replayed,
            self.engine.seq,
            self.engine.state_hash()[:16],
        )
        return replayed

    def _position(self) -> Command:
        """Move the `engine` group to the last applied entry: the group shows the engine's
        progress (its lag is the backlog) without delivering entries to anybody."""
        return (
            "XGROUP",
            "SETID",
            self.cmd_key,
            self.settings.group,
            self.last_id,
            "ENTRIESREAD",
            self.entries_read,
        )

    async def _reset_group(self) -> None:
        """Point the consumer group at the last replayed entry and ack what an engine of an older
        version (reading through the group) left pending."""
        group = self.settings.group
        await self.lease.write([self.cmd_key], [self._position()])
        while True:
            pending = await self.redis.xpending_range(self.cmd_key, group, min="-", max="+", count=1000)
            if not pending:
                break
            ids = [p["message_id"] for p in pending]
            await self.lease.write([self.cmd_key], [("XACK", self.cmd_key, group, *ids)])

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        """Wait as a standby until the market's lease is this engine's, then recover and run the
        loop until `stop` (the lease is then released). Raises Fenced when the lease is lost."""
        if not await self.stand_by(stop):
            return
        keeper = asyncio.create_task(self.lease.keep())
        failure = ""
        try:
            await self.recover()
            await self._loop(stop)
        except Exception as exc:
            if isinstance(exc, Fenced) or self.lease.held() or not await self._lease_refused():
                raise
            failure = repr(exc)
        finally:
            keeper.cancel()
        if failure:  # after a pause or a cut the lease passed to another engine: not a retry
            raise Fenced(f"{self.symbol}: the engine lease passed on ({failure})")
        await self.lease.release()

    async def _lease_refused(self) -> bool:
        """Whether Redis refuses to renew the lease (another engine holds it now); False when it
        renews it, or cannot be asked."""
        try:
            return not await self.lease.renew()
        except Exception:
            return False

    async def stand_by(self, stop: asyncio.Event) -> bool:
        """Until the lease is this engine's (True) or `stop` is set (False): ask for it every
        `lease_poll_ms`, following the holder's progress meanwhile when `hot_standby`."""
        if self.lease.held():
            return True
        while not stop.is_set():
            if await self.lease.try_acquire():
                self.standing_by = False
                return True
            if not self.standing_by:
                log.info("%s: standby (the lease is held by another engine)", self.symbol)
                self.standing_by = True
            if self.settings.hot_standby:
                await self.follow()
            await pause(stop, self.lease.poll_s)
        return False

    async def follow(self) -> int:
        """A hot standby's step: apply the journal up to the command of the newest batch the
        holder wrote to evt:{SYMBOL}, writing nothing. Returns the number of commands applied."""
        snap_at = cast(bytes | None, await self.redis.hget(self.snap_key, "command_id"))
        if snap_at and stream_id(snap_at) > stream_id(self.last_id):
            self.following = False  # the journal before the snapshot may be trimmed: start from it
        if not self.following:
            snap = await load_snapshot(self.redis, self.snap_key)
            self.engine = MatchingEngine(self.spec)
            self.last_id = b"0-0"
            if snap is not None:
                self.engine = MatchingEngine.restore(self.spec, snap.state)
                self.last_id = snap.command_id
            self.following = True
        newest = await redisio.newest(self.redis, self.evt_key)
        if newest is None:
            return 0
        upto = stream_id(decode_events(newest[1][b"e"])[2].encode())
        applied = 0
        while stream_id(self.last_id) < upto:
            entries = await redisio.xrange(self.redis, self.cmd_key, self.last_id, REPLAY_CHUNK)
            entries = [e for e in entries if stream_id(e[0]) <= upto]
            if not entries:
                break
            self.engine.apply_journal(decode_commands(entries, False)[1], 0)
            self.last_id = entries[-1][0]
            applied += len(entries)
        return applied

    async def _loop(self, stop: asyncio.Event) -> None:
        """Read the journal after the last applied entry (XREAD: reading takes nothing from
        anybody, so a paused former holder that reads again cannot hide entries from its
        successor) and process it batch by batch, until `stop` or the lease is lost (a renewal
        or a write refused). A pause past the TTL alone is no loss: if nobody took the lease
        meanwhile, the next renewal or write holds it again with the same token.

        Redis works while the engine does: while the journal is backlogged (a full batch read),
        the next batch's read is sent before this batch is processed, and a batch's write is
        sent without waiting for its answer, which comes while the next batch is applied. Writes
        stay in order, one in flight at a time (the next is sent after the previous one's
        answer), and a snapshot is taken only with none in flight, so it never holds effects
        whose events are not in evt:{SYMBOL}. A write that fails (fenced, or Redis gone) ends the
        loop; what was applied after it is in memory only, and recovery rebuilds the book."""
        lost = self.lease.lost
        batch = self.settings.batch_size
        ahead = ReadAhead()
        writing: asyncio.Future[None] | None = None
        last_read = 0
        try:
            while not stop.is_set():
                if lost.is_set():
                    raise Fenced(f"{self.symbol}: the engine lease was lost")
                if ahead.pending():
                    entries = await ahead.take()
                else:
                    if writing is not None:  # nothing backlogged: let the write land first
                        await writing
                        writing = None
                    if wait := self.linger.delay(last_read, batch):  # saturated CPUs: batch more
                        await asyncio.sleep(wait)
                    entries = await read_after(
                        self.reader, self.cmd_key, self.last_id, batch, self.settings.block_ms
                    )
                last_read = len(entries)
                if entries:
                    if len(entries) >= batch:
                        await ahead.start(read_after(self.reader, self.cmd_key, entries[-1][0], batch))
                    prepared = self.prepare(entries, ack=True)
                    if writing is not None:
                        await writing
                    writing = asyncio.ensure_future(self.commit(prepared))
                    await asyncio.sleep(0)  # send it: its answer comes while the next batch is applied
                self._snapshot_landed(self.snapshots.poll())
                if self.commands_since_snapshot and (
                    self.commands_since_snapshot >= self.settings.snapshot_every_commands
                    or time.monotonic() >= self.snapshot_due
                ):
                    if writing is not None:
                        await writing
                        writing = None
                    await self.snapshot()
            if writing is not None:
                await writing
                writing = None
        except BaseException:
            if writing is not None:
                writing.cancel()
            raise
        finally:
            ahead.cancel()
        self._snapshot_landed(self.snapshots.poll(block=True))
        if self.commands_since_snapshot:
            self._snapshot_landed(await self.snapshots.write_inline(self.engine, self.last_id))
            self.commands_since_snapshot = 0

    async def process(self, entries: JournalEntries, ack: bool) -> None:
        """Apply a batch of journal entries and write everything it caused in one transaction."""
        await self.commit(self.prepare(entries, ack))
        # Only now: a snapshot must never hold effects whose events are not yet in evt:{SYMBOL}.
        if not ack and self.commands_since_snapshot >= self.settings.snapshot_every_commands:
            await self.snapshot()  # during recovery; the loop sees to it otherwise

    def prepare(self, entries: JournalEntries, ack: bool) -> "PreparedBatch":
        """Apply a batch of journal entries to the book and build its one write (`commit` sends
        it); the engine's position moves past the batch."""
        started = time.perf_counter()
        journal, commands = decode_commands(entries, tracing.ENABLED)
        applied = self.engine.apply_journal(commands, self.written_seq)
        self.last_id = journal[-1].entry_id
        spans = None
        if tracing.ENABLED:
            answers = [
                (jc, events) for jc, events in zip(journal, applied, strict=True) if events and jc.reply_to
            ]
            spans = CommandSpans(self.symbol, answers, started_ns(started), len(journal))
        outputs = batch_outputs(
            self.symbol, journal, applied, self.last_id.decode(), spans.carriers if spans else None
        )
        writes: list[Command] = []
        if outputs is not None:
            writes.append(("XADD", self.evt_key, "*", "e", outputs.events_entry))
            writes.append((self.publish, self.md_channel, outputs.market_data))
            # With every md message, even when no level changed, so that REST depth's
            # lastUpdateId always chains with the diffs clients get.
            writes.append(("SET", self.depth_key, self._depth_json(outputs.last_seq)))
        self.entries_read += len(journal)
        if ack:
            writes.append(self._position())
        return PreparedBatch(started, self.last_id, len(journal), writes, outputs, spans, ack)

    async def commit(self, batch: "PreparedBatch") -> None:
        """Send a prepared batch's write (fenced by the lease) and count it once Redis took it."""
        if batch.writes:
            await self.lease.write(self.batch_keys, batch.writes, via=self.writer)
        outputs = batch.outputs
        if outputs is not None:
            self.written_seq = outputs.last_seq
            self.events_written += outputs.events
            self.trades += outputs.trades
        self.processed += batch.commands
        self.commands_since_snapshot += batch.commands
        if batch.spans is not None:
            batch.spans.end()
        if batch.ack:
            seconds = time.perf_counter() - batch.started
            self.metrics.batch_done(batch.commands, seconds, entry_ms(batch.last_id))

    # ------------------------------------------------------------------ outputs

    def _depth_json(self, update_id: int) -> bytes:
        bids, asks = self.engine.depth(self.settings.depth_levels)
        return depth_json({"lastUpdateId": update_id, "bids": bids, "asks": asks})

    async def snapshot(self) -> None:
        """Snapshot the book as it is now (the last batch written): in a forked child unless one
        is still running, in which case the next batch tries again."""
        if self.snapshots.busy:
            return
        self.commands_since_snapshot = 0
        self.snapshot_due = time.monotonic() + self.settings.snapshot_every_ms / 1000
        if self.snapshots.fork:
            self.snapshots.begin(self.engine, self.last_id)
        else:
            self._snapshot_landed(await self.snapshots.write_inline(self.engine, self.last_id))

    def _snapshot_landed(self, landed: Landed | None) -> None:
        if landed is not None:
            self.metrics.snapshot_done(landed.ok, landed.seconds)

    def reset(self) -> None:
        """Forget the in-memory book: the next `run()` rebuilds it from what Redis holds (after a
        Redis restart that may be less than this process had seen)."""
        self.snapshots.abandon()
        self.engine = MatchingEngine(self.spec)
        self.last_id = b"0-0"
        self.written_seq = 0
        self.commands_since_snapshot = 0
        self.recovered = False
        self.following = False

    async def ready(self) -> bool:
        """Readiness: the book is recovered (or the engine stands by: a pod that is a standby
        is doing its job) and Redis answers."""
        return (self.recovered or self.standing_by) and await redis_ready(self.redis)

    async def refresh_metrics(self) -> None:
        await self.metrics.refresh_backlog(self.redis, self.cmd_key, self.settings.group)


def depth_json(depth: dict[str, object]) -> bytes:
    """`depth` as compact JSON: the bytes of `json.dumps(depth, separators=(",", ":"))`, written
    by orjson (several times faster) unless a number is past its 64 bits."""
    try:
        return orjson.dumps(depth)
    except TypeError:  # orjson.JSONEncodeError: an integer out of its range
        return json.dumps(depth, separators=(",", ":")).encode()


def started_ns(perf_start: float) -> int:
    """The wall-clock time (ns since the epoch) of a `time.perf_counter()` reading."""
    return time.time_ns() - int((time.perf_counter() - perf_start) * 1e9)


class PreparedBatch:
    """A batch applied to the book, its write not sent yet: what `EngineService.commit` sends
    and counts."""

    def __init__(
        self,
        started: float,
        last_id: bytes,
        commands: int,
        writes: list[Command],
        outputs: BatchOutputs | None,
        spans: CommandSpans | None,
        ack: bool,
    ) -> None:
        self.started = started
        self.last_id = last_id
        self.commands = commands
        self.writes = writes
        self.outputs = outputs
        self.spans = spans
        self.ack = ack
