"""exchangeInfo's per-symbol filters enforced through the running order path (gateway, engine,
settlement, DB writer): PERCENT_PRICE_BY_SIDE against the 5-minute average price, MAX_NUM_ORDERS
and MAX_NUM_ALGO_ORDERS against the account's open orders in the market, MAX_NUM_ORDER_AMENDS
over gRPC's AmendOrder (which keeps the order's priority as REST's amend does); exchangeInfo's
showPermissionSets; origQuoteOrderQty in cancel answers (REST and gRPC).

The module runs its own stack with one market, BTCUSDT (tick 0.01, step 0.00001, min notional 5).
"""

import asyncio
import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import grpc
import pytest

from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.grpc_client import GrpcTrader, api_error

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def stack(redis_url: str) -> Iterator[Stack]:
    """A stack with a database of its own: the average price is over the market's trades in the
    database, which the session's shared database holds from every other test too."""
    services.ensure_postgres()
    dsn = asyncio.run(services.create_test_database())
    prefix = services.new_prefix()
    try:
        with running_stack(dsn, prefix, [SYMBOL], with_dbwriter=True, MAX_NUM_ORDERS="200") as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))
        asyncio.run(services.drop_test_database(dsn))


def wait_for(check: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll `check()` until it is true (settlement and the DB writer follow the engine)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def refused(trader: Trader, method: str, path: str, **params: object) -> tuple[int, str]:
    with pytest.raises(ApiFailure) as failure:
        trader.call(method, path, **params)
    return failure.value.body["code"], failure.value.body["msg"]


def refused_or_cancelled(trader: Trader, params: dict[str, str]) -> tuple[int, str] | None:
    """The refusal of the order `params`; None (the order cancelled again) if it was accepted."""
    try:
        placed = trader.call("POST", "/api/v3/order", **params)
    except ApiFailure as failure:
        return failure.body["code"], failure.body["msg"]
    trader.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])
    return None


def open_count(trader: Trader) -> int:
    return len(trader.call("GET", "/api/v3/openOrders", symbol=SYMBOL))


def limit(side: str, price: str, qty: str) -> dict[str, str]:
    return {
        "symbol": SYMBOL,
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": price,
        "quantity": qty,
    }


def test_exchange_info_permission_sets(stack: Stack) -> None:
    trader = sign_up(stack.url)
    shown = trader.http.get(f"{stack.url}/api/v3/exchangeInfo", params={"symbol": SYMBOL}).json()
    assert shown["symbols"][0]["permissionSets"] == [["SPOT"]]
    hidden = trader.http.get(
        f"{stack.url}/api/v3/exchangeInfo", params={"symbol": SYMBOL, "showPermissionSets": "false"}
    ).json()
    assert hidden["symbols"][0]["permissionSets"] == []
    bad = trader.http.get(f"{stack.url}/api/v3/exchangeInfo", params={"showPermissionSets": "no"})
    assert (bad.status_code, bad.json()["code"]) == (400, -1130)


def test_percent_price_by_side_against_the_average_price(stack: Stack) -> None:
    maker, taker = sign_up(stack.url), sign_up(stack.url)
    maker.call("POST", "/api/v3/order", **limit("SELL", "30000.00", "0.001"))
    taker.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.001")
    avg = f"{stack.url}/api/v3/avgPrice"
    wait_for(lambda: Decimal(taker.http.get(avg, params={"symbol": SYMBOL}).json()["price"]) == 30000)
    failure = (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE")
    stop = {"type": "STOP_LOSS_LIMIT", "stopPrice": "29000", "timeInForce": "GTC"}
    # The gateway reads the average at most once a second, and skips the filter while the
    # database does not answer within 0.5 s (a loaded machine): an order placed meanwhile is
    # cancelled and sent again until the filter refuses it.
    for trader, params in (
        (taker, limit("BUY", "150000.01", "0.0001")),
        (maker, limit("SELL", "5999.99", "0.001")),
        (maker, {**limit("SELL", "5999.99", "0.001"), **stop}),
    ):
        wait_for(lambda trader=trader, params=params: refused_or_cancelled(trader, params) == failure)
    high = taker.call("POST", "/api/v3/order", **limit("BUY", "150000.00", "0.0001"))
    taker.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=high["orderId"])
    low = maker.call("POST", "/api/v3/order", **limit("SELL", "6000.00", "0.001"))
    assert low["status"] == "NEW"
    maker.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=low["orderId"])


def test_max_num_algo_orders_counts_open_stop_orders(stack: Stack) -> None:
    trader = sign_up(stack.url)
    stop = {**limit("SELL", "20000.00", "0.001"), "type": "STOP_LOSS_LIMIT", "stopPrice": "20000.00"}
    placed = [trader.call("POST", "/api/v3/order", **stop) for _ in range(5)]
    wait_for(lambda: open_count(trader) == 5)
    assert refused(trader, "POST", "/api/v3/order", **stop) == (-1013, "Filter failure: MAX_NUM_ALGO_ORDERS")
    trader.call("POST", "/api/v3/order", **limit("BUY", "20000.00", "0.001"))  # not an algo order
    trader.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed[0]["orderId"])
    wait_for(lambda: open_count(trader) == 5)
    trader.call("POST", "/api/v3/order", **stop)
    trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)


