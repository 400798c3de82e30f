"""Settlement's metrics (per market) and the spans of traced commands."""

import time
from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram
from redis.asyncio import Redis

from exchange_core import redisio, tracing
from exchange_core.telemetry import new_registry
from exchange_proto import events_pb2 as epb

SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class SettlementMetrics:
    def __init__(self, symbols: Iterable[str]) -> None:
        self.registry = r = new_registry()
        self.entries = Counter(
            "exchange_settlement_entries", "Engine batches settled.", ["symbol"], registry=r
        )
        self.events = Counter("exchange_settlement_events", "Events settled.", ["symbol"], registry=r)
        self.seconds = Histogram(
            "exchange_settlement_batch_duration_seconds",
            "Time to settle one read of a market's events: ledger scripts, replies, user updates, ack.",
            ["symbol"],
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "exchange_settlement_lag_seconds",
            "Time from the engine writing the last settled batch to settlement finishing it.",
            ["symbol"],
            registry=r,
        )
        self.backlog = Gauge(
            "exchange_settlement_backlog_entries",
            "evt:{SYMBOL} entries not yet acknowledged by settlement (read at scrape time).",
            ["symbol"],
            registry=r,
        )
        self.orphans = Counter(
            "exchange_settlement_orphans_released",
            "Reservations released because their command never reached an engine.",
            registry=r,
        )
        for symbol in symbols:
            for metric in (self.entries, self.events, self.seconds, self.lag, self.backlog):
                metric.labels(symbol)

    def settled(self, symbol: str, entries: int, events: int, seconds: float, last_entry_ms: int) -> None:
        self.entries.labels(symbol).inc(entries)
        self.events.labels(symbol).inc(events)
        self.seconds.labels(symbol).observe(seconds)
        self.lag.labels(symbol).set(max(0.0, time.time() - last_entry_ms / 1000))

    async def refresh_backlog(self, redis: Redis, streams: dict[str, str], group: str) -> None:
        for stream, symbol in streams.items():
            self.backlog.labels(symbol).set(await redisio.group_backlog(redis, stream, group))


def settle_spans(symbol: str, batches: list[epb.EventBatch], start_ns: int, end_ns: int) -> None:
    """One `settlement settle` span per traced command of `batches`, the child of its engine
    span, covering the settlement of the read that held it."""
    for batch in batches:
        for ref in batch.commands:
            if not ref.trace_context:
                continue
            span = tracing.command_span(
                "settlement",
                "settle",
                symbol,
                ref.command_id,
                dict(ref.trace_context),
                start_ns,
                first_seq=ref.first_seq,
                last_seq=ref.last_seq,
            )
            span.end(end_time=end_ns)
