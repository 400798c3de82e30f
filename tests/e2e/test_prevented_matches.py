"""Self-trade prevention's records through the running order path with real clients: each STP
mode (EXPIRE_TAKER with python-binance, EXPIRE_MAKER with the WebSocket API, EXPIRE_BOTH with the
raw signed client) makes one prevented match that GET /api/v3/myPreventedMatches and the
WebSocket API's myPreventedMatches return in Binance's shape, the expired orders' answers carry
preventedMatchId and preventedQuantity, the executionReport carries `v`, Binance's refusals, and
no funds stay locked. Over gRPC the same: ListPreventedMatches gives REST's records, the answers
and `Order` carry the match, the streamed TRADE_PREVENTION report its fields.

The module runs on its own stack (tests/e2e/conftest.py); its orders are on BTCUSDT (tick 0.01,
step 0.00001, min notional 5), where nothing else trades.
"""

import asyncio
from typing import Any

import grpc
import pytest

from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from launcher.stack import Stack
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.test_clients import binance_client
from tests.grpc_client import GrpcTrader, api_error
from tests.wsapi_client import sign, user_data_client

SYMBOL = "BTCUSDT"
RECORD_FIELDS = ["symbol", "preventedMatchId", "takerOrderId", "makerSymbol", "makerOrderId", "tradeGroupId",
                 "selfTradePreventionMode", "price"]  # fmt: skip


def sell(trader: Trader, qty: str, price: str = "30000.00") -> int:
    """`trader` rests a SELL LIMIT (STP NONE); its order id."""
    placed = trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                         price=price, quantity=qty, selfTradePreventionMode="NONE")  # fmt: skip
    assert placed["status"] == "NEW"
    return int(placed["orderId"])


def nothing_locked(trader: Trader) -> None:
    balances = trader.balances()
    assert all(float(locked) == 0 for _, locked in balances.values()), balances


def test_expire_taker_with_python_binance(stack: Stack) -> None:
    trader = sign_up(stack.url)
    maker_id = sell(trader, "0.01000")
    client = binance_client(stack.url, trader.api_key, trader.secret)
    taker = client.create_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", price="30000.00",
                                quantity="0.01000", selfTradePreventionMode="EXPIRE_TAKER")  # fmt: skip
    assert taker["status"] == "EXPIRED_IN_MATCH" and taker["executedQty"] == "0.00000000"
    match_id = taker["preventedMatchId"]
    assert isinstance(match_id, int) and match_id > 0
    assert taker["preventedQuantity"] == "0.01000000"
    assert taker["preventedMatches"] == [
        {"preventedMatchId": match_id, "makerOrderId": maker_id, "price": "30000.00000000",
         "takerPreventedQuantity": "0.01000000"},
    ]  # fmt: skip
    [record] = client.get_prevented_matches(symbol=SYMBOL, preventedMatchId=match_id)
    assert list(record) == [*RECORD_FIELDS, "takerPreventedQuantity", "transactTime"]
    assert [record[f] for f in RECORD_FIELDS] == [
        SYMBOL, match_id, taker["orderId"], SYMBOL, maker_id, -1, "EXPIRE_TAKER", "30000.00000000",
    ]  # fmt: skip
    assert record["takerPreventedQuantity"] == "0.01000000"
    assert record["transactTime"] == taker["transactTime"]
    assert client.get_prevented_matches(symbol=SYMBOL, orderId=maker_id) == [record]
    assert (
        client.get_prevented_matches(symbol=SYMBOL, orderId=maker_id, fromPreventedMatchId=match_id + 1) == []
    )
    queried = client.get_order(symbol=SYMBOL, orderId=taker["orderId"])
    assert (queried["preventedMatchId"], queried["preventedQuantity"]) == (match_id, "0.01000000")
    maker = client.get_order(symbol=SYMBOL, orderId=maker_id)
    assert maker["status"] == "NEW" and "preventedMatchId" not in maker
    client.cancel_order(symbol=SYMBOL, orderId=maker_id)
    nothing_locked(trader)


