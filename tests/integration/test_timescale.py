"""Market history on a real TimescaleDB (PGlite, tests/timescale.py) and on plain PostgreSQL:
the migration's hypertables and continuous aggregates, and every read of exchange_core.marketdb
against a computation in Python from the inserted trades."""

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import asyncpg
import pytest
import pytest_asyncio

from dbwriter.rows import HistoryRows
from dbwriter.store import write_rows
from exchange_core import klinesql, marketdb
from exchange_core.db import migrate
from exchange_core.klines import AGGREGATES, DAY, HOUR, INTERVALS, MINUTE
from exchange_core.markets import load_markets
from matching import Side, Trade
from tests.history import (
    entries_of,
    expected_orders,
    random_commands,
    run_engine,
    stored_history,
    synthetic_trades,
    trade_row,
)
from tests.timescale import CONNECT_OPTIONS

SPEC = load_markets()["BTCUSDT"].spec
TRADES = synthetic_trades(SPEC, 2_500, seed=5)
LAST_TS = TRADES[-1].ts


# ------------------------------------------------------------------ the reference, in Python


def open_time(interval: str, ts: int) -> int:
    if interval == "1M":
        d = datetime.fromtimestamp(ts // 1000, UTC)
        return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp()) * 1000
    width = INTERVALS[interval].width
    origin = 4 * DAY if interval == "1w" else 0  # weeks open on Monday, 1970-01-05
    return ts - (ts - origin) % width


