"""Hypothesis strategies: random but valid-looking command sequences on the TST/USD market.

Prices cluster in a narrow band so books cross often; a few users share the book so
self-trade prevention triggers; some commands are deliberately bad.
"""

from hypothesis import strategies as st

from matching import (
    AmendOrder,
    Command,
    ContingencyType,
    OrderType,
    PlaceOrder,
    PlaceOrderList,
    Side,
    StpMode,
    TimeInForce,
)
from tests.corehelpers import SYMBOL, cancel, cancel_all, stop

USERS = st.integers(1, 4)
SIDES = st.sampled_from([Side.BUY, Side.SELL])
STP = st.sampled_from(list(StpMode))
CIDS = st.sampled_from(["", "", "a", "b", "c"])


@st.composite
def place_order(draw: st.DrawFn, order_id: int) -> PlaceOrder:
    side = draw(SIDES)
    user = draw(USERS)
    stp = draw(STP)
    cid = draw(CIDS)
    kind = draw(st.sampled_from(["limit", "limit", "limit", "maker", "market_qty", "market_quote", "stop"]))
    if kind == "stop":
        return draw(stop_order(order_id, side, user, stp, cid))
    if kind in ("limit", "maker"):
        price = draw(st.integers(95, 105))
        qty = draw(st.integers(1, 12))
        tif = draw(st.sampled_from(list(TimeInForce))) if kind == "limit" else TimeInForce.GTC
        need = price * qty if side == Side.BUY else qty
        reserve = need + draw(st.sampled_from([0, 0, 0, 7, 100]))
        otype = OrderType.LIMIT if kind == "limit" else OrderType.LIMIT_MAKER
        command = PlaceOrder(SYMBOL, order_id, user, side, otype, tif, price, qty, 0, reserve, stp, cid)
        if tif == TimeInForce.GTC and qty > 1 and draw(st.integers(0, 2)) == 0:
            command.iceberg_qty = draw(st.integers(1, qty - 1))  # an iceberg order showing that much
        return command
    if kind == "market_qty":
        qty = draw(st.integers(1, 10))
        reserve = draw(st.integers(1, 1500)) if side == Side.BUY else qty
        return PlaceOrder(
            SYMBOL, order_id, user, side, OrderType.MARKET, TimeInForce.GTC, 0, qty, 0, reserve, stp, cid
        )
    quote = draw(st.integers(100, 1200))
    reserve = draw(st.integers(1, 1500)) if side == Side.BUY else draw(st.integers(1, 12))
    return PlaceOrder(
        SYMBOL, order_id, user, side, OrderType.MARKET, TimeInForce.GTC, 0, 0, quote, reserve, stp, cid
    )


STOP_TYPES = st.sampled_from(
    [OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT]
)


@st.composite
def stop_order(draw: st.DrawFn, order_id: int, side: Side, user: int, stp: StpMode, cid: str) -> PlaceOrder:
    """A stop order of any type with its stop in the busy price band (some would trigger at once),
    sometimes trailing (with or without a stop price)."""
    otype = draw(STOP_TYPES)
    stop_price = draw(st.integers(94, 106))
    trail = draw(st.sampled_from([0, 0, 0, 100, 300, 700]))  # bips of a price near 100
    if trail and draw(st.booleans()):
        stop_price = 0
    qty = draw(st.integers(1, 6))
    if otype in (OrderType.STOP_LOSS_LIMIT, OrderType.TAKE_PROFIT_LIMIT):
        price = draw(st.integers(93, 107))
        tif = draw(st.sampled_from(list(TimeInForce)))
        reserve = (price * qty if side == Side.BUY else qty) + draw(st.sampled_from([0, 0, 5]))
    else:
        price, tif = 0, TimeInForce.GTC
        reserve = draw(st.integers(1, 1500)) if side == Side.BUY else qty
    command = stop(
        order_id, user, side, otype, stop_price, qty, price=price, tif=tif, reserve=reserve, cid=cid, stp=stp
    )
    command.trailing_delta = trail
    return command


PROFIT_TYPES = st.sampled_from([OrderType.LIMIT_MAKER, OrderType.TAKE_PROFIT, OrderType.TAKE_PROFIT_LIMIT])
LOSS_TYPES = st.sampled_from([OrderType.STOP_LOSS, OrderType.STOP_LOSS_LIMIT])


