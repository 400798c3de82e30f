"""What the order path answers (gateway.orders.OrderService), typed: each edge makes its own
shape from these (REST and the WebSocket API: gateway.formatting's Binance JSON; gRPC:
gateway.grpcapi.convert's messages). Amounts are integer units, as stored."""

from dataclasses import dataclass
from typing import Generic

from exchange_core.listrecords import OrderListRecord
from exchange_core.markets import Market
from exchange_core.records import OrderRecord, R, TradeRecord
from exchange_proto import events_pb2 as epb
from matching.enums import OrderStatus, Side


@dataclass(frozen=True)  # no slots: a subscripted generic sets __orig_class__ on its instances
class Stored(Generic[R]):
    """A record as settlement stored it, with its market: an order's state (order, openOrders,
    allOrders) or one of the user's trades (myTrades)."""

    market: Market
    record: R


StoredOrder = Stored[OrderRecord]
StoredTrade = Stored[TradeRecord]


@dataclass(frozen=True, slots=True)
class CancelledOrder:
    """A cancelled order's state, the cancel's own client order id and the engine's time for it."""

    market: Market
    order: OrderRecord
    client_order_id: str
    transact_time: int


@dataclass(frozen=True, slots=True)
class AmendedOrder:
    """An order whose quantity an amendment reduced (keeping its priority): its state with the new
    quantity and client order id, the client order id it had, the engine's time for it and the
    amendment's event seq (Binance's executionId)."""

    market: Market
    order: OrderRecord
    orig_client_order_id: str
    transact_time: int
    execution_id: int


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of a new order as taker; the commission is in units of `commission_asset`."""

    price: int
    quantity: int
    commission: int
    commission_asset: str
    trade_id: int


@dataclass(frozen=True, slots=True)
class PreventedMatch:
    """A match of a new order (the taker) that self-trade prevention stopped: the maker it would
    have traded with, at the maker's price, and the quantity it expired of each (0: that side was
    not expired)."""

    prevented_match_id: int
    maker_order_id: int
    price: int
    taker_qty: int
    maker_qty: int


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """A new order as the engine's answer left it: `order.time` (and `update_time`) is the
    answer's first event time, Binance's transactTime; `resp_type` is ACK, RESULT or FULL;
    `prevented` its prevented matches in the order they happened (FULL's preventedMatches)."""

    market: Market
    resp_type: str
    order: OrderRecord
    fills: tuple[Fill, ...]
    prevented: tuple[PreventedMatch, ...] = ()


def placed_order(market: Market, order_id: int, resp_type: str, batch: epb.EventBatch) -> PlacedOrder:
    """The new order `order_id` from the engine's events for it (which hold its acceptance).
    One pass over the events; the prevented matches are looked for only when an expiry carries
    a prevented match id."""
    events = batch.events
    accepted: epb.OrderAccepted | None = None
    fills: list[Fill] = []
    status = OrderStatus.NEW
    executed = executed_quote = prevented_match_id = prevented_qty = 0
    prevented_any = False
    buy = int(Side.BUY)
    for e in events:
        kind = e.WhichOneof("kind")
        if kind == "trade":
            t = e.trade
            if t.taker_order_id == order_id:
                executed, executed_quote = t.taker_filled, t.taker_filled_quote
                status = OrderStatus.PARTIALLY_FILLED
                fee_asset = market.base.name if t.taker_side == buy else market.quote.name
                fills.append(Fill(t.price, t.quantity, t.taker_fee, fee_asset, t.trade_id))
        elif kind == "order_accepted":
            if accepted is None and e.order_accepted.order_id == order_id:
                accepted = e.order_accepted
        elif kind == "order_done":
            done = e.order_done
            if done.order_id == order_id:
                status = OrderStatus(done.status)
                executed, executed_quote = done.filled, done.filled_quote
        elif kind == "order_expired":
            x = e.order_expired
            prevented_any = prevented_any or bool(x.prevented_match_id)
            if x.order_id == order_id:
                prevented_match_id, prevented_qty = x.prevented_match_id, x.remaining
    if accepted is None:
        raise LookupError(f"no acceptance of order {order_id} among its events")
    if not prevented_match_id:
        prevented_qty = 0
    first_ts = events[0].ts
    a = accepted
    order = OrderRecord(
        order_id, a.client_order_id, a.side, a.order_type, a.time_in_force, a.price, a.quantity,
        a.quote_quantity, a.stp_mode, first_ts, status, executed, executed_quote, first_ts,
        stop_price=a.stop_price, trailing_delta=a.trailing_delta, iceberg_qty=a.iceberg_qty,
        order_list_id=a.order_list_id, prevented_match_id=prevented_match_id,
        prevented_qty=prevented_qty,
    )  # fmt: skip
    prevented = prevented_matches(order_id, batch) if prevented_any else ()
    return PlacedOrder(market, resp_type, order, tuple(fills), prevented)


def prevented_matches(taker_order_id: int, batch: epb.EventBatch) -> tuple[PreventedMatch, ...]:
    """The matches of new order `taker_order_id` self-trade prevention stopped, from the
    expiries its events carry a prevented match id on (one per expired side), in order."""
    found: dict[int, PreventedMatch] = {}
    for e in batch.events:
        if e.WhichOneof("kind") != "order_expired" or not e.order_expired.prevented_match_id:
            continue
        x = e.order_expired
        if x.order_id == taker_order_id:
            maker, taker_qty, maker_qty = x.counter_order_id, x.remaining, 0
        elif x.counter_order_id == taker_order_id:
            maker, taker_qty, maker_qty = x.order_id, 0, x.remaining
        else:
            continue
        seen = found.get(x.prevented_match_id)
        if seen is not None:
            taker_qty, maker_qty = taker_qty or seen.taker_qty, maker_qty or seen.maker_qty
        match_id = x.prevented_match_id
        found[match_id] = PreventedMatch(match_id, maker, x.price, taker_qty, maker_qty)
    return tuple(found.values())


@dataclass(frozen=True, slots=True)
class StoredOrderList:
    """An order list as settlement stored it (orderList, openOrderList, allOrderList)."""

    market: Market
    record: OrderListRecord


@dataclass(frozen=True, slots=True)
class PlacedOrderList:
    """A new order list as the engine's answer left it: the list (EXEC_STARTED, EXECUTING, its
    transaction time the answer's first event time) and its members' new-order answers."""

    market: Market
    record: OrderListRecord
    reports: tuple[PlacedOrder, ...]


@dataclass(frozen=True, slots=True)
class CancelledOrderList:
    """A cancelled order list (ALL_DONE) and its members' cancel answers; `list_client_order_id`
    is the cancel's own id (Binance's newClientOrderId of DELETE orderList)."""

    market: Market
    record: OrderListRecord
    list_client_order_id: str
    transact_time: int
    reports: tuple[CancelledOrder, ...]