def test_expire_maker_with_the_websocket_api_and_its_execution_report(stack: Stack) -> None:
    trader = sign_up(stack.url)
    first, second = sell(trader, "0.01000"), sell(trader, "0.02000", "30000.01")

    async def scenario() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        client = await user_data_client(stack.url, trader.api_key, trader.secret)
        try:
            order = {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                     "price": "30000.01", "quantity": "0.01000",
                     "selfTradePreventionMode": "EXPIRE_MAKER"}  # fmt: skip
            placed = await client.call("order.place", sign(trader.api_key, trader.secret, order))
            assert placed["status"] == 200, placed
            taker = placed["result"]
            by_order = await client.call(
                "myPreventedMatches",
                sign(trader.api_key, trader.secret, {"symbol": SYMBOL, "orderId": taker["orderId"]}),
            )
            assert by_order["status"] == 200, by_order
            reports: list[dict[str, Any]] = []
            while len(reports) < 2:
                event = (await client.next_unmatched(20.0)).get("event", {})
                if event.get("e") == "executionReport" and event.get("x") == "TRADE_PREVENTION":
                    reports.append(event)
            cancelled = await client.call(
                "order.cancel",
                sign(trader.api_key, trader.secret, {"symbol": SYMBOL, "orderId": taker["orderId"]}),
            )
            assert cancelled["status"] == 200
            return taker, by_order["result"], reports
        finally:
            await client.close()

    taker, records, reports = asyncio.run(scenario())
    assert (
        taker["status"] == "NEW" and "preventedMatchId" not in taker
    )  # the taker rests: only the makers expired
    assert [
        (m["makerOrderId"], m["price"], m["makerPreventedQuantity"]) for m in taker["preventedMatches"]
    ] == [
        (first, "30000.00000000", "0.01000000"),
        (second, "30000.01000000", "0.02000000"),
    ]
    assert [m["preventedMatchId"] for m in taker["preventedMatches"]] == [
        r["preventedMatchId"] for r in records
    ]
    assert all("takerPreventedQuantity" not in m for m in taker["preventedMatches"])
    assert [
        (r["makerOrderId"], r["takerOrderId"], r["selfTradePreventionMode"], r["price"]) for r in records
    ] == [
        (first, taker["orderId"], "EXPIRE_MAKER", "30000.00000000"),
        (second, taker["orderId"], "EXPIRE_MAKER", "30000.01000000"),
    ]
    assert [r["makerPreventedQuantity"] for r in records] == ["0.01000000", "0.02000000"]
    assert all("takerPreventedQuantity" not in r for r in records)
    ids = [r["preventedMatchId"] for r in records]
    assert ids[1] == ids[0] + 1
    assert [(e["i"], e["X"], e["v"], e["A"], e["U"]) for e in reports] == [
        (first, "EXPIRED_IN_MATCH", ids[0], "0.01000000", taker["orderId"]),
        (second, "EXPIRED_IN_MATCH", ids[1], "0.02000000", taker["orderId"]),
    ]
    maker = trader.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=second)
    assert (maker["status"], maker["preventedMatchId"], maker["preventedQuantity"]) == (
        "EXPIRED_IN_MATCH", ids[1], "0.02000000")  # fmt: skip
    nothing_locked(trader)


def test_expire_both_with_the_raw_client_and_binances_refusals(stack: Stack) -> None:
    trader = sign_up(stack.url)
    maker_id = sell(trader, "0.02000")
    taker = trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                        price="30000.00", quantity="0.01000",
                        selfTradePreventionMode="EXPIRE_BOTH")  # fmt: skip
    assert taker["status"] == "EXPIRED_IN_MATCH" and taker["preventedQuantity"] == "0.01000000"
    assert taker["preventedMatches"] == [
        {"preventedMatchId": taker["preventedMatchId"], "makerOrderId": maker_id, "price": "30000.00000000",
         "takerPreventedQuantity": "0.01000000", "makerPreventedQuantity": "0.02000000"},
    ]  # fmt: skip
    [record] = trader.call("GET", "/api/v3/myPreventedMatches", symbol=SYMBOL, orderId=taker["orderId"])
    assert record["preventedMatchId"] == taker["preventedMatchId"]
    assert (record["takerOrderId"], record["makerOrderId"], record["selfTradePreventionMode"]) == (
        taker["orderId"], maker_id, "EXPIRE_BOTH")  # fmt: skip
    assert (record["takerPreventedQuantity"], record["makerPreventedQuantity"]) == (
        "0.01000000",
        "0.02000000",
    )
    maker = trader.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=maker_id)
    assert (maker["status"], maker["preventedMatchId"]) == ("EXPIRED_IN_MATCH", record["preventedMatchId"])
    other = sign_up(stack.url)
    assert other.call("GET", "/api/v3/myPreventedMatches", symbol=SYMBOL, orderId=taker["orderId"]) == []
    for params, code in (({}, -1102), ({"symbol": "NOPE", "orderId": 1}, -1121), ({"symbol": SYMBOL}, -1128)):
        with pytest.raises(ApiFailure) as refused:
            trader.call("GET", "/api/v3/myPreventedMatches", **params)
        assert refused.value.code == code, params
    nothing_locked(trader)


