"""The engine process of one market.

Reads cmd:{SYMBOL} in batches through a consumer group, applies each command to the matching
core, and per batch writes in one transaction (one round trip): the events to evt:{SYMBOL} with
the references of commands that wait for an answer (settlement sends it once their effects are
visible), one market-data message to md.{SYMBOL}, the depth snapshot, a periodic engine snapshot,
and the XACK. After every `snapshot_every_commands` commands (or `snapshot_every_ms`) a forked
child writes the engine snapshot (engine.snapshots) while the loop goes on. On start it recovers:
snapshot + replay of the journal after it, suppressing events whose seq is already in
evt:{SYMBOL}.
"""

import asyncio
import json
import logging
import time
from typing import Any

from redis.asyncio import Redis

from engine.journal import JournalCommand, decode_entry, last_written_seq, load_snapshot
from engine.settings import EngineSettings
from engine.snapshots import Landed, SnapshotWriter
from engine.telemetry import CommandSpans, EngineMetrics
from exchange_core import redisio, tracing
from exchange_core.keys import Keys
from exchange_core.streamids import entry_ms
from exchange_core.telemetry import redis_ready
from exchange_core.wire import encode_batch, encode_command_ref, encode_event, encode_market_data
from matching import BookDelta, Event, MarketSpec, MatchingEngine, Trade

log = logging.getLogger("engine")

REPLAY_CHUNK = 2_000