@st.composite
def oco_list(draw: st.DrawFn, order_id: int) -> PlaceOrderList:
    """An OCO with members `order_id` (profit) and `order_id + 1` (loss), in either list order, its
    levels in the busy price band (so some take, trigger or lie the wrong way round), sharing a
    reservation enough for the costlier member."""
    side = draw(SIDES)
    user = draw(USERS)
    stp = draw(STP)
    qty = draw(st.integers(1, 6))
    profit_type = draw(PROFIT_TYPES)
    loss_type = draw(LOSS_TYPES)
    level = draw(st.integers(94, 106))
    trigger = draw(st.integers(94, 106))
    profit_price = level if profit_type == OrderType.LIMIT_MAKER else 0
    if profit_type == OrderType.TAKE_PROFIT_LIMIT:
        profit_price = draw(st.integers(93, 107))
    loss_price = draw(st.integers(93, 107)) if loss_type == OrderType.STOP_LOSS_LIMIT else 0
    highest = max(profit_price, loss_price, trigger if loss_type == OrderType.STOP_LOSS else 0)
    reserve = (highest * qty if side == Side.BUY else qty) + draw(st.sampled_from([0, 0, 5]))
    profit_stop = 0 if profit_type == OrderType.LIMIT_MAKER else level
    profit = PlaceOrder(
        SYMBOL, order_id, user, side, profit_type, TimeInForce.GTC, profit_price, qty, 0, reserve, stp,
        draw(CIDS), 0, profit_stop,
    )  # fmt: skip
    loss = PlaceOrder(
        SYMBOL, order_id + 1, user, side, loss_type, TimeInForce.GTC, loss_price, qty, 0, reserve, stp,
        draw(CIDS), 0, trigger,
    )  # fmt: skip
    members = (profit, loss) if draw(st.booleans()) else (loss, profit)
    return PlaceOrderList(SYMBOL, user, draw(CIDS), ContingencyType.OCO, members)


@st.composite
def oto_list(draw: st.DrawFn, order_id: int) -> PlaceOrderList:
    """An OTO (members `order_id`, `order_id + 1`) or OTOCO (and `order_id + 2`) of one user: a
    working LIMIT or LIMIT_MAKER in the busy price band (so it often fills at once or soon), then a
    pending order of any type and side (`place_order`'s) or an OCO pair (`oco_list`'s)."""
    user = draw(USERS)
    side = draw(SIDES)
    qty = draw(st.integers(1, 6))
    price = draw(st.integers(94, 106))
    working_type = draw(st.sampled_from([OrderType.LIMIT, OrderType.LIMIT, OrderType.LIMIT_MAKER]))
    tif = (
        TimeInForce.GTC if working_type == OrderType.LIMIT_MAKER else draw(st.sampled_from(list(TimeInForce)))
    )
    reserve = (price * qty if side == Side.BUY else qty) + draw(st.sampled_from([0, 0, 5]))
    working = PlaceOrder(
        SYMBOL, order_id, user, side, working_type, tif, price, qty, 0, reserve, draw(STP), draw(CIDS),
    )  # fmt: skip
    if draw(st.booleans()):
        pair = draw(oco_list(order_id + 1))
        members = tuple(replace_user(m, user) for m in pair.orders)
        return PlaceOrderList(SYMBOL, user, draw(CIDS), ContingencyType.OTOCO, (working, *members))
    pending = replace_user(draw(place_order(order_id + 1)), user)
    return PlaceOrderList(SYMBOL, user, draw(CIDS), ContingencyType.OTO, (working, pending))


def replace_user(c: PlaceOrder, user: int) -> PlaceOrder:
    """`c` placed by `user` instead."""
    fields = {name: getattr(c, name) for name in PlaceOrder.FIELDS}
    fields["user_id"] = user
    return PlaceOrder(**fields)


@st.composite
def commands(draw: st.DrawFn, max_size: int = 60) -> list[Command]:
    """A command sequence; order ids are 1, 2, 3... in placement order."""
    n = draw(st.integers(1, max_size))
    out: list[Command] = []
    next_id = 1
    for _ in range(n):
        roll = draw(st.integers(0, 9))
        if roll < 7 or next_id == 1:
            kind = draw(st.integers(0, 7))
            if kind == 0:
                out.append(draw(oco_list(next_id)))
                next_id += 2
            elif kind == 1:
                order_list = draw(oto_list(next_id))
                out.append(order_list)
                next_id += len(order_list.orders)
            else:
                out.append(draw(place_order(next_id)))
                next_id += 1
        elif roll < 8 and draw(st.booleans()):
            quantity = draw(st.integers(0, 12))  # the new quantity: often a reduction
            out.append(
                AmendOrder(SYMBOL, draw(USERS), draw(st.integers(1, next_id)), "", draw(CIDS), quantity)
            )
        elif roll < 9:
            if draw(st.booleans()):
                out.append(cancel(draw(USERS), oid=draw(st.integers(1, next_id))))
            else:
                out.append(cancel(draw(USERS), cid=draw(CIDS)))
        else:
            out.append(cancel_all(draw(USERS)))
    return out