QTY = "0.01000000"


async def test_expire_taker_over_grpc(stack: Stack) -> None:
    trader = sign_up(stack.url)
    maker_id = sell(trader, "0.01000")
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        client = GrpcTrader(channel, trader.api_key, trader.secret)
        reports = client.stream("StreamExecutionReports", tpb.StreamExecutionReportsRequest())
        await asyncio.wait_for(reports.initial_metadata(), 10)
        taker = await client.call("PlaceOrder", tpb.PlaceOrderRequest(
            symbol=SYMBOL, side=apb.SIDE_BUY, type=apb.ORDER_TYPE_LIMIT, time_in_force=apb.TIME_IN_FORCE_GTC,
            price="30000.00", quantity="0.01000", new_order_resp_type=tpb.RESPONSE_TYPE_FULL,
            self_trade_prevention_mode=apb.SELF_TRADE_PREVENTION_MODE_EXPIRE_TAKER))  # fmt: skip
        assert taker.status == apb.ORDER_STATUS_EXPIRED_IN_MATCH
        assert taker.prevented_match_id > 0 and taker.prevented_quantity == "0.01000000"
        [full] = taker.prevented_matches
        assert (full.prevented_match_id, full.maker_order_id, full.price) == (
            taker.prevented_match_id, maker_id, "30000.00000000")  # fmt: skip
        assert (full.taker_prevented_quantity, full.maker_prevented_quantity) == (QTY, "")
        prevented = None
        async for report in reports:
            if report.execution_type == tpb.EXECUTION_TYPE_TRADE_PREVENTION:
                prevented = report
                break
        reports.cancel()
        assert prevented is not None
        assert (prevented.order_id, prevented.prevented_match_id, prevented.counter_order_id) == (
            taker.order_id, taker.prevented_match_id, maker_id)  # fmt: skip
        p = prevented
        assert (p.prevented_quantity, p.last_prevented_quantity, p.counter_symbol) == (QTY, QTY, SYMBOL)
        assert (prevented.prevented_execution_qty, prevented.prevented_execution_price) == (
            "0.01000000", "30000.00000000")  # fmt: skip
        assert prevented.prevented_execution_quote_qty == "300.00000000"
        found = await client.call("ListPreventedMatches", tpb.ListPreventedMatchesRequest(
            symbol=SYMBOL, order_id=maker_id))  # fmt: skip
        [record] = found.prevented_matches
        [rest] = trader.call("GET", "/api/v3/myPreventedMatches", symbol=SYMBOL, orderId=maker_id)
        r = record
        assert (r.prevented_match_id, r.taker_order_id, r.maker_order_id, r.maker_symbol) == (
            rest["preventedMatchId"], rest["takerOrderId"], rest["makerOrderId"], rest["makerSymbol"],
        )  # fmt: skip
        assert (record.price, record.taker_prevented_quantity, record.maker_prevented_quantity) == (
            rest["price"], rest["takerPreventedQuantity"], "")  # fmt: skip
        assert (record.trade_group_id, record.transact_time) == (-1, rest["transactTime"])
        assert record.self_trade_prevention_mode == apb.SELF_TRADE_PREVENTION_MODE_EXPIRE_TAKER
        by_id = await client.call("ListPreventedMatches", tpb.ListPreventedMatchesRequest(
            symbol=SYMBOL, prevented_match_id=taker.prevented_match_id))  # fmt: skip
        assert list(by_id.prevented_matches) == [record]
        queried = await client.call("GetOrder", tpb.GetOrderRequest(symbol=SYMBOL, order_id=taker.order_id))
        assert (queried.prevented_match_id, queried.prevented_quantity) == (taker.prevented_match_id, QTY)
        maker = await client.call("GetOrder", tpb.GetOrderRequest(symbol=SYMBOL, order_id=maker_id))
        assert (maker.prevented_match_id, maker.prevented_quantity) == (0, "")
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await client.call("ListPreventedMatches", tpb.ListPreventedMatchesRequest(symbol=SYMBOL))
        assert api_error(refused.value)[0] == -1128
        await client.call("CancelOrder", tpb.CancelOrderRequest(symbol=SYMBOL, order_id=maker_id))
    nothing_locked(trader)
