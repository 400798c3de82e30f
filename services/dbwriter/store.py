"""Writing history rows to PostgreSQL / TimescaleDB, in one transaction.

The trades and the orders accepted in the batch go by COPY straight into `trades` and `orders`:
a batch written for the first time (every batch but a redelivery) meets no row of its own
there, and COPY is the cheapest way PostgreSQL takes rows. When a row is already there (a
unique key violated: the batch, or part of it, was written before) that transaction is rolled
back and the batch is written again in a new one through the merge below, which skips or
updates what exists. (A savepoint around the COPY would spare that second transaction, but
costs a third more per batch, and redeliveries are rare: a restart, a takeover.)

The rows come as binary COPY payloads (dbwriter.rows), sent as they are.

Merge: rows go into session-local staging tables (temporary, emptied at commit), by COPY (the
default) or, where COPY FROM STDIN is not available (PGlite over pglite-socket, which then
always merges), by one INSERT of unnested arrays. Then one statement per target table merges
them:

- trades: INSERT ... ON CONFLICT (symbol, time, seq) DO NOTHING, so a redelivered trade is
  skipped;
- orders accepted in the batch: INSERT ... ON CONFLICT (symbol, order_id, created_at) DO UPDATE
  of the cumulative fields, only where the stored row's seq is lower;
- orders accepted earlier: UPDATE of the cumulative fields of their row, again only where the
  stored seq is lower. So an order row never goes back to an older state.

Before any of it, the transaction raises each market's row of partition_fences to the writer's
lease token: when a higher token is there (the market's lease passed to another writer) it
raises Fenced and nothing is written. The row lock orders the two writers' transactions.
"""

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import BinaryIO, cast

import asyncpg

from dbwriter.copyformat import decode_rows
from dbwriter.rows import (
    FILLED,
    ORDER_COLUMNS,
    PARTIALLY_FILLED,
    TRADE_COLUMNS,
    HistoryRows,
)
from exchange_core.db import Conn
from exchange_core.lease import Fenced

STAGED_TRADES = "dbwriter_trades"
STAGED_ORDERS = "dbwriter_orders"


def _staging_ddl(name: str, columns: dict[str, str]) -> str:
    body = ", ".join(f"{col} {kind}" for col, kind in columns.items())
    return f"CREATE TEMP TABLE IF NOT EXISTS {name} ({body}) ON COMMIT DELETE ROWS"


CREATE_STAGING = f"{_staging_ddl(STAGED_TRADES, TRADE_COLUMNS)}; {_staging_ddl(STAGED_ORDERS, ORDER_COLUMNS)}"

TRADE_TABLE_COLUMNS = list(TRADE_COLUMNS)
ORDER_TABLE_COLUMNS = list(ORDER_COLUMNS)

MERGE_TRADES = f"""
INSERT INTO trades (symbol, id, time, price, qty, quote_qty, taker_side, maker_order_id, taker_order_id,
                    maker_user_id, taker_user_id, maker_fee, taker_fee, seq)
SELECT symbol, id, time, price, qty, quote_qty, taker_side, maker_order_id, taker_order_id,
       maker_user_id, taker_user_id, maker_fee, taker_fee, seq
FROM {STAGED_TRADES}
ON CONFLICT (symbol, time, seq) DO NOTHING
"""

MERGE_NEW_ORDERS = f"""
INSERT INTO orders (symbol, order_id, user_id, client_order_id, side, type, time_in_force, price, qty,
                    quote_qty, status, executed_qty, cumulative_quote_qty, created_at, updated_at, seq,
                    stop_price, trailing_delta, iceberg_qty)
SELECT symbol, order_id, user_id, client_order_id, side, type, time_in_force, price, qty, quote_qty,
       status, executed_qty, cumulative_quote_qty, created_at, updated_at,
       seq, stop_price, trailing_delta, iceberg_qty
FROM {STAGED_ORDERS}
WHERE created_at IS NOT NULL
ON CONFLICT (symbol, order_id, created_at) DO UPDATE
SET status = EXCLUDED.status, executed_qty = EXCLUDED.executed_qty, qty = EXCLUDED.qty,
    client_order_id = EXCLUDED.client_order_id,
    cumulative_quote_qty = EXCLUDED.cumulative_quote_qty, updated_at = EXCLUDED.updated_at, seq = EXCLUDED.seq
WHERE orders.seq < EXCLUDED.seq
"""

MERGE_KNOWN_ORDERS = f"""
UPDATE orders AS o
SET status = COALESCE(s.status, CASE WHEN COALESCE(s.qty, o.qty) > 0
                                          AND s.executed_qty >= COALESCE(s.qty, o.qty)
                                     THEN {FILLED} ELSE {PARTIALLY_FILLED} END),
    qty = COALESCE(s.qty, o.qty), client_order_id = COALESCE(s.client_order_id, o.client_order_id),
    executed_qty = s.executed_qty, cumulative_quote_qty = s.cumulative_quote_qty,
    updated_at = s.updated_at, seq = s.seq
FROM {STAGED_ORDERS} AS s
WHERE s.created_at IS NULL AND o.symbol = s.symbol AND o.order_id = s.order_id AND o.seq < s.seq
"""


