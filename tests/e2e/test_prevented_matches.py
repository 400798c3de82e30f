"""Self-trade prevention's records through the running order path with real clients: each STP
mode (EXPIRE_TAKER with python-binance, EXPIRE_MAKER with the WebSocket API, EXPIRE_BOTH with the
raw signed client) makes one prevented match that GET /api/v3/myPreventedMatches and the
WebSocket API's myPreventedMatches return in Binance's shape, the expired orders' answers carry
preventedMatchId and preventedQuantity, the executionReport carries `v`, Binance's refusals, and
no funds stay locked.

The module runs on its own stack (tests/e2e/conftest.py); its orders are on BTCUSDT (tick 0.01,
step 0.00001, min notional 5), where nothing else trades.
"""

import asyncio
from typing import Any

import pytest

from launcher.stack import Stack
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.test_clients import binance_client
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
