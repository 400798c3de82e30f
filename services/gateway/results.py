"""What the order path answers (gateway.orders.OrderService), typed: each edge makes its own
shape from these (REST and the WebSocket API: gateway.formatting's Binance JSON; gRPC:
gateway.grpcapi.convert's messages). Amounts are integer units, as stored."""

from dataclasses import dataclass

from exchange_core.markets import Market
from exchange_core.records import OrderRecord, TradeRecord
from exchange_proto import events_pb2 as epb
from matching.enums import OrderStatus, Side


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order's state as settlement stored it (order, openOrders, allOrders)."""

    market: Market
    order: OrderRecord


@dataclass(frozen=True, slots=True)
class CancelledOrder:
    """A cancelled order's state, the cancel's own client order id and the engine's time for it."""

    market: Market
    order: OrderRecord
    client_order_id: str
    transact_time: int


@dataclass(frozen=True, slots=True)
class StoredTrade:
    """One of the user's trades (myTrades)."""

    market: Market
    trade: TradeRecord


@dataclass(frozen=True, slots=True)
class Fill:
    """One trade of a new order as taker; the commission is in units of `commission_asset`."""

    price: int
    quantity: int
    commission: int
    commission_asset: str
    trade_id: int


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    """A new order as the engine's answer left it: `order.time` (and `update_time`) is the
    answer's first event time, Binance's transactTime; `resp_type` is ACK, RESULT or FULL."""

    market: Market
    resp_type: str
    order: OrderRecord
    fills: tuple[Fill, ...]


def placed_order(market: Market, order_id: int, resp_type: str, batch: epb.EventBatch) -> PlacedOrder:
    """The new order `order_id` from the engine's events for it (which hold its acceptance)."""
    accepted = next(e.order_accepted for e in batch.events if e.WhichOneof("kind") == "order_accepted")
    first_ts = batch.events[0].ts
    fills: list[Fill] = []
    status = OrderStatus.NEW
    executed = executed_quote = 0
    for e in batch.events:
        kind = e.WhichOneof("kind")
        if kind == "trade" and e.trade.taker_order_id == order_id:
            t = e.trade
            executed, executed_quote = t.taker_filled, t.taker_filled_quote
            status = OrderStatus.PARTIALLY_FILLED
            buyer = int(t.taker_side) == int(Side.BUY)
            fee_asset = market.base.name if buyer else market.quote.name
            fills.append(Fill(t.price, t.quantity, t.taker_fee, fee_asset, t.trade_id))
        elif kind == "order_done" and e.order_done.order_id == order_id:
            status = OrderStatus(e.order_done.status)
            executed, executed_quote = e.order_done.filled, e.order_done.filled_quote
    order = OrderRecord(
        order_id=order_id,
        client_order_id=accepted.client_order_id,
        side=accepted.side,
        order_type=accepted.order_type,
        time_in_force=accepted.time_in_force,
        price=accepted.price,
        quantity=accepted.quantity,
        quote_quantity=accepted.quote_quantity,
        stp_mode=accepted.stp_mode,
        time=first_ts,
        status=status,
        executed=executed,
        executed_quote=executed_quote,
        update_time=first_ts,
        stop_price=accepted.stop_price,
        trailing_delta=accepted.trailing_delta,
    )
    return PlacedOrder(market, resp_type, order, tuple(fills))
