"""Events: what the engine did. Each carries the market's `seq`, one higher than the last.

Every accepted order ends with exactly one `OrderDone`, whose `release` is the part of its
reservation not spent (quote units for a BUY, base units for a SELL). Amounts are smallest units;
prices are quote units per whole base unit. Enumerated fields hold the int values of
`matching.enums` (`side` a Side, `reason` a Reason, `status` an OrderStatus, ...).

Events are plain classes with explicit constructors because they are built on the hot path;
`Record` gives them value equality and a readable repr.
"""

from typing import ClassVar

from mypy_extensions import mypyc_attr

from matching.record import Record


@mypyc_attr(acyclic=True)
class OrderAccepted(Record):
    FIELDS: ClassVar[tuple[str, ...]] = (
        "seq",
        "ts",
        "order_id",
        "user_id",
        "client_order_id",
        "side",
        "order_type",
        "time_in_force",
        "price",
        "quantity",
        "quote_quantity",
        "reserve",
        "stp_mode",
        "stop_price",
        "trailing_delta",
        "iceberg_qty",
        "order_list_id",
    )

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        side: int,
        order_type: int,
        time_in_force: int,
        price: int,
        quantity: int,
        quote_quantity: int,
        reserve: int,
        stp_mode: int,
        stop_price: int = 0,
        trailing_delta: int = 0,
        iceberg_qty: int = 0,
        order_list_id: int = 0,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price = price
        self.quantity = quantity
        self.quote_quantity = quote_quantity
        self.reserve = reserve
        self.stp_mode = stp_mode
        self.stop_price = stop_price
        self.trailing_delta = trailing_delta
        self.iceberg_qty = iceberg_qty
        self.order_list_id = order_list_id


@mypyc_attr(acyclic=True)
class OrderTriggered(Record):
    """A waiting stop order reached its stop price: it now matches as a MARKET or LIMIT order."""

    FIELDS: ClassVar[tuple[str, ...]] = ("seq", "ts", "order_id", "user_id", "client_order_id", "stop_price")

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        stop_price: int,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.stop_price = stop_price


@mypyc_attr(acyclic=True)
class OrderRejected(Record):
    """A PlaceOrder refused: nothing changed but the seq; `release` returns the whole reserve."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "seq",
        "ts",
        "order_id",
        "user_id",
        "client_order_id",
        "side",
        "reason",
        "release",
    )

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        side: int,
        reason: int,
        release: int,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.side = side
        self.reason = reason
        self.release = release


@mypyc_attr(acyclic=True)
class CancelRejected(Record):
    """A CancelOrder or CancelAll refused: nothing changed but the seq."""

    FIELDS: ClassVar[tuple[str, ...]] = ("seq", "ts", "order_id", "user_id", "client_order_id", "reason")

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        reason: int,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.reason = reason


@mypyc_attr(acyclic=True)
class Trade(Record):
    """A fill at the maker's price. The buyer's fee is in base units, the seller's in quote units.

    `*_filled` and `*_filled_quote` are the orders' cumulative executed quantity (base units) and
    quote amount after this trade.
    """

    FIELDS: ClassVar[tuple[str, ...]] = (
        "seq",
        "ts",
        "trade_id",
        "price",
        "quantity",
        "quote_quantity",
        "taker_side",
        "maker_order_id",
        "maker_user_id",
        "taker_order_id",
        "taker_user_id",
        "maker_fee",
        "taker_fee",
        "maker_filled",
        "maker_filled_quote",
        "taker_filled",
        "taker_filled_quote",
    )

    def __init__(
        self,
        seq: int,
        ts: int,
        trade_id: int,
        price: int,
        quantity: int,
        quote_quantity: int,
        taker_side: int,
        maker_order_id: int,
        maker_user_id: int,
        taker_order_id: int,
        taker_user_id: int,
        maker_fee: int,
        taker_fee: int,
        maker_filled: int,
        maker_filled_quote: int,
        taker_filled: int,
        taker_filled_quote: int,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.trade_id = trade_id
        self.price = price
        self.quantity = quantity
        self.quote_quantity = quote_quantity
        self.taker_side = taker_side
        self.maker_order_id = maker_order_id
        self.maker_user_id = maker_user_id
        self.taker_order_id = taker_order_id
        self.taker_user_id = taker_user_id
        self.maker_fee = maker_fee
        self.taker_fee = taker_fee
        self.maker_filled = maker_filled
        self.maker_filled_quote = maker_filled_quote
        self.taker_filled = taker_filled
        self.taker_filled_quote = taker_filled_quote


@mypyc_attr(acyclic=True)
class OrderCancelled(Record):
    FIELDS: ClassVar[tuple[str, ...]] = ("seq", "ts", "order_id", "user_id", "client_order_id", "remaining")

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        remaining: int,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.remaining = remaining


@mypyc_attr(acyclic=True)
class OrderExpired(Record):
    FIELDS: ClassVar[tuple[str, ...]] = (
        "seq",
        "ts",
        "order_id",
        "user_id",
        "client_order_id",
        "reason",
        "remaining",
        "prevented_match_id",
        "counter_order_id",
        "price",
        "stp_mode",
    )

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        reason: int,
        remaining: int,
        prevented_match_id: int = 0,
        counter_order_id: int = 0,
        price: int = 0,
        stp_mode: int = 0,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.reason = reason
        self.remaining = remaining
        self.prevented_match_id = prevented_match_id
        self.counter_order_id = counter_order_id
        self.price = price
        self.stp_mode = stp_mode


@mypyc_attr(acyclic=True)
class OrderDone(Record):
    FIELDS: ClassVar[tuple[str, ...]] = (
        "seq",
        "ts",
        "order_id",
        "user_id",
        "client_order_id",
        "side",
        "status",
        "filled",
        "filled_quote",
        "release",
    )

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        side: int,
        status: int,
        filled: int,
        filled_quote: int,
        release: int,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.side = side
        self.status = status
        self.filled = filled
        self.filled_quote = filled_quote
        self.release = release


@mypyc_attr(acyclic=True)
class OrderAmended(Record):
    """An open order's quantity reduced in place (docs/matching.md, AmendOrder): `quantity` its new
    quantity, `remaining` its quantity left, `filled` and `filled_quote` its cumulative fills,
    `release` the reservation given back now."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "seq",
        "ts",
        "order_id",
        "user_id",
        "client_order_id",
        "orig_client_order_id",
        "side",
        "quantity",
        "remaining",
        "filled",
        "filled_quote",
        "release",
    )

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        orig_client_order_id: str,
        side: int,
        quantity: int,
        remaining: int,
        filled: int,
        filled_quote: int,
        release: int,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.orig_client_order_id = orig_client_order_id
        self.side = side
        self.quantity = quantity
        self.remaining = remaining
        self.filled = filled
        self.filled_quote = filled_quote
        self.release = release


