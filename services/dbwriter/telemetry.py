"""The DB processor's metrics and the spans of traced commands."""

import time
from collections.abc import Callable

from prometheus_client import Gauge, Histogram
from redis.asyncio import Redis

from exchange_core import redisio, tracing
from exchange_core.telemetry import AttributeCollector, Exported, new_registry
from exchange_proto import events_pb2 as epb

SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DbWriterMetrics:
    """`counts()` gives (trades written, order rows written, rounds, failed writes)."""

    def __init__(self, symbols: list[str], counts: Callable[[], tuple[int, int, int, int]]) -> None:
        self.registry = r = new_registry()
        self.seconds = Histogram(
            "exchange_dbwriter_batch_duration_seconds",
            "Time to write one round's rows to the database in one transaction (successful writes).",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.lag = Gauge(
            "exchange_dbwriter_lag_seconds",
            "Time from the engine writing the newest entry of a round to its rows being committed.",
            registry=r,
        )
        self.backlog = Gauge(
            "exchange_dbwriter_backlog_entries",
            "evt:{SYMBOL} entries not yet written and acknowledged (read at scrape time).",
            ["symbol"],
            registry=r,
        )
        for symbol in symbols:
            self.backlog.labels(symbol)

        def count(i: int) -> Callable[[], float]:
            return lambda: counts()[i]

        r.register(
            AttributeCollector(
                [
                    Exported("exchange_dbwriter_trades_written", "counter", "Trade rows written.", count(0)),
                    Exported("exchange_dbwriter_orders_written", "counter", "Order rows written.", count(1)),
                    Exported("exchange_dbwriter_rounds", "counter", "Rounds written and acked.", count(2)),
                    Exported(
                        "exchange_dbwriter_write_failures",
                        "counter",
                        "Writes that failed for a transient reason (and were retried).",
                        count(3),
                    ),
                ]
            )
        )

    def committed(self, newest_entry_ms: int) -> None:
        self.lag.set(max(0.0, time.time() - newest_entry_ms / 1000))

    async def refresh_backlog(self, redis: Redis, streams: dict[str, str], group: str) -> None:
        for stream, symbol in streams.items():
            self.backlog.labels(symbol).set(await redisio.group_backlog(redis, stream, group))


def traced_refs(data: bytes) -> list[tuple[str, epb.CommandRef]]:
    """(symbol, ref) of every command in an evt:{SYMBOL} entry that carries a trace context."""
    batch = epb.EventBatch.FromString(data)
    return [(batch.symbol, ref) for ref in batch.commands if ref.trace_context]


def write_spans(refs: list[tuple[str, epb.CommandRef]], start_ns: int, end_ns: int, attempts: int) -> None:
    """One `dbwriter write` span per traced command, the child of its engine span, covering the
    transaction that wrote its rows."""
    for symbol, ref in refs:
        context = dict(ref.trace_context)
        span = tracing.command_span(
            "dbwriter", "write", symbol, ref.command_id, context, start_ns, write_attempts=attempts
        )
        span.end(end_time=end_ns)
