"""Commands: what the engine is asked to do. Amounts are integers in smallest units.

A command's `ts` is the time of its journal entry (ms); it is the only clock the core knows.
Enumerated fields hold `matching.enums` values (IntEnum members or their ints).
"""

from typing import ClassVar

from mypy_extensions import mypyc_attr

from matching.enums import StpMode
from matching.record import Record


@mypyc_attr(acyclic=True)
class PlaceOrder(Record):
    """Place an order.

    `price` is in quote units per whole base unit (0 for MARKET); `quantity` in base units (0 for
    a MARKET order by quote amount); `quote_quantity` in quote units (MARKET only, else 0).
    `reserve` is what the gateway locked for the order, in the asset it spends: quote for BUY,
    base for SELL. The core never spends beyond it and releases the rest when the order ends.
    `stop_price` (quote units per whole base unit) is the trigger of a stop order, else 0;
    `trailing_delta` (basis points) makes a stop order trail the price, else 0.
    `iceberg_qty` (base units) makes a LIMIT or LIMIT_MAKER order an iceberg order showing at most
    that much in the book, else 0.
    """

    FIELDS: ClassVar[tuple[str, ...]] = (
        "symbol",
        "order_id",
        "user_id",
        "side",
        "order_type",
        "time_in_force",
        "price",
        "quantity",
        "quote_quantity",
        "reserve",
        "stp_mode",
        "client_order_id",
        "ts",
        "stop_price",
        "trailing_delta",
        "iceberg_qty",
    )

    def __init__(
        self,
        symbol: str,
        order_id: int,
        user_id: int,
        side: int,
        order_type: int,
        time_in_force: int,
        price: int,
        quantity: int,
        quote_quantity: int,
        reserve: int,
        stp_mode: int = StpMode.NONE,
        client_order_id: str = "",
        ts: int = 0,
        stop_price: int = 0,
        trailing_delta: int = 0,
        iceberg_qty: int = 0,
    ) -> None:
        self.symbol = symbol
        self.order_id = order_id
        self.user_id = user_id
        self.side = side
        self.order_type = order_type
        self.time_in_force = time_in_force
        self.price = price
        self.quantity = quantity
        self.quote_quantity = quote_quantity
        self.reserve = reserve
        self.stp_mode = stp_mode
        self.client_order_id = client_order_id
        self.ts = ts
        self.stop_price = stop_price
        self.trailing_delta = trailing_delta
        self.iceberg_qty = iceberg_qty


@mypyc_attr(acyclic=True)
class CancelOrder(Record):
    """Cancel one open order of `user_id`, by `order_id`, or by `client_order_id` when it is 0."""

    FIELDS: ClassVar[tuple[str, ...]] = ("symbol", "user_id", "order_id", "client_order_id", "ts")

    def __init__(
        self, symbol: str, user_id: int, order_id: int = 0, client_order_id: str = "", ts: int = 0
    ) -> None:
        self.symbol = symbol
        self.user_id = user_id
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.ts = ts


@mypyc_attr(acyclic=True)
class CancelAll(Record):
    """Cancel every open order of `user_id` in the market, in ascending order id."""

    FIELDS: ClassVar[tuple[str, ...]] = ("symbol", "user_id", "ts")

    def __init__(self, symbol: str, user_id: int, ts: int = 0) -> None:
        self.symbol = symbol
        self.user_id = user_id
        self.ts = ts


@mypyc_attr(acyclic=True)
class AmendOrder(Record):
    """Reduce the quantity of one open order of `user_id`, keeping its place in the queue; found by
    `order_id`, or by `client_order_id` when it is 0. `quantity` is its new quantity (base units),
    `new_client_order_id` its new client order id (empty: unchanged)."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "symbol",
        "user_id",
        "order_id",
        "client_order_id",
        "new_client_order_id",
        "quantity",
        "ts",
    )

    def __init__(
        self,
        symbol: str,
        user_id: int,
        order_id: int,
        client_order_id: str,
        new_client_order_id: str,
        quantity: int,
        ts: int = 0,
    ) -> None:
        self.symbol = symbol
        self.user_id = user_id
        self.order_id = order_id
        self.client_order_id = client_order_id
        self.new_client_order_id = new_client_order_id
        self.quantity = quantity
        self.ts = ts


@mypyc_attr(acyclic=True)
class PlaceOrderList(Record):
    """Place an order list of `user_id` (docs/matching.md, Order lists): `orders` are its member
    orders in list order, each a full `PlaceOrder` of the same user. `contingency` is a
    `ContingencyType`. The list's reservation is shared by its members: each carries the same
    `reserve`, locked once by the gateway. The engine assigns the list id."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "symbol",
        "user_id",
        "list_client_order_id",
        "contingency",
        "orders",
        "ts",
    )

    def __init__(
        self,
        symbol: str,
        user_id: int,
        list_client_order_id: str,
        contingency: int,
        orders: tuple[PlaceOrder, ...],
        ts: int = 0,
    ) -> None:
        self.symbol = symbol
        self.user_id = user_id
        self.list_client_order_id = list_client_order_id
        self.contingency = contingency
        self.orders = orders
        self.ts = ts


Command = PlaceOrder | CancelOrder | CancelAll | AmendOrder | PlaceOrderList
