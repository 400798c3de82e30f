"""The engine's metrics (labelled with its market's symbol) and the spans of traced commands.

Counts the loop keeps as plain integers (commands, events, trades, seq) are read at scrape time;
per batch the loop observes two LoopHistograms and sets one number. The backlog of
cmd:{SYMBOL} is asked of Redis at scrape time.
"""

import time
from collections.abc import Callable, Iterable

from opentelemetry.trace import Span, set_span_in_context
from redis.asyncio import Redis

from exchange_core import redisio, tracing
from exchange_core.commandwire import JournalCommand
from exchange_core.telemetry import (
    AttributeCollector,
    Exported,
    ExportedHistogram,
    LoopHistogram,
    new_registry,
)
from matching import Event

BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
SECONDS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class EngineMetrics:
    """`counts()` gives (commands, events, trades, seq) of the engine, read at scrape time. The
    loop's per-batch figures go into plain numbers (no lock: one event loop thread)."""

    def __init__(self, symbol: str, counts: Callable[[], tuple[int, int, int, int]]) -> None:
        self.registry = new_registry()
        self.batch_commands = LoopHistogram(BATCH_BUCKETS)
        self.batch_seconds = LoopHistogram(SECONDS_BUCKETS)
        self.command_age = 0.0
        self.backlog = 0
        self.snapshots = {True: 0, False: 0}
        self.snapshot_seconds = 0.0

        def count(i: int) -> Callable[[], float]:
            return lambda: counts()[i]

        collector = AttributeCollector(
            [
                Exported("exchange_engine_commands", "counter", "Commands applied.", count(0)),
                Exported("exchange_engine_events", "counter", "Events written to evt:{SYMBOL}.", count(1)),
                Exported("exchange_engine_trades", "counter", "Trades (matches) executed.", count(2)),
                Exported("exchange_engine_seq", "gauge", "The last event sequence number written.", count(3)),
                ExportedHistogram(
                    "exchange_engine_batch_commands", "Commands per batch.", self.batch_commands
                ),
                ExportedHistogram(
                    "exchange_engine_batch_duration_seconds",
                    "Time to apply a batch of commands and write everything it caused (one round trip).",
                    self.batch_seconds,
                ),
                Exported(
                    "exchange_engine_command_age_seconds",
                    "gauge",
                    "Age of the newest command of the last batch when its outputs were written: time in "
                    "the stream plus processing.",
                    lambda: self.command_age,
                ),
                Exported(
                    "exchange_engine_snapshots",
                    "counter",
                    "Engine snapshots written to snap:{SYMBOL}.",
                    lambda: self.snapshots[True],
                ),
                Exported(
                    "exchange_engine_snapshot_failures",
                    "counter",
                    "Engine snapshots that failed to be written (the next one retries).",
                    lambda: self.snapshots[False],
                ),
                Exported(
                    "exchange_engine_snapshot_duration_seconds",
                    "gauge",
                    "Time the last snapshot took to encode and write (off the command loop when forked).",
                    lambda: self.snapshot_seconds,
                ),
                Exported(
                    "exchange_engine_backlog_commands",
                    "gauge",
                    "Commands in cmd:{SYMBOL} not yet acknowledged by the engine (read at scrape time).",
                    lambda: self.backlog,
                ),
            ],
            {"symbol": symbol},
        )
        self.registry.register(collector)

    def batch_done(self, commands: int, seconds: float, newest_ms: int) -> None:
        self.batch_commands.observe(commands)
        self.batch_seconds.observe(seconds)
        self.command_age = max(0.0, time.time() - newest_ms / 1000)

    def snapshot_done(self, ok: bool, seconds: float) -> None:
        self.snapshots[ok] += 1
        if ok:
            self.snapshot_seconds = seconds

    async def refresh_backlog(self, redis: Redis, stream: str, group: str) -> None:
        self.backlog = await redisio.group_backlog(redis, stream, group)


class CommandSpans:
    """One `engine apply` span per traced command of a batch, each the child of the gateway's
    span (the command's trace context); `carriers` holds each span's context by entry id, for
    the command's CommandRef, so that settlement's spans follow the engine's."""

    def __init__(
        self, symbol: str, answers: Iterable[tuple[JournalCommand, list[Event]]], start_ns: int, batch: int
    ) -> None:
        self.spans: list[Span] = []
        self.carriers: dict[bytes, dict[str, str]] = {}
        for jc, events in answers:
            if not jc.trace_context:
                continue
            span = tracing.command_span(
                "engine",
                "apply",
                symbol,
                jc.entry_id.decode(),
                jc.trace_context,
                start_ns,
                command=type(jc.command).__name__,
                first_seq=events[0].seq,
                last_seq=events[-1].seq,
                batch_commands=batch,
            )
            self.spans.append(span)
            carrier = tracing.carrier(set_span_in_context(span))
            if carrier:
                self.carriers[jc.entry_id] = carrier

    def end(self) -> None:
        for span in self.spans:
            span.end()