def test_max_num_orders_counts_every_open_order_of_the_market(stack: Stack) -> None:
    trader = sign_up(stack.url)
    for _ in range(199):
        trader.call("POST", "/api/v3/order", **limit("BUY", "20000.00", "0.00025"))
    wait_for(lambda: open_count(trader) == 199, 60.0)
    # An OCO's two members count as two open orders: one more would pass, the list does not.
    oco = {
        "symbol": SYMBOL, "side": "SELL", "quantity": "0.01", "aboveType": "LIMIT_MAKER",
        "abovePrice": "32000.00", "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "28000.00",
        "belowPrice": "27900.00", "belowTimeInForce": "GTC",
    }  # fmt: skip
    assert refused(trader, "POST", "/api/v3/orderList/oco", **oco) == (
        -1013,
        "Filter failure: MAX_NUM_ORDERS",
    )
    trader.call("POST", "/api/v3/order", **limit("BUY", "20000.00", "0.00025"))
    wait_for(lambda: open_count(trader) == 200, 60.0)
    assert refused(trader, "POST", "/api/v3/order", **limit("BUY", "20000.00", "0.00025")) == (
        -1013,
        "Filter failure: MAX_NUM_ORDERS",
    )
    cancelled = trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
    assert len(cancelled) == 200
    wait_for(lambda: open_count(trader) == 0)
    trader.call("POST", "/api/v3/order", **limit("BUY", "20000.00", "0.00025"))
    trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)


def test_cancel_answers_carry_orig_quote_order_qty(stack: Stack) -> None:
    trader = sign_up(stack.url)
    order = trader.call("POST", "/api/v3/order", **limit("BUY", "20000.00", "0.001"))
    cancelled = trader.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=order["orderId"])
    keys = list(cancelled)
    assert cancelled["origQuoteOrderQty"] == "0.00000000"
    assert keys.index("executedQty") < keys.index("origQuoteOrderQty") < keys.index("cummulativeQuoteQty")

    async def over_grpc() -> None:
        async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
            client = GrpcTrader(channel, trader.api_key, trader.secret)
            placed = await client.call("PlaceOrder", grpc_limit(apb.SIDE_BUY, "20000.00", "0.001"))
            ref = tpb.CancelOrderRequest(symbol=SYMBOL, order_id=placed.order_id)
            answer = await client.call("CancelOrder", ref)
            assert (answer.orig_quote_order_qty, answer.status) == ("0.00000000", apb.ORDER_STATUS_CANCELED)

    asyncio.run(over_grpc())


def grpc_limit(side: int, price: str, qty: str) -> tpb.PlaceOrderRequest:
    return tpb.PlaceOrderRequest(
        symbol=SYMBOL,
        side=side,  # type: ignore[arg-type]
        type=apb.ORDER_TYPE_LIMIT,
        time_in_force=apb.TIME_IN_FORCE_GTC,
        price=price,
        quantity=qty,
    )


def test_grpc_amend_keeps_priority_up_to_max_num_order_amends(stack: Stack) -> None:
    first, second, taker = sign_up(stack.url), sign_up(stack.url), sign_up(stack.url)

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
            amender = GrpcTrader(channel, first.api_key, first.secret)
            ahead = await amender.call("PlaceOrder", grpc_limit(apb.SIDE_SELL, "31000.00", "0.01"))
            second.call("POST", "/api/v3/order", **limit("SELL", "31000.00", "0.01"))
            for n in range(1, 11):
                request = tpb.AmendOrderRequest(
                    symbol=SYMBOL,
                    order_id=ahead.order_id,
                    new_qty=str(Decimal("0.01") - n * Decimal("0.0001")),
                )
                amended = await amender.call("AmendOrder", request)
                order = amended.amended_order
                assert (order.order_id, order.qty, order.status) == (
                    ahead.order_id, f"{Decimal('0.01') - n * Decimal('0.0001'):.8f}", apb.ORDER_STATUS_NEW
                )  # fmt: skip
                assert amended.transact_time > 0 and amended.execution_id > 0
            eleventh = tpb.AmendOrderRequest(symbol=SYMBOL, order_id=ahead.order_id, new_qty="0.001")
            with pytest.raises(grpc.aio.AioRpcError) as refusal:
                await amender.call("AmendOrder", eleventh)
            assert api_error(refusal.value) == (-2038, "Filter failure: MAX_NUM_ORDER_AMENDS")
            unknown = tpb.AmendOrderRequest(symbol=SYMBOL, order_id=10**12, new_qty="0.001")
            with pytest.raises(grpc.aio.AioRpcError) as refusal:
                await amender.call("AmendOrder", unknown)
            assert api_error(refusal.value) == (-2038, "Unknown order sent.")

    asyncio.run(scenario())
    fill = taker.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.01")
    # The amended order (0.009 left) is still first in the queue: it fills before the other one.
    assert [f["qty"] for f in fill["fills"]] == ["0.00900000", "0.00100000"]
    second.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
