"""OTO and OTOCO order lists through the running order path with real clients (python-binance's
v3_post_order_list_oto/otoco, ccxt's implicit Binance API, the raw signed client, the WebSocket
API and gRPC, changed only in their base URL): the answers' shape, the two reservations (the
working order's and the pending orders'), the pending orders placed when the working one fills,
or ended with it, every unit of both assets accounted for, the list queries, the user stream's
listStatus, Binance's refusals, listClientOrderId unique among open lists, and myAllocations
(REST and WebSocket API: an empty list, as a venue without Smart Order Routing answers).

The module runs its own stack with one market, BTCUSDT (tick 0.01, step 0.00001, min notional 5),
so that its trades alone set the last price.
"""

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import grpc
import pytest

from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.test_clients import binance_client, ccxt_exchange
from tests.e2e.test_order_lists import LIST_FIELDS, SYMBOL, trade_at
from tests.grpc_client import GrpcTrader
from tests.wsapi_client import WsApiClient, sign


@pytest.fixture(scope="module")
def stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL]) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def sell_into(stack: Stack, price: str, qty: str) -> None:
    """A new user sells `qty` at `price` (IOC): it takes the bids at that price or better."""
    seller = sign_up(stack.url)
    seller.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="IOC",
                price=price, quantity=qty)  # fmt: skip


def totals(trader: Trader) -> dict[str, tuple[Decimal, Decimal]]:
    return {a: (Decimal(f), Decimal(lk)) for a, (f, lk) in trader.balances().items()}


def held_after_trades(trader: Trader, start: dict[str, tuple[Decimal, Decimal]]) -> dict[str, Decimal]:
    """What the user must hold (free + locked) per asset: the start plus every trade's flows
    (bought base less its commission, sold quote less its commission)."""
    held = {a: f + lk for a, (f, lk) in start.items()}
    for t in trader.call("GET", "/api/v3/myTrades", symbol=SYMBOL):
        qty, quote, fee = Decimal(t["qty"]), Decimal(t["quoteQty"]), Decimal(t["commission"])
        sign = 1 if t["isBuyer"] else -1
        held["BTC"] += sign * qty
        held["USDT"] -= sign * quote
        held[t["commissionAsset"]] -= fee
    return held


def assert_conserved(trader: Trader, start: dict[str, tuple[Decimal, Decimal]], locked: bool = False) -> None:
    """free + locked of BTC and USDT is exactly the start plus the trades; nothing locked unless
    `locked`."""
    now, want = totals(trader), held_after_trades(trader, start)
    for asset in ("BTC", "USDT"):
        assert now[asset][0] + now[asset][1] == want[asset], (asset, now[asset], want[asset])
        if not locked:
            assert now[asset][1] == 0, (asset, now[asset])


def buy_then_sell(**extra: str) -> dict[str, str]:
    """An OTO: a working BUY LIMIT of 0.01 BTC at 29000 and a pending SELL LIMIT at 31000."""
    return {
        "symbol": SYMBOL, "workingType": "LIMIT", "workingSide": "BUY", "workingPrice": "29000.00",
        "workingQuantity": "0.01", "workingTimeInForce": "GTC", "pendingType": "LIMIT",
        "pendingSide": "SELL", "pendingPrice": "31000.00", "pendingQuantity": "0.01",
        "pendingTimeInForce": "GTC", **extra,
    }  # fmt: skip


def buy_then_bracket(**extra: str) -> dict[str, str]:
    """An OTOCO: a working BUY LIMIT of 0.01 BTC at 29000, then a SELL OCO: LIMIT_MAKER at 32000
    above, STOP_LOSS_LIMIT (stop 28000, price 27900) below."""
    return {
        "symbol": SYMBOL, "workingType": "LIMIT", "workingSide": "BUY", "workingPrice": "29000.00",
        "workingQuantity": "0.01", "workingTimeInForce": "GTC", "pendingSide": "SELL",
        "pendingQuantity": "0.01", "pendingAboveType": "LIMIT_MAKER", "pendingAbovePrice": "32000.00",
        "pendingBelowType": "STOP_LOSS_LIMIT", "pendingBelowStopPrice": "28000.00",
        "pendingBelowPrice": "27900.00", "pendingBelowTimeInForce": "GTC", **extra,
    }  # fmt: skip


