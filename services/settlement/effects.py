"""What a market's events do to each user's ledger, order states and trades.

Pure: from events to per-user operations for the settle.lua script, each already encoded as the
script's argument (exchange_core.ledger.encode_op's text, written here from templates). Balance
fields are "ASSET:free" / "ASSET:locked"; amounts are integers.
"""

from dataclasses import dataclass, field
from typing import Final, cast

from exchange_core.keys import FEE_ACCOUNT
from exchange_core.ledger import SettleOp
from exchange_core.listrecords import ListMember, OrderListRecord
from exchange_core.markets import Market
from exchange_core.prevented import KEPT_PER_MARKET, PreventedMatch
from matching import (
    ContingencyType,
    Event,
    ListOrderStatus,
    ListStatus,
    ListStatusType,
    OrderAccepted,
    OrderAmended,
    OrderCancelled,
    OrderDone,
    OrderExpired,
    OrderRejected,
    OrderStatus,
    OrderTriggered,
    Reason,
    Side,
    Trade,
)
from settlement.jsontext import json_bool, json_text
from settlement.orderinfo import OrderInfo
from settlement.reports import ExecutionReports, as_filled, list_status_report

# Enum values as native ints (mypyc reads a Final global directly, an enum member by attribute).
NEW: Final = int(OrderStatus.NEW)
PARTIALLY_FILLED: Final = int(OrderStatus.PARTIALLY_FILLED)
FILLED: Final = int(OrderStatus.FILLED)
CANCELED: Final = int(OrderStatus.CANCELED)
EXPIRED: Final = int(OrderStatus.EXPIRED)
EXPIRED_IN_MATCH: Final = int(OrderStatus.EXPIRED_IN_MATCH)
PENDING_NEW: Final = int(OrderStatus.PENDING_NEW)
BUY: Final = int(Side.BUY)
SELF_TRADE_TAKER: Final = int(Reason.SELF_TRADE_TAKER)
OCO: Final = int(ContingencyType.OCO)
REJECT: Final = int(ListOrderStatus.REJECT)
EXEC_STARTED: Final = int(ListStatusType.EXEC_STARTED)
FEE: Final = FEE_ACCOUNT


@dataclass
class UserEffects:
    ops: list[SettleOp] = field(default_factory=list)
    # oid -> the order whose last state of the batch `finish` encodes (once per order and batch,
    # however many events changed it): the state its OrderInfo's `written_*` fields hold
    orders: dict[int, OrderInfo] = field(default_factory=dict)
    # the user's payloads for user.{uid} (executionReports, listStatus), as JSON text
    reports: list[str] = field(default_factory=list)
    # order id -> the index in `reports` of its last TRADE report, made FILLED when its OrderDone
    # is (-1: that report says FILLED already)
    last_trade: dict[int, int] = field(default_factory=dict)
    assets: set[str] = field(default_factory=set)  # whose balances changed
    # prevented match id -> (seq of its last event, the record), written by `finish`
    prevented: dict[int, tuple[int, PreventedMatch]] = field(default_factory=dict)

    def balance(self, seq: int, asset: str, kind: str, delta: int) -> None:
        if delta:
            self.ops.append(f"{seq}\nB\n{asset}:{kind}\n{delta}")
            self.assets.add(asset)

    def order_state(self, order_id: int) -> tuple[int, str, int, str]:
        """(seq, encoded state, open, claimed client order id) of the order's last state."""
        info = self.orders[order_id]
        state = info.state(info.written_status, info.executed, info.executed_quote, info.written_time)
        return info.written_seq, state, info.written_open, info.written_claim

    def finish(self) -> list[SettleOp]:
        out = list(self.ops)
        for oid, info in self.orders.items():
            state = info.state(info.written_status, info.executed, info.executed_quote, info.written_time)
            out.append(f"{info.written_seq}\nO\n{oid}\n{info.written_open}\n{state}\n{info.written_claim}")
        for match_id, (seq, record) in self.prevented.items():
            out.append(f"{seq}\nP\n{match_id}\n{KEPT_PER_MARKET}\n{record.encode().decode()}")
        return out

    def prevent(self, seq: int, record: PreventedMatch) -> None:
        """Record one side of a prevented match (merged with the other side, if seen)."""
        known = self.prevented.get(record.prevented_match_id)
        self.prevented[record.prevented_match_id] = (
            seq,
            record if known is None else known[1].merged(record),
        )


