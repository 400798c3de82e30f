"""After a run: read the journals back and check nothing was lost, duplicated or mis-settled."""

from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg
from redis.asyncio import Redis

from engine.journal import decode_entry
from exchange_core.keys import FEE_ACCOUNT, Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import Market
from exchange_core.protocol import decode_events
from matching import (
    ContingencyType,
    Event,
    ListStatus,
    ListStatusType,
    MatchingEngine,
    OrderAccepted,
    OrderAmended,
    OrderDone,
    PlaceOrderList,
    Side,
    Trade,
)


async def stream_events(redis: Redis, keys: Keys, symbol: str) -> list[Event]:
    out: list[Event] = []
    for _, fields in await redis.xrange(keys.events(symbol)):
        out += decode_events(fields[b"e"])[1]
    return out


async def pending_reserves(redis: Redis, keys: Keys, symbol: str) -> dict[int, tuple[int, int]]:
    """{order id: (side, reserve)} of every pending order of the OTO and OTOCO lists in the
    market's command journal (the gateway locked their reserve with the list's)."""
    out: dict[int, tuple[int, int]] = {}
    for entry_id, fields in await redis.xrange(keys.commands(symbol)):
        c = decode_entry(entry_id, fields).command
        if isinstance(c, PlaceOrderList) and c.contingency != ContingencyType.OCO:
            for member in c.orders[1:]:
                out[member.order_id] = (member.side, member.reserve)
    return out


async def replay_journal(redis: Redis, keys: Keys, market: Market) -> list[Event]:
    """The events a clean run of every journaled command gives."""
    engine = MatchingEngine(market.spec)
    out: list[Event] = []
    for entry_id, fields in await redis.xrange(keys.commands(market.symbol)):
        out += engine.apply(decode_entry(entry_id, fields).command)
    return out


@dataclass
class LedgerModel:
    """Balances recomputed from deposits and events alone. An OrderRejected (or a rejected order
    list) changes nothing: its funds were locked at the gateway and the rejection releases them.
    An OCO's members share one reservation: it is locked once. An OTO or OTOCO list's pending
    orders (`pending`: their side and reserve, from the commands) are locked when the list starts
    (the gateway locked them with it; an OTOCO pair's one reservation is its first member's), not
    again when they are placed."""

    free: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    locked: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    # order lists whose shared reservation is counted (with their first member's acceptance)
    lists: set[int] = field(default_factory=set)
    pending: dict[int, tuple[int, int]] = field(default_factory=dict)

    def apply(self, market: Market, events: list[Event]) -> None:
        base, quote = market.spec.base, market.spec.quote
        for e in events:
            if isinstance(e, ListStatus) and e.status_type == ListStatusType.EXEC_STARTED:
                if len(e.order_ids) > 1 and e.order_ids[1] in self.pending:
                    side, reserve = self.pending[e.order_ids[1]]
                    asset = quote if side == Side.BUY else base
                    self.free[(e.user_id, asset)] -= reserve
                    self.locked[(e.user_id, asset)] += reserve
            elif isinstance(e, OrderAccepted):
                if e.order_id in self.pending:
                    continue  # a pending order placed: locked when its list started
                if e.order_list_id:
                    if e.order_list_id in self.lists:
                        continue  # a later member: the list's one reservation is counted already
                    self.lists.add(e.order_list_id)
                asset = quote if e.side == Side.BUY else base
                self.free[(e.user_id, asset)] -= e.reserve
                self.locked[(e.user_id, asset)] += e.reserve
            elif isinstance(e, Trade):
                taker_buys = e.taker_side == Side.BUY
                buyer, seller = (
                    (e.taker_user_id, e.maker_user_id) if taker_buys else (e.maker_user_id, e.taker_user_id)
                )
                buyer_fee, seller_fee = (
                    (e.taker_fee, e.maker_fee) if taker_buys else (e.maker_fee, e.taker_fee)
                )
                self.locked[(buyer, quote)] -= e.quote_quantity
                self.free[(buyer, base)] += e.quantity - buyer_fee
                self.locked[(seller, base)] -= e.quantity
                self.free[(seller, quote)] += e.quote_quantity - seller_fee
                self.free[(FEE_ACCOUNT, base)] += buyer_fee
                self.free[(FEE_ACCOUNT, quote)] += seller_fee
            elif isinstance(e, OrderDone | OrderAmended):  # an amendment releases part at once
                asset = quote if e.side == Side.BUY else base
                self.locked[(e.user_id, asset)] -= e.release
                self.free[(e.user_id, asset)] += e.release


async def deposits(dsn: str) -> dict[tuple[int, str], int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT user_id, asset, sum(amount)::bigint AS total FROM deposits GROUP BY 1, 2"
        )
    finally:
        await conn.close()
    return {(r["user_id"], r["asset"]): int(r["total"]) for r in rows}


async def check_ledger(
    redis: Redis, keys: Keys, dsn: str, markets: dict[str, Market], user_ids: list[int]
) -> tuple[LedgerModel, dict[str, int]]:
    """Every balance equals deposits + events; totals are conserved. Returns the model and totals."""
    model = LedgerModel()
    for market in markets.values():
        model.pending.update(await pending_reserves(redis, keys, market.symbol))
    for (user, asset), amount in (await deposits(dsn)).items():
        if user in user_ids:
            model.free[(user, asset)] += amount
    for market in markets.values():
        model.apply(market, await stream_events(redis, keys, market.symbol))
    ledger = Ledger(redis, keys)
    assets = {m.spec.base for m in markets.values()} | {m.spec.quote for m in markets.values()}
    totals: dict[str, int] = defaultdict(int)
    for user in [*user_ids, FEE_ACCOUNT]:
        held = await ledger.balances(user)
        for asset in assets:
            free, locked = held.get(asset, (0, 0))
            assert (free, locked) == (model.free[(user, asset)], model.locked[(user, asset)]), (user, asset)
            totals[asset] += free + locked
    deposited: dict[str, int] = defaultdict(int)
    for (user, asset), amount in (await deposits(dsn)).items():
        if user in user_ids:
            deposited[asset] += amount
    for asset in assets:
        assert totals[asset] == deposited[asset], (asset, totals[asset], deposited[asset])
    return model, dict(totals)
