"""Iceberg orders and amend-keeping-priority through the running order path with real clients
(ccxt and python-binance, changed only in their base URL): `icebergQty` accepted and echoed, only
the tip in the depth, the tip replenished from the hidden rest, the ICEBERG_PARTS and
MAX_NUM_ICEBERG_ORDERS filters; `PUT order/amend/keepPriority` reducing an order in its place in
the queue and giving its funds back.

The module runs its own stack with one market, BTCUSDT (tick 0.01, step 0.00001, min notional 5).
"""

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from binance.exceptions import BinanceAPIException  # type: ignore[import-untyped]

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import Trader, sign_up
from tests.e2e.test_clients import binance_client, ccxt_exchange
from tests.wsapi_client import WsApiClient, sign

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL]) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def asks_at(trader: Trader, price: str) -> Decimal:
    """The depth's quantity at ask `price` (0 when the level is absent)."""
    depth = trader.call("GET", "/api/v3/depth", symbol=SYMBOL, limit=20)
    return sum((Decimal(q) for p, q in depth["asks"] if Decimal(p) == Decimal(price)), Decimal(0))


def wait_for(check: Any, seconds: float = 20.0) -> None:
    """Poll `check()` until it is true (the depth snapshot follows the engine asynchronously)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.1)


def test_exchange_info_allows_icebergs_with_their_filters(stack: Stack) -> None:
    trader = sign_up(stack.url)
    info = trader.http.get(f"{stack.url}/api/v3/exchangeInfo", params={"symbol": SYMBOL}).json()
    symbol = info["symbols"][0]
    assert symbol["icebergAllowed"] is True
    filters = {f["filterType"]: f for f in symbol["filters"]}
    assert filters["ICEBERG_PARTS"] == {"filterType": "ICEBERG_PARTS", "limit": 10}
    assert filters["MAX_NUM_ICEBERG_ORDERS"]["maxNumIcebergOrders"] == 5


def test_ccxt_iceberg_shows_its_tip_and_replenishes(stack: Stack) -> None:
    trader = sign_up(stack.url)
    exchange = ccxt_exchange(stack.url, trader.api_key, trader.secret)
    try:
        exchange.load_markets()
        order = exchange.create_order("BTC/USDT", "limit", "sell", 0.01, 31000, {"icebergQty": 0.002})
        assert order["info"]["icebergQty"] == "0.00200000" and order["status"] == "open"
        # The whole quantity is reserved; only the tip is in the book.
        assert trader.balances()["BTC"] == ("0.49000000", "0.01000000")
        wait_for(lambda: asks_at(trader, "31000") == Decimal("0.002"))

        taker = sign_up(stack.url)
        fill = taker.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.003")
        assert fill["status"] == "FILLED"
        assert [(f["price"], f["qty"]) for f in fill["fills"]] == [
            ("31000.00000000", "0.00200000"),
            ("31000.00000000", "0.00100000"),
        ]
        # A fresh tip of 0.002 from the hidden rest, 0.001 of it taken: 0.001 shows.
        wait_for(lambda: asks_at(trader, "31000") == Decimal("0.001"))
        fetched = exchange.fetch_order(order["id"], "BTC/USDT")
        assert (fetched["status"], fetched["filled"], fetched["info"]["icebergQty"]) == (
            "open", 0.003, "0.00200000"
        )  # fmt: skip
        exchange.cancel_order(order["id"], "BTC/USDT")
        assert trader.balances()["BTC"] == ("0.49700000", "0.00000000")
        wait_for(lambda: asks_at(trader, "31000") == 0)
    finally:
        exchange.close()


def test_python_binance_iceberg_rules(stack: Stack) -> None:
    trader = sign_up(stack.url)
    client = binance_client(stack.url, trader.api_key, trader.secret)
    base = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": "20000.00"}
    refusals = [
        ({"quantity": "0.011", "icebergQty": "0.001"}, -1013, "Filter failure: ICEBERG_PARTS"),
        ({"quantity": "0.002", "icebergQty": "0.002"}, -2010, "IcebergQty exceeds QTY."),
        ({"quantity": "0.002", "icebergQty": "0.001", "timeInForce": "IOC"}, -2010,
         "Unsupported order combination"),
        ({"quantity": "0.002", "icebergQty": "0.000001"}, -1013, "Filter failure: LOT_SIZE"),
        ({"quantity": "0.002", "icebergQty": "0.001", "type": "MARKET", "timeInForce": None, "price": None},
         -1106, "Parameter 'icebergQty' sent when not required."),
    ]  # fmt: skip
    try:
        for extra, code, msg in refusals:
            params = {k: v for k, v in {**base, **extra}.items() if v is not None}
            with pytest.raises(BinanceAPIException) as refused:
                client.create_order(**params)
            assert (refused.value.code, refused.value.message) == (code, msg)
        placed = [client.create_order(**base, quantity="0.002", icebergQty="0.001") for _ in range(5)]
        assert all(p["icebergQty"] == "0.00100000" for p in placed)
        order = client.get_order(symbol=SYMBOL, orderId=placed[0]["orderId"])
        assert (order["icebergQty"], order["origQty"]) == ("0.00100000", "0.00200000")
        with pytest.raises(BinanceAPIException) as sixth:
            client.create_order(**base, quantity="0.002", icebergQty="0.001")
        assert (sixth.value.code, sixth.value.message) == (-1013, "Filter failure: MAX_NUM_ICEBERG_ORDERS")
        plain = client.create_order(**base, quantity="0.002")  # not an iceberg: not counted
        assert "icebergQty" not in plain
        trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
        assert trader.balances()["USDT"][1] == "0.00000000"
    finally:
        client.close_connection()


def test_amend_keeps_priority_and_releases_the_removed_quantity(stack: Stack) -> None:
    first, second, taker = sign_up(stack.url), sign_up(stack.url), sign_up(stack.url)
    sell = {"symbol": SYMBOL, "side": "SELL", "type": "LIMIT", "timeInForce": "GTC", "price": "32000.00"}
    ahead = first.call("POST", "/api/v3/order", **sell, quantity="0.005", newClientOrderId="ahead")
    second.call("POST", "/api/v3/order", **sell, quantity="0.005")
    exchange = ccxt_exchange(stack.url, first.api_key, first.secret)
    client = binance_client(stack.url, first.api_key, first.secret)
    try:
        # ccxt has no spot amend method: its signed request to the path, as a bot would send it.
        amended = exchange.request(
            "order/amend/keepPriority", ["private"], "PUT",
            {"symbol": SYMBOL, "orderId": ahead["orderId"], "newQty": "0.002"},
        )  # fmt: skip
        order = amended["amendedOrder"]
        assert (order["orderId"], order["origClientOrderId"], order["qty"], order["status"]) == (
            ahead["orderId"], "ahead", "0.00200000", "NEW"
        )  # fmt: skip
        assert order["clientOrderId"] != "ahead" and amended["transactTime"] > 0
        assert first.balances()["BTC"] == ("0.49800000", "0.00200000")
        wait_for(lambda: asks_at(first, "32000") == Decimal("0.007"))
        for params, code, msg in [
            ({"orderId": ahead["orderId"], "newQty": "0.002"}, -2038,
             "Order amend (quantity increase) is not supported."),
            ({"orderId": 10**12, "newQty": "0.001"}, -2038, "Unknown order sent."),
            ({"orderId": ahead["orderId"], "newQty": "0.0000001"}, -1013, "Filter failure: LOT_SIZE"),
        ]:  # fmt: skip
            with pytest.raises(BinanceAPIException) as refused:
                client._put("order/amend/keepPriority", True, data={"symbol": SYMBOL, **params})
            assert (refused.value.code, refused.value.message) == (code, msg)

        fill = taker.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.003")
        assert [f["qty"] for f in fill["fills"]] == ["0.00200000", "0.00100000"]  # the amended one first
        done = first.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=ahead["orderId"])
        assert (done["status"], done["origQty"], done["executedQty"]) == (
            "FILLED",
            "0.00200000",
            "0.00200000",
        )
        assert first.balances()["BTC"] == ("0.49800000", "0.00000000")
    finally:
        exchange.close()
        client.close_connection()


def test_ws_api_places_an_iceberg_and_amends_it_with_a_replaced_report(stack: Stack) -> None:
    trader = sign_up(stack.url)

    async def scenario() -> None:
        client = await WsApiClient.open(stack.url.replace("http://", "ws://") + "/ws-api/v3")
        try:
            subscribed = await client.call(
                "userDataStream.subscribe.signature", sign(trader.api_key, trader.secret, {})
            )
            assert subscribed["status"] == 200
            order = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                     "price": "21000.00", "quantity": "0.004", "icebergQty": "0.001",
                     "newClientOrderId": "ws-ice"}  # fmt: skip
            placed = await client.call("order.place", sign(trader.api_key, trader.secret, order))
            assert placed["status"] == 200 and placed["result"]["icebergQty"] == "0.00100000"
            order_id = placed["result"]["orderId"]
            params = {
                "symbol": SYMBOL,
                "orderId": order_id,
                "newQty": "0.003",
                "newClientOrderId": "ws-ice-2",
            }
            amended = await client.call(
                "order.amend.keepPriority", sign(trader.api_key, trader.secret, params)
            )
            assert amended["status"] == 200, amended
            result = amended["result"]["amendedOrder"]
            names = ("qty", "clientOrderId", "origClientOrderId", "icebergQty")
            assert [result[n] for n in names] == ["0.00300000", "ws-ice-2", "ws-ice", "0.00100000"]
            while True:
                frame = await client.next_unmatched(20.0)
                event = frame.get("event", {})
                if event.get("e") == "executionReport" and event.get("x") == "REPLACED":
                    break
            assert (event["i"], event["q"], event["F"], event["c"], event["C"]) == (
                order_id, "0.00300000", "0.00100000", "ws-ice-2", "ws-ice"
            )  # fmt: skip
            assert Decimal(trader.balances()["USDT"][1]) == Decimal("63")  # 0.003 at 21000 still locked
            by_new_id = trader.call("GET", "/api/v3/order", symbol=SYMBOL, origClientOrderId="ws-ice-2")
            assert (by_new_id["orderId"], by_new_id["origQty"]) == (order_id, "0.00300000")
        finally:
            await client.close()

    asyncio.run(scenario())