class EngineService:
    def __init__(self, settings: EngineSettings, redis: Redis, spec: MarketSpec) -> None:
        self.settings = settings
        self.redis = redis
        self.spec = spec
        self.symbol = spec.symbol
        keys = Keys(settings.key_prefix)
        self.cmd_key = keys.commands(self.symbol)
        self.evt_key = keys.events(self.symbol)
        self.snap_key = keys.snapshot(self.symbol)
        self.depth_key = keys.depth(self.symbol)
        self.md_channel = keys.market_data(self.symbol)
        self.engine = MatchingEngine(spec)
        self.last_id = b"0-0"
        self.written_seq = 0
        self.commands_since_snapshot = 0
        self.snapshot_due = time.monotonic() + settings.snapshot_every_ms / 1000
        self.snapshots = SnapshotWriter(
            redis, self.snap_key, self.cmd_key, settings.trim_journal, settings.snapshot_fork
        )
        self.processed = 0
        self.events_written = 0
        self.trades = 0
        self.recovered = False
        self.metrics = EngineMetrics(
            self.symbol, lambda: (self.processed, self.events_written, self.trades, self.written_seq)
        )

    # ------------------------------------------------------------------ recovery

    async def recover(self) -> int:
        """Rebuild the book from snapshot + journal; returns the number of commands replayed."""
        snap = await load_snapshot(self.redis, self.snap_key)
        if snap is not None:
            self.engine = MatchingEngine.restore(self.spec, snap.state)
            self.last_id = snap.command_id
            self.snapshots.set_landed(snap.command_id)
        self.written_seq = await last_written_seq(self.redis, self.evt_key)
        replayed = 0
        while True:
            entries = await redisio.xrange(self.redis, self.cmd_key, self.last_id, REPLAY_CHUNK)
            if not entries:
                break
            await self.process(entries, ack=False)
            replayed += len(entries)
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

    async def _reset_group(self) -> None:
        """Point the consumer group after the last replayed entry and ack what was pending."""
        if not await redisio.ensure_group(self.redis, self.cmd_key, self.settings.group, self.last_id):
            await self.redis.xgroup_setid(self.cmd_key, self.settings.group, id=self.last_id)
        while True:
            pending = await self.redis.xpending_range(
                self.cmd_key, self.settings.group, min="-", max="+", count=1000
            )
            if not pending:
                break
            await self.redis.xack(self.cmd_key, self.settings.group, *[p["message_id"] for p in pending])

    # ------------------------------------------------------------------ the loop

    async def run(self, stop: asyncio.Event) -> None:
        await self.recover()
        streams = {self.cmd_key: ">"}
        while not stop.is_set():
            result = await redisio.xreadgroup(
                self.redis,
                self.settings.group,
                self.settings.consumer,
                streams,
                count=self.settings.batch_size,
                block=self.settings.block_ms,
            )
            if result:
                await self.process(result[0][1], ack=True)
            self._snapshot_landed(self.snapshots.poll())
            if self.commands_since_snapshot and (
                self.commands_since_snapshot >= self.settings.snapshot_every_commands
                or time.monotonic() >= self.snapshot_due
            ):
                await self.snapshot()
        self._snapshot_landed(self.snapshots.poll(block=True))
        if self.commands_since_snapshot:
            self._snapshot_landed(await self.snapshots.write_inline(self.engine, self.last_id))
            self.commands_since_snapshot = 0

    async def process(self, entries: list[redisio.Entry], ack: bool) -> None:
        """Apply a batch of journal entries and write everything it caused in one transaction."""
        started = time.perf_counter()
        decoded = [decode_entry(entry_id, fields) for entry_id, fields in entries]
        fresh: list[Event] = []
        answers: list[tuple[JournalCommand, list[Event]]] = []
        applied = self.engine.apply_journal([jc.command for jc in decoded], self.written_seq)
        for jc, events in zip(decoded, applied, strict=True):
            if events:
                fresh.extend(events)
                if jc.reply_to:
                    answers.append((jc, events))
        self.last_id = decoded[-1].entry_id
        spans = traced = None
        if tracing.ENABLED:
            spans = CommandSpans(self.symbol, answers, started_ns(started), len(decoded))
            traced = spans.carriers
        pipe = self.redis.pipeline(transaction=True)
        if fresh:
            encoded = [encode_event(e) for e in fresh]
            refs = [
                encode_command_ref(
                    jc.entry_id.decode(),
                    jc.reply_to,
                    jc.correlation_id,
                    events[0].seq,
                    events[-1].seq,
                    traced.get(jc.entry_id) if traced else None,
                )
                for jc, events in answers
            ]
            pipe.xadd(self.evt_key, {"e": encode_batch(self.symbol, encoded, self.last_id.decode(), refs)})
            self.trades += self._publish_market_data(pipe, fresh, encoded)
            # With every md message, even when no level changed, so that REST depth's
            # lastUpdateId always chains with the diffs clients get.
            pipe.set(self.depth_key, self._depth_json(fresh[-1].seq))
        if ack:
            pipe.xack(self.cmd_key, self.settings.group, *[jc.entry_id for jc in decoded])
        await pipe.execute()
        if fresh:
            self.written_seq = fresh[-1].seq
            self.events_written += len(fresh)
        self.processed += len(decoded)
        self.commands_since_snapshot += len(decoded)
        # Only now: a snapshot must never hold effects whose events are not yet in evt:{SYMBOL}.
        if not ack and self.commands_since_snapshot >= self.settings.snapshot_every_commands:
            await self.snapshot()  # during recovery; the loop sees to it otherwise
        if spans is not None:
            spans.end()
        if ack:
            self.metrics.batch_done(len(decoded), time.perf_counter() - started, entry_ms(self.last_id))

    # ------------------------------------------------------------------ outputs

    def _publish_market_data(self, pipe: Any, events: list[Event], encoded: list[bytes]) -> int:
        """One md.{SYMBOL} message for the batch; returns the number of trades in it."""
        trades: list[bytes] = []
        bids: dict[int, int] = {}
        asks: dict[int, int] = {}
        for e, data in zip(events, encoded, strict=True):
            kind = type(e)
            if kind is Trade:
                trades.append(data)
            elif kind is BookDelta:
                bids.update(e.bids)  # type: ignore[union-attr]
                asks.update(e.asks)  # type: ignore[union-attr]
        md = encode_market_data(
            self.symbol,
            events[0].seq,
            events[-1].seq,
            events[-1].ts,
            trades,
            tuple(sorted(bids.items(), reverse=True)),
            tuple(sorted(asks.items())),
        )
        pipe.publish(self.md_channel, md)
        return len(trades)

    def _depth_json(self, update_id: int) -> bytes:
        bids, asks = self.engine.depth(self.settings.depth_levels)
        return json.dumps(
            {"lastUpdateId": update_id, "bids": bids, "asks": asks}, separators=(",", ":")
        ).encode()

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

    async def ready(self) -> bool:
        """Readiness: the book is recovered and Redis answers."""
        return self.recovered and await redis_ready(self.redis)

    async def refresh_metrics(self) -> None:
        await self.metrics.refresh_backlog(self.redis, self.cmd_key, self.settings.group)


def started_ns(perf_start: float) -> int:
    """The wall-clock time (ns since the epoch) of a `time.perf_counter()` reading."""
    return time.time_ns() - int((time.perf_counter() - perf_start) * 1e9)
