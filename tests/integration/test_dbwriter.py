"""The DB processor on the real Redis and PostgreSQL (plain tables): events of the real matching
core in, trades and order states out, exactly; redelivery and a database outage lose and
duplicate nothing."""

import asyncio
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from redis.asyncio import Redis

from dbwriter.copyformat import decode_rows
from dbwriter.rows import TRADE_COLUMNS, HistoryRows
from dbwriter.service import DbWriterService
from dbwriter.settings import DbWriterSettings
from dbwriter.store import RAISE_FENCES, session_settings, write_rows
from exchange_core.keys import Keys
from exchange_core.lease import Fenced
from exchange_core.markets import load_markets
from tests import services
from tests.history import Run, expected_orders, random_commands, run_engine, stored_history, trade_row

MARKETS = {s: m for s, m in load_markets().items() if s in ("BTCUSDT", "ETHUSDT")}
GROUP = "dbwriter"


@pytest_asyncio.fixture
async def db() -> AsyncIterator[str]:
    """A fresh migrated database of this test's own."""
    dsn = await services.create_test_database()
    yield dsn
    await set_connectable(dsn, True)
    await services.drop_test_database(dsn)


def engine_run(symbol: str, n: int, seed: int) -> Run:
    spec = MARKETS[symbol].spec
    return run_engine(spec, random_commands(spec, n, seed), seed)


async def append(redis: Redis, keys: Keys, run: Run, entries: list[bytes] | None = None) -> None:
    pipe = redis.pipeline(transaction=False)
    for data in run.entries if entries is None else entries:
        pipe.xadd(keys.events(run.symbol), {"e": data})
    await pipe.execute()


def writer(prefix: str, pool: asyncpg.Pool, redis: Redis) -> DbWriterService:
    settings = DbWriterSettings(key_prefix=prefix, block_ms=50, retry_initial_ms=50, retry_max_ms=300)
    return DbWriterService(settings, redis, pool, MARKETS)


async def backlog(redis: Redis, keys: Keys) -> int:
    """Entries of every market not yet acked by the group (read or not); -1 before the group is."""
    total = 0
    for symbol in MARKETS:
        if not await redis.exists(keys.events(symbol)):
            return -1
        groups = {g["name"].decode(): g for g in await redis.xinfo_groups(keys.events(symbol))}
        if GROUP not in groups:
            return -1
        total += int(groups[GROUP]["lag"] or 0) + int(groups[GROUP]["pending"])
    return total


async def wait_drained(redis: Redis, keys: Keys, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while await backlog(redis, keys):
        assert asyncio.get_running_loop().time() < deadline, "the writer did not drain its streams"
        await asyncio.sleep(0.02)


async def set_connectable(dsn: str, allowed: bool) -> None:
    """Open or close the test database to every connection; closing also ends the current ones."""
    name = dsn.rsplit("/", 1)[1]
    admin = await asyncpg.connect(services.PG_ADMIN_DSN)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(allowed).lower()}')
        if not allowed:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
            )
    finally:
        await admin.close()


async def stored(dsn: str, symbol: str) -> tuple[list[tuple[object, ...]], dict[int, tuple[object, ...]]]:
    conn = await asyncpg.connect(dsn)
    try:
        return await stored_history(conn, symbol)
    finally:
        await conn.close()


async def assert_stored(dsn: str, runs: list[Run]) -> None:
    for run in runs:
        trades, orders = await stored(dsn, run.symbol)
        assert trades == [trade_row(t) for t in run.trades]
        assert orders == expected_orders(run)


async def run_writer(service: DbWriterService, stop: asyncio.Event) -> "asyncio.Task[None]":
    return asyncio.create_task(service.run(stop))


async def test_trades_and_order_states_equal_the_engine_events(
    db: str, redis: Redis, keys: Keys, key_prefix: str
) -> None:
    runs = [engine_run("BTCUSDT", 1500, seed=1), engine_run("ETHUSDT", 600, seed=2)]
    assert len(runs[0].trades) > 300 and len(runs[1].trades) > 100
    for run in runs:
        await append(redis, keys, run)
    pool = await asyncpg.create_pool(db, min_size=0, max_size=1)
    service = writer(key_prefix, pool, redis)
    stop = asyncio.Event()
    task = await run_writer(service, stop)
    try:
        await wait_drained(redis, keys)
    finally:
        stop.set()
        await task
        await pool.close()
    await assert_stored(db, runs)
    assert service.trades_written == sum(len(r.trades) for r in runs)