class Effects:
    """Accumulates the effects of a batch of one market's events, per user."""

    def __init__(self, market: Market, known: dict[int, OrderInfo]) -> None:
        self.market = market
        self.spec = market.spec
        self.known = known
        # orders this batch finished (gone from `known`), for the order lists that name them
        self.finished: dict[int, OrderInfo] = {}
        self.users: dict[int, UserEffects] = {}
        # the reservations the engine saw, as members of the market's pending reservations
        # ("uid:SYM:oid", exchange_core.keys.Keys.pending_reservations)
        self.confirmed: list[str] = []
        self.execution = ExecutionReports(market)
        self.asset_text = {
            self.spec.base: json_text(self.spec.base),
            self.spec.quote: json_text(self.spec.quote),
        }

    def user(self, user_id: int) -> UserEffects:
        try:
            return self.users[user_id]
        except KeyError:
            fx = self.users[user_id] = UserEffects()
            return fx

    def apply(self, e: Event) -> None:
        """Add event `e`'s effects (events with none, such as a book delta, are ignored). The
        dispatch is by exact type, in code rather than through a table of bound methods, which
        would make every Effects a reference cycle left to the garbage collector."""
        kind = type(e)
        if kind is OrderAccepted:
            self._accepted(cast(OrderAccepted, e))
        elif kind is OrderDone:
            self._done(cast(OrderDone, e))
        elif kind is Trade:
            self._trade(cast(Trade, e))
        elif kind is OrderCancelled:
            self._ended(cast(OrderCancelled, e))
        elif kind is OrderExpired:
            self._ended(cast(OrderExpired, e))
        elif kind is OrderRejected:
            self._rejected(cast(OrderRejected, e))
        elif kind is OrderTriggered:
            self._triggered(cast(OrderTriggered, e))
        elif kind is OrderAmended:
            self._amended(cast(OrderAmended, e))
        elif kind is ListStatus:
            self._list_status(cast(ListStatus, e))

    def _spent_asset(self, side: int) -> str:
        return self.spec.quote if side == BUY else self.spec.base

    def _accepted(self, e: OrderAccepted) -> None:
        info = OrderInfo(
            e.order_id, e.user_id, e.client_order_id, e.side, e.order_type, e.time_in_force,
            e.price, e.quantity, e.quote_quantity, e.stp_mode, e.ts, stop_price=e.stop_price,
            trailing_delta=e.trailing_delta, iceberg_qty=e.iceberg_qty,
            order_list_id=e.order_list_id,
        )  # fmt: skip
        self.known[e.order_id] = info
        fx = self.user(e.user_id)
        # The funds were locked by the gateway: the position it left goes out with the NEW report.
        spent = self._spent_asset(e.side)
        fx.ops.append(f"{e.seq}\nC\n{self.spec.symbol}:{e.order_id}\n{spent}")
        self._order_state(fx, e.seq, info, NEW, 0, 0, e.ts, True)
        self.confirmed.append(f"{e.user_id}:{self.spec.symbol}:{e.order_id}")
        fx.reports.append(self.execution.report(info, "NEW", NEW, 0, 0, e.ts))

    def _triggered(self, e: OrderTriggered) -> None:
        """A stop order starts working: its state says so, and an executionReport NEW with w=true."""
        info = self.known.get(e.order_id)
        if info is None:
            return
        info.triggered = e.ts
        fx = self.user(e.user_id)
        self._order_state(fx, e.seq, info, NEW, 0, 0, e.ts, True)
        fx.reports.append(self.execution.report(info, "NEW", NEW, 0, 0, e.ts))

    def _amended(self, e: OrderAmended) -> None:
        """An order reduced in place: the released funds back to free, its state with the new
        quantity and client order id (claimed for the gateway's lookups), a REPLACED report."""
        fx = self.user(e.user_id)
        asset = self._spent_asset(e.side)
        fx.balance(e.seq, asset, "locked", -e.release)
        fx.balance(e.seq, asset, "free", e.release)
        info = self.known.get(e.order_id)
        if info is None:
            return
        info.quantity = e.quantity
        info.client_order_id = e.client_order_id
        info.report_fields = None
        status = PARTIALLY_FILLED if e.filled else NEW
        self._order_state(fx, e.seq, info, status, e.filled, e.filled_quote, e.ts, True)
        info.written_claim = e.client_order_id
        fx.reports.append(
            self.execution.report(
                info, "REPLACED", status, e.filled, e.filled_quote, e.ts,
                orig_client_order_id=e.orig_client_order_id,
            )
        )  # fmt: skip

    def _trade(self, t: Trade) -> None:
        spec = self.spec
        taker_buys = t.taker_side == BUY
        buyer, seller = (
            (t.taker_user_id, t.maker_user_id) if taker_buys else (t.maker_user_id, t.taker_user_id)
        )
        buyer_fee, seller_fee = (t.taker_fee, t.maker_fee) if taker_buys else (t.maker_fee, t.taker_fee)
        b, s, f = self.user(buyer), self.user(seller), self.user(FEE)
        b.balance(t.seq, spec.quote, "locked", -t.quote_quantity)
        b.balance(t.seq, spec.base, "free", t.quantity - buyer_fee)
        s.balance(t.seq, spec.base, "locked", -t.quantity)
        s.balance(t.seq, spec.quote, "free", t.quote_quantity - seller_fee)
        f.balance(t.seq, spec.base, "free", buyer_fee)
        f.balance(t.seq, spec.quote, "free", seller_fee)
        self._trade_side(
            t, t.maker_order_id, t.maker_user_id, t.maker_filled, t.maker_filled_quote, t.maker_fee,
            True, not taker_buys,
        )  # fmt: skip
        self._trade_side(
            t, t.taker_order_id, t.taker_user_id, t.taker_filled, t.taker_filled_quote, t.taker_fee,
            False, taker_buys,
        )  # fmt: skip

    def _trade_side(
        self,
        t: Trade,
        order_id: int,
        user_id: int,
        filled: int,
        filled_quote: int,
        fee: int,
        is_maker: bool,
        is_buyer: bool,
    ) -> None:
        """One order's share of trade `t`: its state, its user's trade record, its TRADE report."""
        spec = self.spec
        info = self.known.get(order_id)
        fx = self.user(user_id)
        status = PARTIALLY_FILLED
        if info is not None:
            if info.quantity and filled >= info.quantity:
                status = FILLED
            self._order_state(fx, t.seq, info, status, filled, filled_quote, t.ts, True)
        fee_asset = spec.base if is_buyer else spec.quote
        order_list_id = info.order_list_id if info is not None else 0
        trade = trade_record(t, order_id, fee, self.asset_text[fee_asset], is_buyer, is_maker, order_list_id)
        fx.ops.append(f"{t.seq}\nT\n{t.trade_id}\n{trade}")
        if info is not None:
            # (a FILLED report needs no change when the order is done: -1)
            fx.last_trade[order_id] = len(fx.reports) if status == PARTIALLY_FILLED else -1
            fx.reports.append(
                self.execution.report(
                    info, "TRADE", status, filled, filled_quote, t.ts, t.quantity, t.price,
                    t.quote_quantity, fee, fee_asset, t.trade_id, is_maker,
                )
            )  # fmt: skip

    def _done(self, e: OrderDone) -> None:
        fx = self.user(e.user_id)
        asset = self._spent_asset(e.side)
        fx.balance(e.seq, asset, "locked", -e.release)
        fx.balance(e.seq, asset, "free", e.release)
        fx.ops.append(f"{e.seq}\nX\n{self.spec.symbol}:{e.order_id}")
        info = self.known.pop(e.order_id, None)
        if info is not None:
            self.finished[e.order_id] = info
            self._order_state(fx, e.seq, info, e.status, e.filled, e.filled_quote, e.ts, False)
            if e.status == FILLED:
                # The last TRADE report of a completed order says FILLED, as Binance's does.
                last = fx.last_trade.get(e.order_id, -1)
                if last >= 0:
                    fx.reports[last] = as_filled(fx.reports[last])

    def _ended(self, e: OrderCancelled | OrderExpired) -> None:
        """CANCELED, EXPIRED or (self-trade prevention) EXPIRED_IN_MATCH reports; the latter
        record the prevented match and carry its id and the quantity prevented."""
        if isinstance(e, OrderExpired) and e.prevented_match_id:
            self._prevented(e)
            return
        info = self.known.get(e.order_id)
        if info is None:
            return
        if isinstance(e, OrderCancelled):
            execution, status = "CANCELED", CANCELED
        else:
            execution, status = "EXPIRED", EXPIRED
        self.user(e.user_id).reports.append(
            self.execution.report(info, execution, status, info.executed, info.executed_quote, e.ts)
        )

    def _prevented(self, e: OrderExpired) -> None:
        """An order expired by self-trade prevention: the user's prevented match record (the
        expired order is the taker for SELF_TRADE_TAKER, else the maker), its order state's
        prevented match id and quantity (written with its OrderDone, next) and its
        TRADE_PREVENTION report."""
        is_taker = e.reason == SELF_TRADE_TAKER
        taker, maker = (e.order_id, e.counter_order_id) if is_taker else (e.counter_order_id, e.order_id)
        fx = self.user(e.user_id)
        fx.prevent(
            e.seq,
            PreventedMatch(
                e.prevented_match_id, taker, maker, e.stp_mode, e.price,
                e.remaining if is_taker else 0, 0 if is_taker else e.remaining, e.ts,
            ),
        )  # fmt: skip
        info = self.known.get(e.order_id)
        if info is None:
            return
        info.prevented_match_id, info.prevented_qty = e.prevented_match_id, e.remaining
        fx.reports.append(
            self.execution.report(
                info, "TRADE_PREVENTION", EXPIRED_IN_MATCH, info.executed,
                info.executed_quote, e.ts, prevented=e,
            )
        )  # fmt: skip

    def _rejected(self, e: OrderRejected) -> None:
        fx = self.user(e.user_id)
        asset = self._spent_asset(e.side)
        fx.balance(e.seq, asset, "locked", -e.release)
        fx.balance(e.seq, asset, "free", e.release)
        fx.ops.append(f"{e.seq}\nX\n{self.spec.symbol}:{e.order_id}")
        self.confirmed.append(f"{e.user_id}:{self.spec.symbol}:{e.order_id}")

    def _list_status(self, e: ListStatus) -> None:
        """A rejected list gives back its reservation (recorded against its first member's id,
        as the gateway made it); any other status is the list's stored state (open until
        ALL_DONE) and a listStatus user event. The list's transaction time is its creation: its
        members' acceptance time."""
        fx = self.user(e.user_id)
        symbol = self.spec.symbol
        with_pending = e.contingency != OCO
        if e.list_status == REJECT:
            if e.order_ids:
                fx.ops.append(f"{e.seq}\nR\n{symbol}:{e.order_ids[0]}\n{e.release}")
                self.confirmed.append(f"{e.user_id}:{self.spec.symbol}:{e.order_ids[0]}")
            if with_pending and len(e.order_ids) > 1:
                fx.ops.append(f"{e.seq}\nR\n{symbol}:{e.order_ids[1]}\n{e.pending_release}")
                self.confirmed.append(f"{e.user_id}:{self.spec.symbol}:{e.order_ids[1]}")
            return
        if with_pending and e.status_type == EXEC_STARTED:
            self._pending_started(fx, e)
        members: list[ListMember] = []
        times: list[int] = []
        for oid in e.order_ids:
            info = self.known.get(oid) or self.finished.get(oid)
            members.append(ListMember(oid, info.client_order_id if info is not None else ""))
            if info is not None:
                times.append(info.time)
        created = min(times) if times else e.ts
        record = OrderListRecord(
            e.order_list_id, self.spec.symbol, e.contingency, e.status_type, e.list_status,
            e.list_client_order_id, created, tuple(members),
        )  # fmt: skip
        is_open = 1 if record.is_open else 0
        fx.ops.append(
            f"{e.seq}\nL\n{e.order_list_id}\n{is_open}\n{record.encode().decode()}\n"
            f"{created}:{e.list_client_order_id}"
        )
        fx.reports.append(list_status_report(record, e.ts))

    def _pending_started(self, fx: UserEffects, e: ListStatus) -> None:
        """An OTO or OTOCO list started: the pending orders' reservation (against the first
        pending member's id) is the engine's now, never an orphan; each pending order's stored
        PENDING_NEW state (the gateway's, read back as its info) gets the list's id and a
        PENDING_NEW report, unless an event of this batch placed or ended it before."""
        fx.ops.append(f"{e.seq}\nC\n{self.spec.symbol}:{e.order_ids[1]}\n")
        self.confirmed.append(f"{e.user_id}:{self.spec.symbol}:{e.order_ids[1]}")
        for oid in e.order_ids[1:]:
            info = self.known.get(oid)
            if info is None or oid in fx.orders:
                continue
            info.order_list_id = e.order_list_id
            info.report_fields = None
            self._order_state(fx, e.seq, info, PENDING_NEW, 0, 0, e.ts, False)
            fx.reports.append(self.execution.report(info, "NEW", PENDING_NEW, 0, 0, e.ts))

    def _order_state(
        self,
        fx: UserEffects,
        seq: int,
        info: OrderInfo,
        status: int,
        executed: int,
        executed_quote: int,
        ts: int,
        is_open: bool,
    ) -> None:
        # Encoded by fx.finish; `info` does not change after this but through another call here.
        info.written_seq, info.written_status, info.written_time = seq, status, ts
        info.written_open, info.written_claim = (1 if is_open else 0), ""
        info.executed, info.executed_quote = executed, executed_quote
        fx.orders[info.order_id] = info


def trade_record(
    t: Trade, order_id: int, fee: int, fee_asset: str, is_buyer: bool, is_maker: bool, order_list_id: int
) -> str:
    """One side of trade `t` as its user's trade history keeps it: TradeRecord.encode of the
    same fields (as text), written from a template; `fee_asset` is the asset's JSON text."""
    text = (
        f'{{"id":{t.trade_id},"o":{order_id},"p":{t.price},"q":{t.quantity},"qq":{t.quote_quantity},'
        f'"fee":{fee},"fa":{fee_asset},"T":{t.ts},"b":{json_bool(is_buyer)},"m":{json_bool(is_maker)}'
    )
    if order_list_id:  # outside any order list: no "ol"
        return f'{text},"ol":{order_list_id}}}'
    return f"{text}}}"
