"""Binance aggregate trades: consecutive trades of one taker order at one price, summed.

Trade ids increase by one per trade of a symbol, in time order, so an aggregate is a run of ids;
its id is its first trade's id. Reads page through trades by id in both directions.
"""

from datetime import datetime
from typing import NamedTuple

from asyncpg import Record

from exchange_core.db import Conn
from exchange_core.klinesql import to_ms
from matching.enums import Side

SELL = int(Side.SELL)  # a selling taker: the buyer was the maker


class AggTrade(NamedTuple):
    """Consecutive trades of one taker order at one price; `id` is the first trade's id."""

    id: int
    price: int
    qty: int
    first_id: int
    last_id: int
    time: int
    is_buyer_maker: bool


_AGG_COLUMNS = "id, price, qty, time, taker_side, taker_order_id"


def _page(limit: int) -> int:
    """Trades read per query: enough for `limit` aggregates of two trades, at most 1,000."""
    return min(1_000, 2 * limit + 2)


class _Group:
    __slots__ = ("first", "is_buyer_maker", "key", "last", "price", "qty", "time")

    def __init__(self, r: Record) -> None:
        self.key = (r["taker_order_id"], r["price"])
        self.first = self.last = r["id"]
        self.price = r["price"]
        self.qty = r["qty"]
        self.time = to_ms(r["time"])
        self.is_buyer_maker = r["taker_side"] == SELL

    def add(self, r: Record) -> None:
        self.first, self.last = min(self.first, r["id"]), max(self.last, r["id"])
        self.qty += r["qty"]

    def done(self) -> AggTrade:
        return AggTrade(
            self.first, self.price, self.qty, self.first, self.last, self.time, self.is_buyer_maker
        )


def _fold(group: _Group | None, r: Record, key: tuple[int, int], out: list[AggTrade]) -> _Group:
    """The group trade `r` (of `key`) belongs to: `group` if it continues it; else a new one, and
    `group`, complete, appended to `out`."""
    if group is not None and group.key == key:
        group.add(r)
        return group
    if group is not None:
        out.append(group.done())
    return _Group(r)


async def aggregates_forward(
    conn: Conn, symbol: str, cursor: int, cut: bool, end: datetime | None, limit: int
) -> list[AggTrade]:
    """Aggregates from trade id `cursor` on. With `cut`, the trade before it is read too, and the
    trades continuing its group are skipped (they belong to an aggregate begun earlier)."""
    time_filter = "" if end is None else " AND time <= $4"
    sql = (
        f"SELECT {_AGG_COLUMNS} FROM trades WHERE symbol = $1 AND id >= $2{time_filter} ORDER BY id LIMIT $3"
    )
    page = _page(limit)
    out: list[AggTrade] = []
    group: _Group | None = None
    before: tuple[int, int] | None = None
    next_id = cursor - 1 if cut else cursor
    while True:
        rows = await conn.fetch(sql, symbol, next_id, page, *([] if end is None else [end]))
        for r in rows:
            key = (r["taker_order_id"], r["price"])
            if r["id"] < cursor:
                before = key
                continue
            if before is not None:
                if key == before:
                    continue
                before = None
            group = _fold(group, r, key, out)
            if len(out) == limit:
                return out
        if len(rows) < page:
            break
        next_id = rows[-1]["id"] + 1
    if group is not None:
        out.append(group.done())
    return out[:limit]


async def aggregates_backward(conn: Conn, symbol: str, end: datetime | None, limit: int) -> list[AggTrade]:
    """The last `limit` aggregates (up to `end`), oldest first."""
    time_filter = "" if end is None else " AND time <= $4"
    sql = (
        f"SELECT {_AGG_COLUMNS} FROM trades WHERE symbol = $1 AND id <= $2{time_filter}"
        " ORDER BY id DESC LIMIT $3"
    )
    page = _page(limit)
    out: list[AggTrade] = []  # newest first
    group: _Group | None = None
    next_id = (1 << 63) - 1
    while True:
        rows = await conn.fetch(sql, symbol, next_id, page, *([] if end is None else [end]))
        for r in rows:
            group = _fold(group, r, (r["taker_order_id"], r["price"]), out)
            if len(out) == limit:
                return out[::-1]
        if len(rows) < page:
            break
        next_id = rows[-1]["id"] - 1
    if group is not None:
        out.append(group.done())
    return out[:limit][::-1]
