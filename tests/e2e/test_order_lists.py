"""OCO order lists through the running order path with real clients (python-binance, ccxt's
implicit Binance API, the raw signed client, the WebSocket API and gRPC, changed only in their
base URL): the answers' shape field for field, one reservation for the list, a member's fill,
trigger or cancel ending the other with the funds conserved, the list queries, Binance's
refusals, and the user stream's listStatus and orderListId.

The module runs its own stack with one market, BTCUSDT (tick 0.01, step 0.00001, min notional 5),
so that its trades alone set the last price the stop members are checked against.
"""

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import grpc
import pytest
from binance.exceptions import BinanceAPIException  # type: ignore[import-untyped]

from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, sign_up
from tests.e2e.test_clients import binance_client, ccxt_exchange
from tests.grpc_client import GrpcTrader, api_error
from tests.wsapi_client import WsApiClient, sign

SYMBOL = "BTCUSDT"
LIST_FIELDS = [
    "orderListId", "contingencyType", "listStatusType", "listOrderStatus", "listClientOrderId",
    "transactionTime", "symbol", "orders",
]  # fmt: skip


@pytest.fixture(scope="module")
def stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL]) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def trade_at(stack: Stack, price: str, qty: str = "0.001") -> None:
    """Make the market trade at `price`: one new user rests an ask, another takes it."""
    maker, taker = sign_up(stack.url), sign_up(stack.url)
    maker.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
               price=price, quantity=qty)  # fmt: skip
    fill = taker.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity=qty)
    assert fill["status"] == "FILLED"


def sell_oco(**extra: str) -> dict[str, str]:
    """A SELL OCO of 0.01 BTC: LIMIT_MAKER at 32000 above, STOP_LOSS_LIMIT (stop 28000, price
    27900) below; the last price must lie between."""
    return {
        "symbol": SYMBOL, "side": "SELL", "quantity": "0.01",
        "aboveType": "LIMIT_MAKER", "abovePrice": "32000.00",
        "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "28000.00", "belowPrice": "27900.00",
        "belowTimeInForce": "GTC", **extra,
    }  # fmt: skip


