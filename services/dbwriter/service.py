"""The DB processor: writes the history of the markets whose dbwriter lease it holds.

Writers share the markets (DbWriterSettings.workers / worker_index, exchange_core.partitions).
Each round reads up to `batch_size` entries per held market after its cursor (XREAD), turns
them into trade and order rows, writes them in one transaction that first checks every market's
lease token against partition_fences (dbwriter.store), and only then records each market's
position through the lease's fence. While the database writes one round, the next one is read
and decoded (the two halves of the work run on two cores). The writes are idempotent on
(symbol, seq), so an entry written twice changes nothing. When the database is unreachable the
same rows are retried with growing waits and no position moves; at most one more round is read
meanwhile: the entries wait in Redis and the writer catches up once the database is back. When
Redis fails (unreachable, or the process paused past the client's socket timeout) the round is
read again once it answers. A market whose lease is lost (a renewal refused, or a write refused
by the Redis fence or by partition_fences) is left to its new holder; the round is read again
without it.
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import asyncpg
from redis.asyncio import Redis

from dbwriter.rows import HistoryRows
from dbwriter.settings import DbWriterSettings
from dbwriter.store import MarketsFenced, Written, write_rows
from dbwriter.telemetry import DbWriterMetrics, traced_refs, write_spans
from exchange_core import tracing
from exchange_core.keys import Keys
from exchange_core.lease import Fenced
from exchange_core.lease_telemetry import LeaseCollector
from exchange_core.markets import Market
from exchange_core.partitions import StreamPartitions
from exchange_core.runtime import pause
from exchange_core.streamids import entry_ms
from exchange_core.telemetry import redis_ready
from exchange_core.unavailable import UNREACHABLE
from exchange_proto import events_pb2 as epb

log = logging.getLogger("dbwriter")

# SQLSTATE classes worth retrying: connection exception, insufficient resources, operator
# intervention (shutdown, cannot connect now), system error, transaction rollback, invalid
# catalog name (database gone while renamed or restored), object not in prerequisite state
# (database not accepting connections), invalid authorization.
_TRANSIENT_CLASSES = frozenset({"08", "53", "57", "58", "40", "3D", "55", "28"})
_TRANSIENT_STATES = frozenset({"42501"})  # e.g. CONNECT privilege revoked for a while


def is_transient(exc: BaseException) -> bool:
    """Is `exc` a failure of the database's availability, not of the data or the SQL?

    asyncpg raises InternalClientError ("another operation is in progress") on a pooled
    connection whose server ended it while it sat idle: a lost connection too.
    """
    if isinstance(exc, OSError | TimeoutError | asyncpg.InterfaceError | asyncpg.InternalClientError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        return state[:2] in _TRANSIENT_CLASSES or state in _TRANSIENT_STATES
    return False


@dataclass
class Batch:
    """One round of entries: their rows, and their ids per market (recorded once written)."""

    rows: HistoryRows
    ids: dict[str, list[bytes]]
    # (symbol, command ref) of the traced commands, collected only while tracing is on.
    traced: list[tuple[str, epb.CommandRef]] = field(default_factory=list)


class DbWriterService:
    """Owns no connection: `pool` and `redis` are given (and closed) by the caller."""

    def __init__(
        self, settings: DbWriterSettings, redis: Redis, pool: asyncpg.Pool, markets: dict[str, Market]
    ) -> None:
        self.settings = settings
        self.redis = redis
        self.pool = pool
        self.keys = Keys(settings.key_prefix)
        self.streams = {self.keys.events(s): s for s in markets}
        self.partitions = StreamPartitions(
            redis, self.keys, list(markets), "dbwriter", settings.group, settings
        )
        self.cursors: dict[str, bytes] = {}  # held market -> the last entry read
        self.trades_written = 0
        self.orders_written = 0
        self.rounds = 0
        self.failures = 0
        self.metrics = DbWriterMetrics(
            list(markets),
            lambda: (self.trades_written, self.orders_written, self.rounds, self.failures),
        )
        self.metrics.registry.register(LeaseCollector(self.partitions.leases.values))

    async def run(self, stop: asyncio.Event) -> None:
        """Write until `stop` is set; entries read but not yet written are read again by the
        next holder of their market (from its recorded position)."""
        partitions, poll_s = self.partitions, self.settings.lease_poll_ms / 1000
        block = min(self.settings.block_ms, self.settings.lease_poll_ms)
        next_claim = 0.0
        ahead: asyncio.Task[Batch | None] | None = None
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() >= next_claim:
                        for symbol in await partitions.claim():
                            self.cursors[symbol] = partitions.positions[symbol][0]
                        next_claim = time.monotonic() + poll_s
                    for symbol in partitions.drop_lost():
                        self.cursors.pop(symbol, None)
                    if not partitions.positions:
                        await pause(stop, poll_s)
                        continue
                    batch = await (ahead or self.read(block))
                    # The next round is read and decoded while the database writes this one.
                    ahead = asyncio.create_task(self.read(block))
                    if batch is not None and not await self.commit(batch, stop):
                        return
                except Fenced as exc:
                    log.warning("%s; reading the round again without the markets lost", exc)
                    partitions.drop_lost()
                    await self._rewind(ahead)
                    ahead = None
                except UNREACHABLE as exc:
                    # Redis unreachable, or a pause past the client's socket timeout: nothing of
                    # the round was recorded, so it is read (and written, idempotently) again. The
                    # leases are kept: one that passed to another writer meanwhile is found lost.
                    log.warning("Redis unreachable (%r); reading the round again", exc)
                    await self._rewind(ahead)
                    ahead = None
                    await pause(stop, poll_s)
        finally:
            await self._rewind(ahead)
            await partitions.release_all()

    async def _rewind(self, ahead: "asyncio.Task[Batch | None] | None") -> None:
        """Forget what was read beyond the recorded positions (the round was not written)."""
        if ahead is not None:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, *UNREACHABLE):
                await ahead
        self.cursors = {s: position for s, (position, _) in self.partitions.positions.items()}

    async def read(self, block: int | None) -> Batch | None:
        """One round of entries of every held market after its cursor, decoded into COPY
        payloads (the cursors move past them); None if there were none."""
        result = await self.partitions.read(dict(self.cursors), self.settings.batch_size, block)
        batch = Batch(HistoryRows(), {})
        decoded = 0
        for symbol, entries in result:
            if symbol not in self.cursors:
                continue
            batch.ids[symbol] = [entry_id for entry_id, _ in entries]
            self.cursors[symbol] = entries[-1][0]
            for _, fields in entries:
                batch.rows.add_entry(fields[b"e"])
                if tracing.ENABLED:
                    batch.traced += traced_refs(fields[b"e"])
                decoded += 1
                if decoded % 16 == 0:
                    await asyncio.sleep(0)  # let a write in flight go on meanwhile
        while not batch.rows.seal(4_000):
            await asyncio.sleep(0)
        return batch if batch.ids else None

    async def commit(self, batch: Batch, stop: asyncio.Event) -> bool:
        """Write `batch`, then record its markets' positions; False if `stop` came first
        (nothing recorded). Raises Fenced when a market's lease is another writer's."""
        start_ns, failures = time.time_ns(), self.failures
        lost = [symbol for symbol in batch.ids if symbol not in self.partitions.positions]
        if lost:
            raise Fenced(f"the dbwriter lease of {', '.join(lost)} was lost")
        fences = {symbol: self.partitions.token(symbol) for symbol in batch.ids}
        try:
            if batch.rows and not await self.write(batch.rows, stop, fences):
                return False
        except MarketsFenced as exc:  # refused by partition_fences: the lease is lost
            for symbol in exc.symbols:
                self.partitions.drop_fenced(symbol, str(exc))
            raise
        if batch.traced:
            write_spans(batch.traced, start_ns, time.time_ns(), 1 + self.failures - failures)
        for symbol, ids in batch.ids.items():
            await self.partitions.record(symbol, ids[-1], len(ids))
        self.rounds += 1
        self.metrics.committed(max(entry_ms(ids[-1]) for ids in batch.ids.values()))
        return True

    async def ready(self) -> bool:
        """Readiness: Redis answers (the database may be down: the writer waits and catches up)."""
        return await redis_ready(self.redis)

    async def refresh_metrics(self) -> None:
        await self.metrics.refresh_backlog(self.redis, self.streams, self.settings.group)

    async def write(
        self, rows: HistoryRows, stop: asyncio.Event, fences: dict[str, int] | None = None
    ) -> bool:
        """Write `rows` (fenced by each market's `fences` token), retrying transient failures
        until it succeeds (True) or `stop` (False). Raises Fenced."""
        delay = self.settings.retry_initial_ms / 1000
        failing_since = 0.0
        while True:
            try:
                started = time.perf_counter()
                async with self.pool.acquire() as conn:
                    try:
                        written: Written = await write_rows(conn, rows, self.settings.use_copy, fences)
                    except BaseException:
                        conn.terminate()  # never reuse a connection that failed mid-write
                        raise
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self.failures += 1
                failing_since = failing_since or time.monotonic()
                log.warning(
                    "database write failed (%s: %s); retrying in %.1f s", type(exc).__name__, exc, delay
                )
                await pause(stop, delay)
                if stop.is_set():
                    return False
                delay = min(delay * 2, self.settings.retry_max_ms / 1000)
                continue
            if failing_since:
                log.info("database back after %.1f s", time.monotonic() - failing_since)
            self.trades_written += written.trades
            self.orders_written += written.orders
            self.metrics.seconds.observe(time.perf_counter() - started)
            log.debug(
                "%d events: %d trades, %d order rows in %.1f ms",
                rows.events,
                written.trades,
                written.orders,
                (time.perf_counter() - started) * 1000,
            )
            return True