@mypyc_attr(acyclic=True)
class AmendRejected(Record):
    """An AmendOrder refused: nothing changed but the seq."""

    FIELDS: ClassVar[tuple[str, ...]] = ("seq", "ts", "order_id", "user_id", "client_order_id", "reason")

    def __init__(
        self,
        seq: int,
        ts: int,
        order_id: int,
        user_id: int,
        client_order_id: str,
        reason: int,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_id = order_id
        self.user_id = user_id
        self.client_order_id = client_order_id
        self.reason = reason


@mypyc_attr(acyclic=True)
class BookDelta(Record):
    """New total quantity (base units) at each price level one command changed; 0 = level gone."""

    FIELDS: ClassVar[tuple[str, ...]] = ("seq", "ts", "bids", "asks")

    def __init__(
        self,
        seq: int,
        ts: int,
        bids: tuple[tuple[int, int], ...],
        asks: tuple[tuple[int, int], ...],
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.bids = bids
        self.asks = asks


@mypyc_attr(acyclic=True)
class ListStatus(Record):
    """An order list's status (Binance's `listStatus`): `status_type` a ListStatusType,
    `list_status` a ListOrderStatus, `contingency` a ContingencyType, `order_ids` its members in
    list order. A rejected list (RESPONSE, REJECT) has `order_list_id` 0, its `reason`,
    `release`: the first member's reservation, given back, and for an OTO or OTOCO list
    `pending_release`: the pending orders' reservation, given back, in the asset the second
    member's side spends (both 0 in every other status and for an OCO's pending_release)."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "seq",
        "ts",
        "order_list_id",
        "user_id",
        "list_client_order_id",
        "contingency",
        "status_type",
        "list_status",
        "order_ids",
        "reason",
        "release",
        "pending_release",
    )

    def __init__(
        self,
        seq: int,
        ts: int,
        order_list_id: int,
        user_id: int,
        list_client_order_id: str,
        contingency: int,
        status_type: int,
        list_status: int,
        order_ids: tuple[int, ...],
        reason: int = 0,
        release: int = 0,
        pending_release: int = 0,
    ) -> None:
        self.seq = seq
        self.ts = ts
        self.order_list_id = order_list_id
        self.user_id = user_id
        self.list_client_order_id = list_client_order_id
        self.contingency = contingency
        self.status_type = status_type
        self.list_status = list_status
        self.order_ids = order_ids
        self.reason = reason
        self.release = release
        self.pending_release = pending_release


Event = (
    OrderAccepted
    | OrderRejected
    | CancelRejected
    | Trade
    | OrderCancelled
    | OrderExpired
    | OrderDone
    | BookDelta
    | OrderTriggered
    | OrderAmended
    | AmendRejected
    | ListStatus
)
