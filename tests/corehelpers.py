"""Command builders for tests of the matching core, on a market with readable numbers.

TST/USD: whole TST units (base decimals 0), USD cents (quote decimals 2), tick 1 cent, step
1 TST, so a price of 150 is 1.50 USD and a fill of 2 TST at 150 costs 300 cents. Maker fee
0.1%, taker fee 0.2%, min notional 1.00 USD.
"""

from matching import CancelAll, CancelOrder, MarketSpec, OrderType, PlaceOrder, Side, StpMode, TimeInForce

SYMBOL = "TSTUSD"
SPEC = MarketSpec(
    symbol=SYMBOL,
    base="TST",
    quote="USD",
    base_decimals=0,
    quote_decimals=2,
    tick_units=1,
    step_units=1,
    min_qty_units=1,
    max_qty_units=1_000_000,
    min_notional_units=100,
    maker_fee_ppm=1000,
    taker_fee_ppm=2000,
)


def limit(
    oid: int,
    user: int,
    side: Side,
    price: int,
    qty: int,
    *,
    tif: TimeInForce = TimeInForce.GTC,
    reserve: int | None = None,
    cid: str = "",
    stp: StpMode = StpMode.NONE,
    maker_only: bool = False,
    ts: int = 0,
) -> PlaceOrder:
    """A LIMIT (or LIMIT_MAKER) order reserving exactly what it may spend unless told."""
    if reserve is None:
        reserve = price * qty if side == Side.BUY else qty
    otype = OrderType.LIMIT_MAKER if maker_only else OrderType.LIMIT
    return PlaceOrder(SYMBOL, oid, user, side, otype, tif, price, qty, 0, reserve, stp, cid, ts)


def market(
    oid: int,
    user: int,
    side: Side,
    *,
    qty: int = 0,
    quote: int = 0,
    reserve: int,
    stp: StpMode = StpMode.NONE,
    cid: str = "",
    ts: int = 0,
) -> PlaceOrder:
    return PlaceOrder(
        SYMBOL, oid, user, side, OrderType.MARKET, TimeInForce.GTC, 0, qty, quote, reserve, stp, cid, ts
    )


def cancel(user: int, oid: int = 0, cid: str = "", ts: int = 0) -> CancelOrder:
    return CancelOrder(SYMBOL, user, oid, cid, ts)


def cancel_all(user: int, ts: int = 0) -> CancelAll:
    return CancelAll(SYMBOL, user, ts)


def stop(
    oid: int,
    user: int,
    side: Side,
    order_type: OrderType,
    stop_price: int,
    qty: int,
    *,
    price: int = 0,
    tif: TimeInForce = TimeInForce.GTC,
    reserve: int | None = None,
    cid: str = "",
    stp: StpMode = StpMode.NONE,
    ts: int = 0,
) -> PlaceOrder:
    """A stop order; `price` only for the *_LIMIT types. Reserves what it may spend unless told
    (a STOP_LOSS / TAKE_PROFIT BUY: the quantity at twice its stop price)."""
    if reserve is None:
        buy_reserve = price * qty if price else 2 * stop_price * qty
        reserve = qty if side == Side.SELL else buy_reserve
    return PlaceOrder(
        SYMBOL, oid, user, side, order_type, tif, price, qty, 0, reserve, stp, cid, ts, stop_price
    )