def local_open_time(interval: str, ts: int, offset: int) -> int:
    """The bucket open time (UTC ms) of `ts` in the time zone `offset` ms ahead of UTC, from the
    local calendar: days from local midnight, weeks from local Monday, months from the local 1st;
    intervals under a day from local midnight too (they divide it)."""
    if offset == 0:
        return open_time(interval, ts)
    zone = timezone(timedelta(milliseconds=offset))
    local = datetime.fromtimestamp(ts / 1000, zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    if interval == "1M":
        start = datetime(local.year, local.month, 1, tzinfo=zone)
    elif interval == "1w":
        start = midnight - timedelta(days=local.weekday())
    elif interval == "3d":  # three-day buckets count from the local 1970-01-01
        days = (midnight.replace(tzinfo=UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days
        start = midnight - timedelta(days=days % 3)
    else:
        width = timedelta(milliseconds=INTERVALS[interval].width)
        start = midnight + (local - midnight) // width * width
    return int(start.timestamp() * 1000)


def reference_klines(trades: list[Trade], interval: str, offset: int = 0) -> list[marketdb.Kline]:
    buckets: dict[int, list[Trade]] = {}
    for t in trades:
        buckets.setdefault(local_open_time(interval, t.ts, offset), []).append(t)
    out = []
    for start, group in sorted(buckets.items()):
        group.sort(key=lambda t: t.trade_id)
        width = 32 * DAY if interval == "1M" else INTERVALS[interval].width
        close = local_open_time(interval, start + width, offset) - 1
        prices = [t.price for t in group]
        volume, quote_volume = sum(t.quantity for t in group), sum(t.quote_quantity for t in group)
        bought = [t for t in group if t.taker_side == Side.BUY]
        taker_volume, taker_quote = sum(t.quantity for t in bought), sum(t.quote_quantity for t in bought)
        out.append(
            marketdb.Kline(
                start, close, prices[0], max(prices), min(prices), prices[-1], volume, quote_volume,
                len(group), taker_volume, taker_quote,
            )
        )  # fmt: skip
    return out


def reference_aggregates(trades: list[Trade]) -> list[marketdb.AggTrade]:
    out: list[marketdb.AggTrade] = []
    key: tuple[int, int] | None = None
    for t in trades:
        if out and (t.taker_order_id, t.price) == key:
            out[-1] = out[-1]._replace(qty=out[-1].qty + t.quantity, last_id=t.trade_id)
            continue
        key = (t.taker_order_id, t.price)
        out.append(
            marketdb.AggTrade(
                t.trade_id, t.price, t.quantity, t.trade_id, t.trade_id, t.ts, t.taker_side == Side.SELL
            )
        )
    return out


AGGREGATED = reference_aggregates(TRADES)


# ------------------------------------------------------------------ fixtures


async def connect(backend: str, dsn: str) -> asyncpg.Connection:
    """A connection to `backend` with TRADES stored as symbol TSBTC through the DB writer's store
    (loaded by the first test; written twice, the second time changing nothing)."""
    timescale = backend == "timescale"
    conn = await asyncpg.connect(dsn, **(CONNECT_OPTIONS if timescale else {}))
    if timescale:
        await migrate(conn)
    if not await conn.fetchval("SELECT count(*) FROM trades WHERE symbol = 'TSBTC'"):
        rows = HistoryRows()
        for entry in entries_of("TSBTC", list(TRADES)):
            rows.add_entry(entry)
        first = await write_rows(conn, rows, use_copy=not timescale)  # PGlite has no COPY FROM STDIN
        again = await write_rows(conn, rows, use_copy=not timescale)
        assert (first.trades, again.trades) == (len(TRADES), 0)
    return conn


@pytest_asyncio.fixture
async def tsdb(timescale_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect("timescale", timescale_dsn)
    yield conn
    await conn.close()


@pytest_asyncio.fixture
async def pgdb(pg_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect("plain", pg_dsn)
    yield conn
    await conn.close()


@pytest_asyncio.fixture(params=["timescale", "plain"])
async def db(request: pytest.FixtureRequest) -> AsyncIterator[asyncpg.Connection]:
    """Each backend in turn: PGlite TimescaleDB, then the machine's plain PostgreSQL."""
    backend = str(request.param)
    dsn = request.getfixturevalue("timescale_dsn" if backend == "timescale" else "pg_dsn")
    conn = await connect(backend, dsn)
    yield conn
    await conn.close()


# ------------------------------------------------------------------ tests


async def test_migration_makes_hypertables_aggregates_and_policies(tsdb: asyncpg.Connection) -> None:
    assert await marketdb.has_aggregates(tsdb)
    hypertables = {
        r[0] for r in await tsdb.fetch("SELECT hypertable_name FROM timescaledb_information.hypertables")
    }
    assert {"trades", "orders"} <= hypertables
    views = {
        r["view_name"]: r["materialized_only"]
        for r in await tsdb.fetch(
            "SELECT view_name, materialized_only FROM timescaledb_information.continuous_aggregates"
        )
    }
    assert views == dict.fromkeys(AGGREGATES.values(), False)
    jobs = await tsdb.fetch("SELECT proc_name, hypertable_name FROM timescaledb_information.jobs")
    refreshed = {
        r["hypertable_name"] for r in jobs if r["proc_name"] == "policy_refresh_continuous_aggregate"
    }
    compressed = {r["hypertable_name"] for r in jobs if r["proc_name"] == "policy_compression"}
    assert refreshed == set(AGGREGATES.values()) and compressed == {"trades", "orders"}
    assert await migrate(tsdb) == []


async def write_entries(conn: asyncpg.Connection, entries: list[bytes]) -> None:
    rows = HistoryRows()
    for entry in entries:
        rows.add_entry(entry)
    await write_rows(conn, rows, use_copy=False)  # PGlite has no COPY FROM STDIN


async def test_writer_rows_on_compressed_hypertables_equal_the_engine_events(
    tsdb: asyncpg.Connection,
) -> None:
    run = run_engine(SPEC, random_commands(SPEC, 700, seed=8), seed=8)
    third = len(run.entries) // 3
    await write_entries(tsdb, run.entries[:third])
    # Compress what is there (the policy would, days later): later trades fill and end orders
    # whose rows are compressed, and a redelivery hits compressed unique keys.
    chunks = await tsdb.fetch(
        "SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('trades') c"
    )
    await tsdb.fetch("SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('orders') c")
    assert chunks
    await write_entries(tsdb, run.entries[third : 2 * third])
    await write_entries(tsdb, run.entries[2 * third :])
    await write_entries(tsdb, run.entries[:third])  # delivered again: moves no order back
    trades, orders = await stored_history(tsdb, SPEC.symbol)
    assert trades == [trade_row(t) for t in run.trades]
    assert orders == expected_orders(run)


async def test_plain_postgres_has_plain_tables(pgdb: asyncpg.Connection) -> None:
    assert not await marketdb.has_aggregates(pgdb)
    assert await pgdb.fetchval("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'") == 0


@pytest.mark.parametrize("interval", list(INTERVALS))
async def test_klines_equal_the_python_computation(db: asyncpg.Connection, interval: str) -> None:
    expected = reference_klines(TRADES, interval)
    assert len(expected) > 1
    assert any(0 < k.taker_volume < k.volume for k in expected)  # takers of both sides
    got = await marketdb.klines(db, "TSBTC", interval, 0, None, 1000)
    assert got == expected[:1000]
    assert await marketdb.klines(db, "TSBTC", interval, None, None, 7) == expected[-7:]
    # from raw trades with date_bin, whatever the server: the plain path on TimescaleDB too
    raw = await klinesql.fetch_klines(db, "TSBTC", INTERVALS[interval], 0, expected[-1].close_time + 1, False)
    assert raw == expected


async def test_materialized_aggregates_give_the_same_klines(tsdb: asyncpg.Connection) -> None:
    for view in AGGREGATES.values():
        await tsdb.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
    assert await tsdb.fetchval("SELECT count(*) FROM klines_1m WHERE symbol = 'TSBTC'") > 0
    for interval in ("1m", "3m", "1h", "8h", "1d", "1w", "1M"):
        got = await marketdb.klines(tsdb, "TSBTC", interval, 0, None, 1000)
        assert got == reference_klines(TRADES, interval)[:1000], interval


ZONES = {"+05:45": 5 * HOUR + 45 * MINUTE, "8": 8 * HOUR, "-1:00": -HOUR, "-9:30": -(9 * HOUR + 30 * MINUTE)}


@pytest.mark.parametrize("zone", list(ZONES))
@pytest.mark.parametrize("interval", list(INTERVALS))
async def test_klines_in_a_time_zone_equal_the_local_calendar(
    db: asyncpg.Connection, interval: str, zone: str
) -> None:
    offset = ZONES[zone]
    expected = reference_klines(TRADES, interval, offset)
    assert len(expected) > 1
    if interval in ("1d", "1w", "1M"):  # the zone moved trades into other candles
        assert expected != reference_klines(TRADES, interval)
    assert await marketdb.klines(db, "TSBTC", interval, 0, None, 1000, offset) == expected[:1000]
    assert await marketdb.klines(db, "TSBTC", interval, None, None, 7, offset) == expected[-7:]
    iv = INTERVALS[interval].zoned(offset)
    raw = await klinesql.fetch_klines(db, "TSBTC", iv, 0, expected[-1].close_time + 1, False)
    assert raw == expected
    # startTime/endTime are UTC and select by open time, as without a zone
    a, b = expected[len(expected) // 4], expected[len(expected) // 2]
    window = [k for k in expected if a.open_time < k.open_time <= b.open_time]
    assert await marketdb.klines(db, "TSBTC", interval, a.open_time + 1, b.open_time, 1000, offset) == window


async def test_materialized_aggregates_give_the_same_zoned_klines(tsdb: asyncpg.Connection) -> None:
    for view in AGGREGATES.values():
        await tsdb.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
    for zone, offset in ZONES.items():
        for interval in ("1h", "4h", "1d", "1w", "1M"):
            got = await marketdb.klines(tsdb, "TSBTC", interval, 0, None, 1000, offset)
            assert got == reference_klines(TRADES, interval, offset)[:1000], (zone, interval)


async def test_window_ticker_is_the_trades_of_its_window(db: asyncpg.Connection) -> None:
    lo, now = TRADES[400].ts - 30_123, TRADES[900].ts + 7
    window = [t for t in TRADES if lo <= t.ts <= now]
    ticker = await marketdb.window_ticker(db, "TSBTC", lo, now)
    before = [t for t in TRADES if t.ts < lo]
    assert ticker == marketdb.Ticker24h(
        window[0].price, max(t.price for t in window), min(t.price for t in window), window[-1].price,
        sum(t.quantity for t in window), sum(t.quote_quantity for t in window), len(window),
        window[0].trade_id, window[-1].trade_id, lo, now, before[-1].price,
    )  # fmt: skip


async def test_kline_windows_follow_binance(db: asyncpg.Connection) -> None:
    hourly = reference_klines(TRADES, "1h")
    a, b = hourly[10], hourly[30]
    # start inside a candle: the next candle opens the answer; end selects by open time
    got = await marketdb.klines(db, "TSBTC", "1h", a.open_time + 1, b.open_time, 1000)
    assert got == [k for k in hourly if a.open_time < k.open_time <= b.open_time]
    assert await marketdb.klines(db, "TSBTC", "1h", a.open_time, None, 5) == hourly[10:15]
    assert await marketdb.klines(db, "TSBTC", "1h", None, b.open_time, 5) == hourly[26:31]
    assert await marketdb.klines(db, "TSBTC", "1h", LAST_TS + DAY, None, 5) == []
    assert await marketdb.klines(db, "NOSUCH", "1h", None, None, 5) == []
    with pytest.raises(ValueError):
        await marketdb.klines(db, "TSBTC", "2m", None, None, 5)


async def test_trades_and_aggregate_trades(db: asyncpg.Connection) -> None:
    def row(t: Trade) -> marketdb.TradeRow:
        return marketdb.TradeRow(
            t.trade_id, t.price, t.quantity, t.quote_quantity, t.ts, t.taker_side == Side.SELL
        )

    assert await marketdb.recent_trades(db, "TSBTC", 5) == [row(t) for t in TRADES[-5:]]
    assert await marketdb.trades_from(db, "TSBTC", 100, 5) == [row(t) for t in TRADES[99:104]]
    assert any(a.first_id != a.last_id for a in AGGREGATED)
    assert await marketdb.agg_trades(db, "TSBTC", None, None, None, 1500) == AGGREGATED[-1500:]
    assert await marketdb.agg_trades(db, "TSBTC", 1, None, None, 1200) == AGGREGATED[:1200]
    inner = next(a for a in AGGREGATED[50:] if a.last_id > a.first_id)  # from_id inside an aggregate
    after = [a for a in AGGREGATED if a.id > inner.id][:20]
    assert await marketdb.agg_trades(db, "TSBTC", inner.id + 1, None, None, 20) == after
    start, end = AGGREGATED[300].time, AGGREGATED[340].time
    window = [a for a in AGGREGATED if start <= a.time <= end]
    assert await marketdb.agg_trades(db, "TSBTC", None, start, end, 1000) == window
    assert await marketdb.agg_trades(db, "TSBTC", None, None, end, 3) == window[-3:]


def quiet_time() -> int:
    """A time with trades before it but none in the 24 hours up to it."""
    for t, following in itertools.pairwise(TRADES):
        if following.ts - t.ts > DAY + 2_000:
            return t.ts + DAY + 1_000
    raise AssertionError("no quiet day in the trades")


@pytest.mark.parametrize("when", ["after the last trade", "mid-history", "after a quiet day"])
async def test_ticker_24h_and_average_price(db: asyncpg.Connection, when: str) -> None:
    now = {
        "after the last trade": LAST_TS + 1,
        "mid-history": TRADES[len(TRADES) // 2].ts + 123,
        "after a quiet day": quiet_time(),
    }[when]
    window = [t for t in TRADES if now - DAY <= t.ts <= now]
    before = [t for t in TRADES if t.ts < now - DAY]
    ticker = await marketdb.ticker_24h(db, "TSBTC", now)
    assert ticker is not None
    prev_close = before[-1].price if before else 0
    if window:
        assert ticker == marketdb.Ticker24h(
            window[0].price, max(t.price for t in window), min(t.price for t in window), window[-1].price,
            sum(t.quantity for t in window), sum(t.quote_quantity for t in window), len(window),
            window[0].trade_id, window[-1].trade_id, now - DAY, now, prev_close,
        )  # fmt: skip
    else:
        assert ticker == marketdb.Ticker24h(0, 0, 0, prev_close, 0, 0, 0, -1, -1, now - DAY, now, prev_close)
    recent = [t for t in TRADES if now - 5 * MINUTE < t.ts <= now]
    expected_avg = (
        sum(t.price * t.quantity for t in recent) // sum(t.quantity for t in recent) if recent else None
    )
    assert await marketdb.avg_price(db, "TSBTC", now) == expected_avg
    assert await marketdb.ticker_24h(db, "TSBTC", TRADES[0].ts - 1) is None