async def test_redelivered_and_older_entries_change_nothing(
    db: str, redis: Redis, keys: Keys, key_prefix: str
) -> None:
    run = engine_run("BTCUSDT", 800, seed=3)
    half = len(run.entries) // 2
    # A consumer that read the first half and died before acking: the restart writes them first.
    await append(redis, keys, run, run.entries[:half])
    await redis.xgroup_create(keys.events("BTCUSDT"), GROUP, id="0", mkstream=True)
    await redis.xreadgroup(GROUP, "dbwriter-1", {keys.events("BTCUSDT"): ">"}, count=half // 2)
    await append(redis, keys, run, run.entries[half:])
    pool = await asyncpg.create_pool(db, min_size=0, max_size=1)
    try:
        for _ in range(2):  # the second time everything is delivered again
            service = writer(key_prefix, pool, redis)
            stop = asyncio.Event()
            task = await run_writer(service, stop)
            try:
                await wait_drained(redis, keys)
            finally:
                stop.set()
                await task
            await assert_stored(db, [run])
            await redis.xgroup_setid(keys.events("BTCUSDT"), GROUP, id="0")
        assert service.trades_written == 0 and service.orders_written == 0
        # Older states arriving after newer ones (a replay of the first half) move no order back.
        older = HistoryRows()
        for data in run.entries[:half]:
            older.add_entry(data)
        async with pool.acquire() as conn:
            written = await write_rows(conn, older)
        assert (written.trades, written.orders) == (0, 0)
        await assert_stored(db, [run])
    finally:
        await pool.close()


def trade_ids(rows: HistoryRows) -> set[object]:
    return {t[0] for t in decode_rows(rows.trades_payload(), TRADE_COLUMNS)}


async def test_a_round_partly_written_before_is_merged_after_its_copy_is_refused(db: str) -> None:
    """New rows go by COPY straight into the tables; a round overlapping one written before (a
    takeover reading from an older position) violates a unique key there, and is written again
    through the merge: every trade once, every order in its latest state."""
    run = engine_run("BTCUSDT", 800, seed=8)
    half = len(run.entries) // 2
    first, overlapping = HistoryRows(), HistoryRows()
    for data in run.entries[:half]:
        first.add_entry(data)
    for data in run.entries[half // 2 :]:
        overlapping.add_entry(data)
    conn = await asyncpg.connect(db)
    try:
        written = await write_rows(conn, first, fences={"BTCUSDT": 1})
        _, new_orders, _, known_orders = first.orders_payloads()
        assert (written.trades, written.orders) == (first.trade_count, new_orders + known_orders)
        written = await write_rows(conn, overlapping, fences={"BTCUSDT": 1})
        new_trades = trade_ids(overlapping) - trade_ids(first)
        assert 0 < written.trades == len(new_trades) < overlapping.trade_count
    finally:
        await conn.close()
    await assert_stored(db, [run])


# CI: a short outage; `make soak`: a minute (DB_OUTAGE_S=60).
OUTAGE_S = float(os.environ.get("DB_OUTAGE_S", "1.5"))


async def test_a_database_outage_loses_nothing(db: str, redis: Redis, keys: Keys, key_prefix: str) -> None:
    run = engine_run("BTCUSDT", 1200, seed=4)
    half = len(run.entries) // 2
    pool = await asyncpg.create_pool(db, min_size=0, max_size=1)
    service = writer(key_prefix, pool, redis)
    stop = asyncio.Event()
    task = await run_writer(service, stop)
    try:
        await append(redis, keys, run, run.entries[:half])
        await wait_drained(redis, keys)
        await set_connectable(db, False)
        await append(redis, keys, run, run.entries[half:])
        await asyncio.sleep(OUTAGE_S)
        assert service.failures >= 3  # retried, with backoff
        assert await backlog(redis, keys) > 0  # and acked nothing it could not write
        await set_connectable(db, True)
        await wait_drained(redis, keys)
    finally:
        stop.set()
        await task
        await pool.close()
    await assert_stored(db, [run])


async def test_a_former_writer_is_refused_by_the_fence_table(db: str) -> None:
    run = engine_run("BTCUSDT", 300, seed=5)
    rows = HistoryRows()
    for data in run.entries:
        rows.add_entry(data)
    conn = await asyncpg.connect(db)
    try:
        assert (await write_rows(conn, HistoryRows(), fences={"BTCUSDT": 2})).trades == 0
        with pytest.raises(Fenced):  # token 1: the lease has passed to token 2
            await write_rows(conn, rows, fences={"BTCUSDT": 1})
        assert await conn.fetchval("SELECT count(*) FROM trades") == 0
        assert await conn.fetchval("SELECT token FROM partition_fences WHERE symbol = 'BTCUSDT'") == 2
        written = await write_rows(conn, rows, fences={"BTCUSDT": 2, "ETHUSDT": 1})
        assert written.trades == len(run.trades) > 0
    finally:
        await conn.close()


async def test_a_standby_writer_writes_nothing_until_the_holder_stops(
    db: str, redis: Redis, keys: Keys, key_prefix: str
) -> None:
    run = engine_run("BTCUSDT", 600, seed=6)
    timing = {"lease_ttl_ms": 1000, "lease_renew_ms": 100, "lease_poll_ms": 20}
    settings = DbWriterSettings(key_prefix=key_prefix, block_ms=50, **timing)  # type: ignore[arg-type]
    holder_pool = await asyncpg.create_pool(db, min_size=0, max_size=1)
    standby_pool = await asyncpg.create_pool(db, min_size=0, max_size=1)
    holder = DbWriterService(settings, redis, holder_pool, MARKETS)
    standby = DbWriterService(settings, redis, standby_pool, MARKETS)
    assert await holder.partitions.claim() == list(MARKETS)
    for keeper in holder.partitions.keepers.values():
        keeper.cancel()  # paused: it holds its leases until they run out, and writes nothing
    stop = asyncio.Event()
    task = await run_writer(standby, stop)
    try:
        await append(redis, keys, run)
        await asyncio.sleep(0.2)
        assert standby.partitions.positions == {} and standby.trades_written == 0
        assert (await stored(db, "BTCUSDT"))[0] == []
        await wait_drained(redis, keys)  # the holder's leases ran out: the standby took over
        assert set(standby.partitions.positions) == set(MARKETS)
    finally:
        stop.set()
        await task
        for symbol in list(holder.partitions.positions):
            holder.partitions.drop(symbol)
        await holder_pool.close()
        await standby_pool.close()
    await assert_stored(db, [run])


async def test_a_writer_stopped_inside_its_transaction_does_not_block_its_successor(db: str) -> None:
    """A writer stopped (SIGSTOP, cut off) after raising its fence holds the row's lock: the
    server ends its session once it sits idle in the transaction past the lease's TTL."""
    run = engine_run("BTCUSDT", 300, seed=7)
    rows = HistoryRows()
    for data in run.entries:
        rows.add_entry(data)
    stopped = await asyncpg.connect(db, server_settings=session_settings(lease_ttl_ms=500))
    successor = await asyncpg.connect(db, server_settings=session_settings(lease_ttl_ms=500))
    try:
        transaction = stopped.transaction()
        await transaction.start()
        assert len(await stopped.fetch(RAISE_FENCES, ["BTCUSDT"], [1], "dbwriter")) == 1
        written = await asyncio.wait_for(write_rows(successor, rows, fences={"BTCUSDT": 2}), 20)
        assert written.trades == len(run.trades) > 0
        # Its session was ended: it writes nothing more. asyncpg says so with the server's error, a
        # closed connection, or (when the server's notice of the end is still being read) an
        # InternalClientError for the request it cannot start.
        ended = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, ConnectionError)
        with pytest.raises(ended):
            await stopped.fetch("SELECT 1")
    finally:
        await stopped.close(timeout=1)
        await successor.close()
    trades, _ = await stored(db, "BTCUSDT")
    assert trades == [trade_row(t) for t in run.trades]


async def test_a_former_writer_whose_round_is_refused_by_the_fence_table_leaves_the_market(
    db: str, redis: Redis, keys: Keys, key_prefix: str
) -> None:
    run = engine_run("BTCUSDT", 400, seed=8)
    await append(redis, keys, run)
    timing = {"lease_ttl_ms": 1000, "lease_renew_ms": 100, "lease_poll_ms": 20}
    settings = DbWriterSettings(key_prefix=key_prefix, block_ms=50, **timing)  # type: ignore[arg-type]
    former_pool = await asyncpg.create_pool(db, min_size=0, max_size=1)
    successor_pool = await asyncpg.create_pool(db, min_size=0, max_size=1)
    former = DbWriterService(settings, redis, former_pool, MARKETS)
    successor = DbWriterService(settings, redis, successor_pool, MARKETS)
    assert await former.partitions.claim() == list(MARKETS)
    former.cursors = {s: position for s, (position, _) in former.partitions.positions.items()}
    batch = await former.read(None)  # a round in hand, then the writer is stopped
    assert batch is not None and list(batch.ids) == ["BTCUSDT"]
    for keeper in former.partitions.keepers.values():
        keeper.cancel()
    stop = asyncio.Event()
    task = await run_writer(successor, stop)
    try:
        await wait_drained(redis, keys)  # its leases ran out: the successor wrote everything
        with pytest.raises(Fenced, match="a higher dbwriter token has written BTCUSDT"):
            await former.commit(batch, asyncio.Event())  # resumed: refused by partition_fences
        lease = former.partitions.leases["BTCUSDT"]
        assert "BTCUSDT" not in former.partitions.positions and lease.losses == 1 and not lease.held()
        assert former.trades_written == 0 and former.rounds == 0
        async with successor_pool.acquire() as conn:
            fence = await conn.fetchval("SELECT token FROM partition_fences WHERE symbol = 'BTCUSDT'")
        assert fence == successor.partitions.token("BTCUSDT") > lease.token
    finally:
        stop.set()
        await task
        for symbol in list(former.partitions.positions):
            former.partitions.drop(symbol)
        await former_pool.close()
        await successor_pool.close()
    await assert_stored(db, [run])