RAISE_FENCES = """
INSERT INTO partition_fences (symbol, role, token)
SELECT symbol, $3, token FROM unnest($1::text[], $2::bigint[]) AS f(symbol, token)
ON CONFLICT (symbol, role) DO UPDATE SET token = EXCLUDED.token
WHERE partition_fences.token <= EXCLUDED.token
RETURNING symbol
"""


class MarketsFenced(Fenced):
    """A higher dbwriter token has written `symbols`: their leases are another writer's."""

    def __init__(self, symbols: list[str]) -> None:
        super().__init__(f"a higher dbwriter token has written {', '.join(symbols)}")
        self.symbols = symbols


def session_settings(lease_ttl_ms: int) -> dict[str, str]:
    """PostgreSQL settings of a writer's connections: a transaction left idle for longer than the
    lease's TTL (its writer stopped or cut off inside it, so its lease is gone too) is ended by
    the server, which releases its locks (the fence row, its rows): otherwise the market's next
    writer would wait on them for as long as the stopped one stays stopped."""
    return {"idle_in_transaction_session_timeout": str(lease_ttl_ms)}


@dataclass(frozen=True, slots=True)
class Written:
    """What one write changed: trades inserted, order rows inserted or updated."""

    trades: int
    orders: int


async def write_rows(
    conn: Conn, rows: HistoryRows, use_copy: bool = True, fences: Mapping[str, int] | None = None
) -> Written:
    """Write `rows` in one transaction; idempotent (writing the same rows again changes nothing).
    `fences`: the writer's lease token per market of the rows (role "dbwriter").

    Needs the 002_history and 005_partition_fences migrations. Raises MarketsFenced, or whatever
    asyncpg raises; nothing is written then.
    """
    if use_copy:
        # A row written before (a redelivered round) makes the direct COPY refuse the round; its
        # transaction is rolled back and the round is merged below.
        with contextlib.suppress(asyncpg.UniqueViolationError):
            return await _write(conn, rows, True, fences, direct=True)
    return await _write(conn, rows, use_copy, fences, direct=False)


async def _write(
    conn: Conn, rows: HistoryRows, use_copy: bool, fences: Mapping[str, int] | None, direct: bool
) -> Written:
    """One transaction: the fences, then the new trades and orders by COPY into their tables
    (`direct`: raises UniqueViolationError when one is there) or merged; the orders accepted
    earlier merged."""
    trades = rows.trades_payload() if rows.trade_count else b""
    new_orders, new_count, known_orders, known_count = rows.orders_payloads()
    trades_written = orders_written = 0
    async with conn.transaction():
        if fences:
            symbols = list(fences)
            raised = await conn.fetch(RAISE_FENCES, symbols, [fences[s] for s in symbols], "dbwriter")
            refused = set(symbols) - {r["symbol"] for r in raised}
            if refused:
                raise MarketsFenced(sorted(refused))
        if direct:
            if trades:
                await _copy(conn, "trades", TRADE_TABLE_COLUMNS, trades)
            if new_count:
                await _copy(conn, "orders", ORDER_TABLE_COLUMNS, new_orders)
            trades_written, orders_written = rows.trade_count, new_count
        if (trades and not direct) or (new_count and not direct) or known_count:
            await conn.execute(CREATE_STAGING)
        if trades and not direct:
            await _stage(conn, STAGED_TRADES, TRADE_COLUMNS, trades, use_copy)
            trades_written = _count(await conn.execute(MERGE_TRADES))
        if new_count and not direct:
            await _stage(conn, STAGED_ORDERS, ORDER_COLUMNS, new_orders, use_copy)
        if known_count:
            await _stage(conn, STAGED_ORDERS, ORDER_COLUMNS, known_orders, use_copy)
        if new_count and not direct:
            orders_written = _count(await conn.execute(MERGE_NEW_ORDERS))
        if known_count:
            orders_written += _count(await conn.execute(MERGE_KNOWN_ORDERS))
    return Written(trades_written, orders_written)


async def _copy(conn: Conn, table: str, columns: list[str], payload: bytes) -> None:
    """COPY a binary payload of rows with `columns` into `table`."""
    # asyncpg takes any buffer (its stubs list only paths, files and async iterables), but bytes
    # would be taken for a path: a memoryview.
    source = cast(BinaryIO, memoryview(payload))
    await conn.copy_to_table(table, source=source, columns=columns, format="binary")


async def _stage(conn: Conn, table: str, columns: dict[str, str], payload: bytes, use_copy: bool) -> None:
    if use_copy:
        await _copy(conn, table, list(columns), payload)
        return
    records = decode_rows(payload, columns)
    arrays = [list(col) for col in zip(*records, strict=True)]
    unnest = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(columns.values(), start=1))
    await conn.execute(f"INSERT INTO {table} SELECT * FROM unnest({unnest})", *arrays)


def _count(status: str) -> int:
    """The row count of a command status such as 'INSERT 0 12' or 'UPDATE 3'."""
    return int(status.rsplit(" ", 1)[-1])