def test_python_binance_oco_fill_ends_the_other_member_and_conserves_funds(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    start_btc, start_usdt = trader.balances()["BTC"], Decimal(trader.balances()["USDT"][0])
    client = binance_client(stack.url, trader.api_key, trader.secret)
    try:
        placed = client.create_oco_order(
            **sell_oco(listClientOrderId="my-list", aboveClientOrderId="up", belowClientOrderId="down")
        )
        assert list(placed) == [*LIST_FIELDS, "orderReports"]
        assert (placed["contingencyType"], placed["listStatusType"], placed["listOrderStatus"]) == (
            "OCO", "EXEC_STARTED", "EXECUTING"
        )  # fmt: skip
        assert placed["listClientOrderId"] == "my-list" and placed["transactionTime"] > 0
        list_id = placed["orderListId"]
        down, up = placed["orderReports"]
        assert [o["clientOrderId"] for o in placed["orders"]] == ["down", "up"]
        assert (down["type"], down["stopPrice"], down["status"]) == (
            "STOP_LOSS_LIMIT",
            "28000.00000000",
            "NEW",
        )
        assert (up["type"], up["price"], up["orderListId"]) == ("LIMIT_MAKER", "32000.00000000", list_id)
        # One reservation of 0.01 BTC for both members.
        assert trader.balances()["BTC"] == ("0.49000000", "0.01000000")
        member = client.get_order(symbol=SYMBOL, origClientOrderId="down")
        assert (member["orderListId"], member["orderId"]) == (list_id, down["orderId"])
        stored = client.v3_get_order_list(orderListId=list_id)
        assert list(stored) == LIST_FIELDS and stored["listOrderStatus"] == "EXECUTING"
        assert [o["orderListId"] for o in client.get_open_oco_orders()] == [list_id]

        taker = sign_up(stack.url)
        fill = taker.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.01")
        assert [f["price"] for f in fill["fills"]] == ["32000.00000000"]
        done = client.v3_get_order_list(origClientOrderId="my-list")
        assert (done["listStatusType"], done["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
        states = {o["clientOrderId"]: o["status"] for o in client.get_all_orders(symbol=SYMBOL)}
        assert states == {"up": "FILLED", "down": "EXPIRED"}
        assert client.get_open_oco_orders() == []
        btc_free, btc_locked = trader.balances()["BTC"]
        assert (btc_free, btc_locked) == ("0.49000000", "0.00000000")
        [trade] = client.get_my_trades(symbol=SYMBOL)
        assert (trade["orderId"], trade["orderListId"]) == (up["orderId"], list_id)
        fee = Decimal(trade["commission"])
        assert Decimal(trader.balances()["USDT"][0]) == start_usdt + Decimal(320) - fee
        assert start_btc == ("0.50000000", "0.00000000")
    finally:
        client.close_connection()


def test_cancel_list_releases_the_reservation_and_all_order_list_shows_it(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    exchange = ccxt_exchange(stack.url, trader.api_key, trader.secret)
    try:
        placed = exchange.private_post_orderlist_oco(sell_oco(listClientOrderId="to-cancel"))
        assert trader.balances()["BTC"] == ("0.49000000", "0.01000000")
        cancelled = exchange.private_delete_orderlist({"symbol": SYMBOL, "listClientOrderId": "to-cancel"})
        assert list(cancelled) == [*LIST_FIELDS, "orderReports"]
        assert (cancelled["orderListId"], cancelled["listOrderStatus"]) == (placed["orderListId"], "ALL_DONE")
        assert [r["status"] for r in cancelled["orderReports"]] == ["CANCELED", "CANCELED"]
        assert trader.balances()["BTC"] == ("0.50000000", "0.00000000")
        with pytest.raises(ApiFailure) as again:
            trader.call("DELETE", "/api/v3/orderList", symbol=SYMBOL, orderListId=placed["orderListId"])
        assert (again.value.code, again.value.msg) == (-2011, "Unknown order list sent.")
        second = exchange.private_post_orderlist_oco(sell_oco())
        lists = exchange.private_get_allorderlist({})
        assert [(x["orderListId"], x["listOrderStatus"]) for x in lists] == [
            (placed["orderListId"], "ALL_DONE"), (second["orderListId"], "EXECUTING")
        ]  # fmt: skip
        assert [x["orderListId"] for x in exchange.private_get_openorderlist({})] == [second["orderListId"]]
        trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                    price="40000.00", quantity="0.001")  # fmt: skip
        # Cancelling every open order cancels the list too, answered as Binance does: the list object.
        done = trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
        assert [(d.get("orderListId"), "orderReports" in d) for d in done] == [
            (second["orderListId"], True), (-1, False)
        ]  # fmt: skip
        assert [r["status"] for r in done[0]["orderReports"]] == ["CANCELED", "CANCELED"]
        assert exchange.private_get_openorderlist({}) == []
        assert trader.balances()["BTC"] == ("0.50000000", "0.00000000")
    finally:
        exchange.close()


def test_deprecated_buy_oco_triggers_its_stop_and_expires_its_limit(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    usdt = Decimal(trader.balances()["USDT"][0])
    placed = trader.call(
        "POST", "/api/v3/order/oco", symbol=SYMBOL, side="BUY", quantity="0.001", price="29000.00",
        stopPrice="31000.00", stopLimitPrice="31100.00", stopLimitTimeInForce="GTC",
        limitClientOrderId="lim", stopClientOrderId="stp",
    )  # fmt: skip
    assert [r["type"] for r in placed["orderReports"]] == ["STOP_LOSS_LIMIT", "LIMIT_MAKER"]
    # The larger member's cost is locked once: 0.001 at 31100.
    assert Decimal(trader.balances()["USDT"][1]) == Decimal("31.1")
    trade_at(stack, "31000.00")  # triggers the stop: the LIMIT_MAKER expires
    listed = trader.call("GET", "/api/v3/orderList", orderListId=placed["orderListId"])
    assert (listed["listStatusType"], listed["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
    states = {o["clientOrderId"]: o["status"] for o in trader.call("GET", "/api/v3/allOrders", symbol=SYMBOL)}
    assert states == {"lim": "EXPIRED", "stp": "NEW"}  # triggered, resting: no ask left at 31100
    trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
    free, locked = (Decimal(v) for v in trader.balances()["USDT"])
    bought = sum(Decimal(t["quoteQty"]) for t in trader.call("GET", "/api/v3/myTrades", symbol=SYMBOL))
    assert locked == 0 and free == usdt - bought


def test_refusals_leave_the_funds_untouched(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    refusals = [
        ({"aboveType": "MARKET"}, -1158, "Order type not supported in OCO."),
        (
            {"belowType": ""},
            -1102,
            "Mandatory parameter 'belowType' was not sent, was empty/null, or malformed.",
        ),
        ({"abovePrice": "32000.001"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"quantity": "5"}, -2010, "Account has insufficient balance for requested action."),
        ({"aboveClientOrderId": "same", "belowClientOrderId": "same"}, -2010, "Duplicate order sent."),
    ]
    for extra, code, msg in refusals:
        with pytest.raises(ApiFailure) as refused:
            trader.call("POST", "/api/v3/orderList/oco", **sell_oco(**extra))
        assert (refused.value.code, refused.value.msg) == (code, msg)
    # Refused by the engine: the take-profit level under the stop.
    with pytest.raises(ApiFailure) as engine_refused:
        trader.call("POST", "/api/v3/orderList/oco", **sell_oco(abovePrice="27000.00"))
    assert engine_refused.value.code == -2010
    assert trader.balances()["BTC"] == ("0.50000000", "0.00000000")
    # A member's client id of an open order (the second member's too) is a duplicate.
    trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                price="20000.00", quantity="0.001", newClientOrderId="taken")  # fmt: skip
    for member in ("belowClientOrderId", "aboveClientOrderId"):
        with pytest.raises(ApiFailure) as duplicate:
            trader.call("POST", "/api/v3/orderList/oco", **sell_oco(**{member: "taken"}))
        assert (duplicate.value.code, duplicate.value.msg) == (-2010, "Duplicate order sent.")
    trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
    assert trader.balances()["BTC"] == ("0.50000000", "0.00000000")
    with pytest.raises(ApiFailure) as unknown:
        trader.call("GET", "/api/v3/orderList", orderListId=10**9)
    assert (unknown.value.code, unknown.value.msg) == (-2013, "Order list does not exist.")


def test_python_binance_error_type_on_a_missing_list(stack: Stack) -> None:
    trader = sign_up(stack.url)
    client = binance_client(stack.url, trader.api_key, trader.secret)
    try:
        with pytest.raises(BinanceAPIException) as refused:
            client.v3_delete_order_list(symbol=SYMBOL, orderListId=10**9)
        assert refused.value.code == -2011
    finally:
        client.close_connection()


def test_ws_api_lists_and_the_user_streams_list_status(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)

    async def scenario() -> None:
        client = await WsApiClient.open(stack.url.replace("http://", "ws://") + "/ws-api/v3")

        async def call(method: str, params: dict[str, Any]) -> Any:
            answer = await client.call(method, sign(trader.api_key, trader.secret, params))
            assert answer["status"] == 200, answer
            return answer["result"]

        try:
            await call("userDataStream.subscribe.signature", {})
            placed = await call("orderList.place.oco", sell_oco(listClientOrderId="ws-list"))
            list_id = placed["orderListId"]
            assert [r["orderListId"] for r in placed["orderReports"]] == [list_id, list_id]
            status = await call("orderList.status", {"orderListId": list_id})
            assert status["listClientOrderId"] == "ws-list" and list(status) == LIST_FIELDS
            assert [x["orderListId"] for x in await call("openOrderLists.status", {})] == [list_id]
            cancelled = await call("orderList.cancel", {"symbol": SYMBOL, "orderListId": list_id})
            assert cancelled["listOrderStatus"] == "ALL_DONE"
            deprecated = await call(
                "orderList.place",
                {"symbol": SYMBOL, "side": "SELL", "quantity": "0.002", "price": "33000.00",
                 "stopPrice": "27000.00"},
            )  # fmt: skip
            assert [r["type"] for r in deprecated["orderReports"]] == ["STOP_LOSS", "LIMIT_MAKER"]
            assert len(await call("allOrderLists", {})) == 2
            await call("orderList.cancel", {"symbol": SYMBOL, "orderListId": deprecated["orderListId"]})
            seen: list[dict[str, Any]] = []
            while len([e for e in seen if e.get("e") == "listStatus"]) < 4:
                frame = await client.next_unmatched(20.0)
                seen.append(frame.get("event", {}))
            statuses = [(e["g"], e["l"], e["L"]) for e in seen if e.get("e") == "listStatus"]
            assert statuses == [
                (list_id, "EXEC_STARTED", "EXECUTING"), (list_id, "ALL_DONE", "ALL_DONE"),
                (deprecated["orderListId"], "EXEC_STARTED", "EXECUTING"),
                (deprecated["orderListId"], "ALL_DONE", "ALL_DONE"),
            ]  # fmt: skip
            first = next(e for e in seen if e.get("e") == "listStatus")
            assert (first["c"], first["C"], [o["i"] for o in first["O"]]) == (
                "OCO", "ws-list", [o["orderId"] for o in placed["orders"]]
            )  # fmt: skip
            reports = [e for e in seen if e.get("e") == "executionReport"]
            assert reports and all(e["g"] in (list_id, deprecated["orderListId"]) for e in reports)
            assert trader.balances()["BTC"] == ("0.50000000", "0.00000000")
        finally:
            await client.close()

    asyncio.run(scenario())


def test_grpc_places_queries_and_cancels_an_oco(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    rest = sign_up(stack.url)

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
            trader = GrpcTrader(channel, rest.api_key, rest.secret)
            request = tpb.PlaceOcoRequest(
                symbol=SYMBOL, side=apb.SIDE_SELL, quantity="0.01", list_client_order_id="grpc-list",
                above=tpb.OcoMember(type=apb.ORDER_TYPE_LIMIT_MAKER, price="32000", client_order_id="g-up"),
                below=tpb.OcoMember(type=apb.ORDER_TYPE_STOP_LOSS, stop_price="28000"),
            )  # fmt: skip
            placed = await trader.call("PlaceOco", request)
            listed = placed.order_list
            assert (listed.contingency_type, listed.list_status_type, listed.list_order_status) == (
                "OCO", "EXEC_STARTED", "EXECUTING"
            )  # fmt: skip
            assert [r.order_list_id for r in placed.order_reports] == [listed.order_list_id] * 2
            assert placed.order_reports[1].client_order_id == "g-up"
            assert rest.balances()["BTC"] == ("0.49000000", "0.01000000")
            by_id = await trader.call(
                "GetOrderList", tpb.GetOrderListRequest(order_list_id=listed.order_list_id)
            )
            assert by_id.list_client_order_id == "grpc-list" and len(by_id.orders) == 2
            open_lists = await trader.call("ListOpenOrderLists", tpb.ListOpenOrderListsRequest())
            assert [x.order_list_id for x in open_lists.order_lists] == [listed.order_list_id]
            cancelled = await trader.call(
                "CancelOrderList", tpb.CancelOrderListRequest(symbol=SYMBOL, list_client_order_id="grpc-list")
            )
            assert cancelled.order_list.list_order_status == "ALL_DONE"
            assert [r.status for r in cancelled.order_reports] == [apb.ORDER_STATUS_CANCELED] * 2
            with pytest.raises(grpc.aio.AioRpcError) as unknown:
                await trader.call("GetOrderList", tpb.GetOrderListRequest(order_list_id=10**9))
            assert api_error(unknown.value) == (-2013, "Order list does not exist.")
        assert rest.balances()["BTC"] == ("0.50000000", "0.00000000")

    asyncio.run(scenario())
