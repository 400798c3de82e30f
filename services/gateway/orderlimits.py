"""The symbol filters that depend on more than the order itself (Binance's values for BTCUSDT):
the count of the account's open orders in the market (MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS,
MAX_NUM_ICEBERG_ORDERS), the number of amendments of one order (MAX_NUM_ORDER_AMENDS), and the
price's distance from the market's average price (PERCENT_PRICE_BY_SIDE).

The decisions here are pure; gateway.orders reads the open orders, the amend counts and the
average price (gateway.avgprices) and raises the errors. exchangeInfo lists these values
(`filters_json`) and nothing else decides them.
"""

from collections.abc import Iterable

from exchange_core.records import OrderRecord
from gateway.validation import MAX_NUM_ICEBERG_ORDERS, OrderRequest
from matching.enums import OrderType, Side

# Open orders of one account in one market, every kind counted (the default of the gateway's
# MAX_NUM_ORDERS setting; 0: not enforced).
MAX_NUM_ORDERS = 200
# Open STOP_LOSS, STOP_LOSS_LIMIT, TAKE_PROFIT and TAKE_PROFIT_LIMIT orders of one account in one
# market (Binance's "algo" orders).
MAX_NUM_ALGO_ORDERS = 5
# Amendments (PUT order/amend/keepPriority) of one order; past it: -2038.
MAX_NUM_ORDER_AMENDS = 10
# PERCENT_PRICE_BY_SIDE, as multipliers of the average price in thousandths (5 and 0.2, as
# BTCUSDT), over the last AVG_PRICE_MINS minutes (the avgPrice endpoint's window).
BID_MULTIPLIER_UP_MILLI = 5000
BID_MULTIPLIER_DOWN_MILLI = 200
ASK_MULTIPLIER_UP_MILLI = 5000
ASK_MULTIPLIER_DOWN_MILLI = 200
AVG_PRICE_MINS = 5


def is_algo(order_type: int) -> bool:
    """Binance's "algo" orders: the stop types."""
    return order_type >= OrderType.STOP_LOSS


def count_filter_failure(
    req: OrderRequest,
    open_orders: int,
    open_records: Iterable[OrderRecord],
    max_orders: int = MAX_NUM_ORDERS,
) -> str | None:
    """The name of the count filter a new order `req` fails, or None: `open_orders` is how many
    orders the account has open in the market, `open_records` those orders' states (read only
    when the order is an iceberg or algo order and could reach its own limit); `max_orders` is
    MAX_NUM_ORDERS (0: off)."""
    if max_orders and open_orders >= max_orders:
        return "MAX_NUM_ORDERS"
    algo = is_algo(req.order_type)
    if not (algo and open_orders >= MAX_NUM_ALGO_ORDERS) and not (
        req.iceberg_qty and open_orders >= MAX_NUM_ICEBERG_ORDERS
    ):
        return None
    records = list(open_records)
    if algo and sum(1 for r in records if is_algo(r.order_type)) >= MAX_NUM_ALGO_ORDERS:
        return "MAX_NUM_ALGO_ORDERS"
    if req.iceberg_qty and sum(1 for r in records if r.iceberg_qty) >= MAX_NUM_ICEBERG_ORDERS:
        return "MAX_NUM_ICEBERG_ORDERS"
    return None


def needs_records(req: OrderRequest, open_orders: int, max_orders: int = MAX_NUM_ORDERS) -> bool:
    """Whether count_filter_failure needs the open orders' states to decide `req`."""
    if max_orders and open_orders >= max_orders:
        return False
    return (is_algo(req.order_type) and open_orders >= MAX_NUM_ALGO_ORDERS) or bool(
        req.iceberg_qty and open_orders >= MAX_NUM_ICEBERG_ORDERS
    )


def percent_price_ok(side: Side, price: int, average: int) -> bool:
    """PERCENT_PRICE_BY_SIDE: a BUY price within [avg * bidDown, avg * bidUp], a SELL price within
    [avg * askDown, avg * askUp]; exact in integers (thousandths)."""
    up, down = (
        (BID_MULTIPLIER_UP_MILLI, BID_MULTIPLIER_DOWN_MILLI)
        if side == Side.BUY
        else (ASK_MULTIPLIER_UP_MILLI, ASK_MULTIPLIER_DOWN_MILLI)
    )
    return average * down <= price * 1000 <= average * up


def _multiplier(milli: int) -> str:
    whole, frac = divmod(milli, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".")


def filters_json(max_orders: int = MAX_NUM_ORDERS) -> list[dict[str, object]]:
    """exchangeInfo's entries for the filters of this module, in Binance's shapes (MAX_NUM_ORDERS
    only when `max_orders` is not 0)."""
    listed: list[dict[str, object]] = [
        {
            "filterType": "PERCENT_PRICE_BY_SIDE",
            "bidMultiplierUp": _multiplier(BID_MULTIPLIER_UP_MILLI),
            "bidMultiplierDown": _multiplier(BID_MULTIPLIER_DOWN_MILLI),
            "askMultiplierUp": _multiplier(ASK_MULTIPLIER_UP_MILLI),
            "askMultiplierDown": _multiplier(ASK_MULTIPLIER_DOWN_MILLI),
            "avgPriceMins": AVG_PRICE_MINS,
        },
        {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": max_orders},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": MAX_NUM_ALGO_ORDERS},
        {"filterType": "MAX_NUM_ICEBERG_ORDERS", "maxNumIcebergOrders": MAX_NUM_ICEBERG_ORDERS},
        {"filterType": "MAX_NUM_ORDER_AMENDS", "maxNumOrderAmends": MAX_NUM_ORDER_AMENDS},
    ]
    return [f for f in listed if max_orders or f["filterType"] != "MAX_NUM_ORDERS"]