def test_python_binance_oto_places_its_pending_order_on_the_working_fill(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    start = totals(trader)
    client = binance_client(stack.url, trader.api_key, trader.secret)
    try:
        placed = client.v3_post_order_list_oto(
            **buy_then_sell(listClientOrderId="oto-1", workingClientOrderId="w", pendingClientOrderId="p")
        )
        assert list(placed) == [*LIST_FIELDS, "orderReports"]
        assert (placed["contingencyType"], placed["listStatusType"], placed["listOrderStatus"]) == (
            "OTO", "EXEC_STARTED", "EXECUTING"
        )  # fmt: skip
        list_id = placed["orderListId"]
        working, pending = placed["orderReports"]
        assert [o["clientOrderId"] for o in placed["orders"]] == ["w", "p"]
        assert (working["status"], pending["status"]) == ("NEW", "PENDING_NEW")
        assert (pending["type"], pending["side"], pending["price"], pending["orderListId"]) == (
            "LIMIT", "SELL", "31000.00000000", list_id
        )  # fmt: skip
        # Two reservations: 290 USDT for the working order, 0.01 BTC for the pending one.
        now = totals(trader)
        assert now["USDT"][1] == Decimal("290") and now["BTC"] == (Decimal("0.49"), Decimal("0.01"))
        assert_conserved(trader, start, locked=True)
        stored = client.get_order(symbol=SYMBOL, origClientOrderId="p")
        assert (stored["status"], stored["orderListId"]) == ("PENDING_NEW", list_id)
        assert [x["orderListId"] for x in client.get_open_oco_orders()] == [list_id]

        sell_into(stack, "29000.00", "0.01")  # fills the working order: the pending one is placed
        done = client.v3_get_order_list(orderListId=list_id)
        assert (done["listStatusType"], done["listOrderStatus"]) == ("ALL_DONE", "ALL_DONE")
        states = {o["clientOrderId"]: o["status"] for o in client.get_all_orders(symbol=SYMBOL)}
        assert states == {"w": "FILLED", "p": "NEW"}
        assert client.get_open_oco_orders() == []
        assert [o["clientOrderId"] for o in client.get_open_orders(symbol=SYMBOL)] == ["p"]
        assert totals(trader)["BTC"][1] == Decimal("0.01")  # the pending order's own reservation
        assert_conserved(trader, start, locked=True)
        client.cancel_order(symbol=SYMBOL, origClientOrderId="p")
        assert_conserved(trader, start)
    finally:
        client.close_connection()


def test_ccxt_otoco_cancelled_working_order_ends_the_pending_pair(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    start = totals(trader)
    exchange = ccxt_exchange(stack.url, trader.api_key, trader.secret)
    try:
        placed = exchange.private_post_orderlist_otoco(buy_then_bracket(listClientOrderId="otoco-1"))
        assert placed["contingencyType"] == "OTOCO" and len(placed["orders"]) == 3
        assert [r["status"] for r in placed["orderReports"]] == ["NEW", "PENDING_NEW", "PENDING_NEW"]
        assert [r["type"] for r in placed["orderReports"]] == ["LIMIT", "STOP_LOSS_LIMIT", "LIMIT_MAKER"]
        # The pair shares one reservation of 0.01 BTC.
        assert totals(trader)["BTC"] == (Decimal("0.49"), Decimal("0.01"))
        working = placed["orderReports"][0]["orderId"]
        exchange.private_delete_order({"symbol": SYMBOL, "orderId": working})
        listed = exchange.private_get_orderlist({"orderListId": placed["orderListId"]})
        assert listed["listOrderStatus"] == "ALL_DONE"
        states = [o["status"] for o in exchange.private_get_allorders({"symbol": SYMBOL})]
        assert states == ["CANCELED"] * 3
        assert_conserved(trader, start)
        # Its listClientOrderId is free again once the list is done.
        again = exchange.private_post_orderlist_otoco(buy_then_bracket(listClientOrderId="otoco-1"))
        assert again["listClientOrderId"] == "otoco-1"
        with pytest.raises(ApiFailure) as duplicate:  # not while that list is open
            trader.call("POST", "/api/v3/orderList/otoco", **buy_then_bracket(listClientOrderId="otoco-1"))
        assert (duplicate.value.code, duplicate.value.msg) == (-2010, "Duplicate order sent.")
        exchange.private_delete_orderlist({"symbol": SYMBOL, "listClientOrderId": "otoco-1"})
        assert_conserved(trader, start)
    finally:
        exchange.close()


def test_otoco_fill_places_the_pair_and_its_take_profit_ends_the_stop(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    start = totals(trader)
    placed = trader.call(
        "POST",
        "/api/v3/orderList/otoco",
        **buy_then_bracket(
            pendingAboveClientOrderId="tp", pendingBelowClientOrderId="sl", workingClientOrderId="entry"
        ),
    )
    sell_into(stack, "29000.00", "0.01")
    assert trader.call("GET", "/api/v3/openOrderList") != []  # the pair is an open OCO now
    taker = sign_up(stack.url)
    taker.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.01")
    states = {o["clientOrderId"]: o["status"] for o in trader.call("GET", "/api/v3/allOrders", symbol=SYMBOL)}
    assert states == {"entry": "FILLED", "tp": "FILLED", "sl": "EXPIRED"}
    listed = trader.call("GET", "/api/v3/orderList", orderListId=placed["orderListId"])
    assert listed["listOrderStatus"] == "ALL_DONE"
    assert trader.call("GET", "/api/v3/openOrderList") == []
    assert_conserved(trader, start)


def test_expired_working_order_expires_the_pending_one_and_releases_both(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    start = totals(trader)
    # An IOC working order with nothing to take: it expires, and its pending order with it.
    placed = trader.call("POST", "/api/v3/orderList/oto", **buy_then_sell(workingTimeInForce="IOC"))
    assert [r["status"] for r in placed["orderReports"]] == ["EXPIRED", "EXPIRED"]
    listed = trader.call("GET", "/api/v3/orderList", orderListId=placed["orderListId"])
    assert listed["listOrderStatus"] == "ALL_DONE"
    pending = trader.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderReports"][1]["orderId"])
    assert pending["status"] == "EXPIRED"
    assert_conserved(trader, start)


def test_refusals_leave_the_funds_untouched(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    start = totals(trader)
    refusals = [
        ("oto", {"workingType": "MARKET"}, -1158, "Order type not supported in OTO."),
        ("oto", {"pendingType": ""}, -1102,
         "Mandatory parameter 'pendingType' was not sent, was empty/null, or malformed."),
        ("oto", {"workingPrice": "29000.001"}, -1013, "Filter failure: PRICE_FILTER"),
        # the working order fits, the pending one (5 BTC) does not
        ("oto", {"pendingQuantity": "5"}, -2010, "Account has insufficient balance for requested action."),
        ("oto", {"workingClientOrderId": "same", "pendingClientOrderId": "same"}, -2010,
         "Duplicate order sent."),
        ("otoco", {"pendingAboveType": "MARKET"}, -1158, "Order type not supported in OCO."),
        ("otoco", {"pendingBelowType": ""}, -1102,
         "Mandatory parameter 'pendingBelowType' was not sent, was empty/null, or malformed."),
    ]  # fmt: skip
    for kind, extra, code, msg in refusals:
        params = buy_then_sell(**extra) if kind == "oto" else buy_then_bracket(**extra)
        with pytest.raises(ApiFailure) as refused:
            trader.call("POST", f"/api/v3/orderList/{kind}", **params)
        assert (refused.value.code, refused.value.msg) == (code, msg), extra
    # Refused by the engine: the pair's take-profit level under its stop.
    with pytest.raises(ApiFailure) as engine_refused:
        trader.call("POST", "/api/v3/orderList/otoco", **buy_then_bracket(pendingAbovePrice="27000.00"))
    assert engine_refused.value.code == -2010
    assert_conserved(trader, start)
    assert trader.call("GET", "/api/v3/allOrders", symbol=SYMBOL) == []
    # The working order's client id, given back with the refused list, is free.
    params = buy_then_sell(pendingQuantity="5", workingClientOrderId="again")
    with pytest.raises(ApiFailure):
        trader.call("POST", "/api/v3/orderList/oto", **params)
    trader.call("POST", "/api/v3/orderList/oto", **buy_then_sell(workingClientOrderId="again"))
    trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
    assert_conserved(trader, start)


def test_ws_api_oto_and_otoco_and_the_user_streams_list_status(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    trader = sign_up(stack.url)
    start = totals(trader)

    async def scenario() -> None:
        client = await WsApiClient.open(stack.url.replace("http://", "ws://") + "/ws-api/v3")

        async def call(method: str, params: dict[str, Any]) -> Any:
            answer = await client.call(method, sign(trader.api_key, trader.secret, params))
            assert answer["status"] == 200, answer
            return answer["result"]

        try:
            await call("userDataStream.subscribe.signature", {})
            oto = await call("orderList.place.oto", buy_then_sell(listClientOrderId="ws-oto"))
            otoco = await call("orderList.place.otoco", buy_then_bracket(workingPrice="28000.00"))
            assert (oto["contingencyType"], otoco["contingencyType"]) == ("OTO", "OTOCO")
            open_lists = await call("openOrderLists.status", {})
            assert [x["orderListId"] for x in open_lists] == [oto["orderListId"], otoco["orderListId"]]
            await call("openOrders.cancelAll", {"symbol": SYMBOL})
            assert await call("openOrderLists.status", {}) == []
            seen: list[dict[str, Any]] = []
            while len([e for e in seen if e.get("e") == "listStatus"]) < 4:
                frame = await client.next_unmatched(20.0)
                seen.append(frame.get("event", {}))
            statuses = [(e["g"], e["c"], e["L"]) for e in seen if e.get("e") == "listStatus"]
            assert statuses == [
                (oto["orderListId"], "OTO", "EXECUTING"), (otoco["orderListId"], "OTOCO", "EXECUTING"),
                (oto["orderListId"], "OTO", "ALL_DONE"), (otoco["orderListId"], "OTOCO", "ALL_DONE"),
            ]  # fmt: skip
            pending_reports = [e for e in seen if e.get("e") == "executionReport" and e["X"] == "PENDING_NEW"]
            assert [e["g"] for e in pending_reports] == [oto["orderListId"]] + [otoco["orderListId"]] * 2
        finally:
            await client.close()

    asyncio.run(scenario())
    assert_conserved(trader, start)


def test_my_allocations_is_an_empty_list_with_binances_refusals(stack: Stack) -> None:
    trader = sign_up(stack.url)
    exchange = ccxt_exchange(stack.url, trader.api_key, trader.secret)
    try:
        assert exchange.private_get_myallocations({"symbol": SYMBOL}) == []
    finally:
        exchange.close()
    with pytest.raises(ApiFailure) as missing:
        trader.call("GET", "/api/v3/myAllocations")
    assert missing.value.code == -1102
    with pytest.raises(ApiFailure) as unknown:
        trader.call("GET", "/api/v3/myAllocations", symbol="NOPE")
    assert (unknown.value.code, unknown.value.msg) == (-1121, "Invalid symbol.")

    async def scenario() -> None:
        client = await WsApiClient.open(stack.url.replace("http://", "ws://") + "/ws-api/v3")
        try:
            answer = await client.call(
                "myAllocations", sign(trader.api_key, trader.secret, {"symbol": SYMBOL})
            )
            assert (answer["status"], answer["result"]) == (200, [])
        finally:
            await client.close()

    asyncio.run(scenario())


def test_grpc_places_an_oto_and_an_otoco(stack: Stack) -> None:
    trade_at(stack, "30000.00")
    rest = sign_up(stack.url)
    start = totals(rest)
    working = tpb.ListOrderMember(
        type=apb.ORDER_TYPE_LIMIT, side=apb.SIDE_BUY, price="29000", quantity="0.01",
        time_in_force=apb.TIME_IN_FORCE_GTC, client_order_id="g-w",
    )  # fmt: skip

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
            trader = GrpcTrader(channel, rest.api_key, rest.secret)
            oto = await trader.call("PlaceOto", tpb.PlaceOtoRequest(
                symbol=SYMBOL, list_client_order_id="g-oto", working=working,
                pending=tpb.ListOrderMember(type=apb.ORDER_TYPE_TAKE_PROFIT, side=apb.SIDE_SELL,
                                            stop_price="31000", quantity="0.01"),
            ))  # fmt: skip
            assert (oto.order_list.contingency_type, len(oto.order_reports)) == ("OTO", 2)
            assert [r.status for r in oto.order_reports] == [
                apb.ORDER_STATUS_NEW,
                apb.ORDER_STATUS_PENDING_NEW,
            ]
            otoco = await trader.call("PlaceOtoco", tpb.PlaceOtocoRequest(
                symbol=SYMBOL, working=tpb.ListOrderMember(
                    type=apb.ORDER_TYPE_LIMIT_MAKER, side=apb.SIDE_BUY, price="28000", quantity="0.01"),
                pending_side=apb.SIDE_SELL, pending_quantity="0.01",
                pending_above=tpb.OcoMember(type=apb.ORDER_TYPE_LIMIT_MAKER, price="32000"),
                pending_below=tpb.OcoMember(type=apb.ORDER_TYPE_STOP_LOSS, stop_price="27000"),
            ))  # fmt: skip
            assert [r.type for r in otoco.order_reports] == [
                apb.ORDER_TYPE_LIMIT_MAKER, apb.ORDER_TYPE_STOP_LOSS, apb.ORDER_TYPE_LIMIT_MAKER
            ]  # fmt: skip
            open_lists = await trader.call("ListOpenOrderLists", tpb.ListOpenOrderListsRequest())
            assert [x.contingency_type for x in open_lists.order_lists] == ["OTO", "OTOCO"]
            for placed in (oto, otoco):
                await trader.call("CancelOrderList", tpb.CancelOrderListRequest(
                    symbol=SYMBOL, order_list_id=placed.order_list.order_list_id))  # fmt: skip

    asyncio.run(scenario())
    assert_conserved(rest, start)
