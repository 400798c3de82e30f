"""Stop orders, cancelReplace and order/test through the running order path, with real clients
(ccxt and python-binance, changed only in their base URL) and the raw signed client.

The module runs its own stack with one market, BTCUSDT (tick 0.01, step 0.00001, min notional 5),
so that its trades alone set the last price that stop orders trigger on. Every test leaves the
book empty: stop orders, like any open order, are cancelled at the end.
"""

import asyncio
from collections.abc import Callable, Iterator
from decimal import Decimal

import ccxt  # type: ignore[import-untyped]
import pytest
from binance.client import Client  # type: ignore[import-untyped]
from binance.exceptions import BinanceAPIException  # type: ignore[import-untyped]

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.test_clients import binance_client, ccxt_exchange
from tests.e2e.test_ws_clients import new_listen_key
from tests.e2e.wsutil import Collector, start_ws

SYMBOL = "BTCUSDT"
STOP_TYPES = ["STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]


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
    assert fill["status"] == "FILLED" and Decimal(fill["fills"][0]["price"]) == Decimal(price)


def bid(stack: Stack, price: str, qty: str) -> tuple[Trader, int]:
    """A new user's resting bid (liquidity for triggered sells)."""
    user = sign_up(stack.url)
    order = user.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                      price=price, quantity=qty)  # fmt: skip
    return user, order["orderId"]


def locked(trader: Trader, asset: str) -> Decimal:
    return Decimal(trader.balances()[asset][1])


@pytest.fixture
def new_ccxt(stack: Stack) -> Iterator[Callable[[], tuple[ccxt.binance, Trader]]]:
    made: list[ccxt.binance] = []

    def make() -> tuple[ccxt.binance, Trader]:
        trader = sign_up(stack.url)
        made.append(ccxt_exchange(stack.url, trader.api_key, trader.secret))
        return made[-1], trader

    yield make
    for exchange in made:
        exchange.close()


@pytest.fixture
def new_binance(stack: Stack) -> Iterator[Callable[[], tuple[Client, Trader]]]:
    made: list[Client] = []

    def make() -> tuple[Client, Trader]:
        trader = sign_up(stack.url)
        made.append(binance_client(stack.url, trader.api_key, trader.secret))
        return made[-1], trader

    yield make
    for client in made:
        client.close_connection()


def test_exchange_info_lists_exactly_the_supported_order_types(stack: Stack) -> None:
    trader = sign_up(stack.url)
    info = trader.http.get(f"{stack.url}/api/v3/exchangeInfo", params={"symbol": SYMBOL}).json()
    assert info["symbols"][0]["orderTypes"] == ["LIMIT", "LIMIT_MAKER", "MARKET", *STOP_TYPES]


def test_ccxt_creates_each_stop_type_and_triggers_them(
    stack: Stack, new_ccxt: Callable[[], tuple[ccxt.binance, Trader]]
) -> None:
    trade_at(stack, "30000.00")
    exchange, trader = new_ccxt()
    exchange.load_markets()
    sym = "BTC/USDT"
    # ccxt turns market/limit + stopPrice or triggerPrice into STOP_LOSS / STOP_LOSS_LIMIT, and
    # takeProfitPrice into TAKE_PROFIT / TAKE_PROFIT_LIMIT; an explicit type is sent as it is.
    sl = exchange.create_order(sym, "market", "sell", 0.001, None, {"stopPrice": 29000})
    sll = exchange.create_order(sym, "limit", "buy", 0.001, 30400, {"triggerPrice": 31000})
    tp = exchange.create_order(sym, "market", "sell", 0.001, None, {"takeProfitPrice": 31000})
    tpl = exchange.create_order(sym, "TAKE_PROFIT_LIMIT", "buy", 0.001, 28990, {"triggerPrice": 29000})
    sent = {o["id"]: o for o in (sl, sll, tp, tpl)}
    assert [o["info"]["type"] for o in sent.values()] == STOP_TYPES
    assert [o["triggerPrice"] for o in sent.values()] == [29000, 31000, 31000, 29000]
    assert all(o["status"] == "open" and o["filled"] == 0 for o in sent.values())
    # Waiting orders hold their reservation: two sells of 0.001 BTC; the limit buys' notionals.
    assert locked(trader, "BTC") == Decimal("0.002")
    assert locked(trader, "USDT") == Decimal("30.40") + Decimal("28.99")
    opened = {o["id"]: o for o in exchange.fetch_open_orders(sym)}
    assert set(opened) == set(sent)
    assert all(o["info"]["isWorking"] is False for o in opened.values())

    # A trade at 31000 triggers the rising two, in order id order: the STOP_LOSS_LIMIT buy rests as
    # a limit at 30400 (no ask left), then the TAKE_PROFIT sell runs as a MARKET order into the
    # best bid, another user's at 30500.
    buyer, bid_id = bid(stack, "30500.00", "0.001")
    trade_at(stack, "31000.00")
    done = exchange.fetch_order(tp["id"], sym)
    assert (done["status"], done["filled"], done["average"]) == ("closed", 0.001, 30500)
    working = exchange.fetch_order(sll["id"], sym)
    assert (working["status"], working["info"]["isWorking"], working["price"]) == ("open", True, 30400)
    assert exchange.fetch_order(sl["id"], sym)["info"]["isWorking"] is False
    assert buyer.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=bid_id)["status"] == "FILLED"

    # DELETE openOrders cancels the working limit and both waiting stops; nothing stays locked.
    cancelled = exchange.cancel_all_orders(sym)
    assert {o["id"] for o in cancelled} == {sl["id"], sll["id"], tpl["id"]}
    assert exchange.fetch_open_orders(sym) == []
    assert locked(trader, "BTC") == 0 and locked(trader, "USDT") == 0
    assert Decimal(trader.balances()["BTC"][0]) == Decimal("0.499")
    assert Decimal(trader.balances()["USDT"][0]) == Decimal("10000") + Decimal("30.5") - Decimal("0.0305")


def test_ccxt_stop_market_buy_reserves_at_its_stop_price_and_fills(
    stack: Stack, new_ccxt: Callable[[], tuple[ccxt.binance, Trader]]
) -> None:
    trade_at(stack, "30000.00")
    exchange, trader = new_ccxt()
    exchange.load_markets()
    order = exchange.create_order("BTC/USDT", "STOP_LOSS", "buy", 0.002, None, {"triggerPrice": 30100})
    # Reserved: the notional at the stop price plus 5% slippage.
    assert locked(trader, "USDT") == Decimal("60.2") * Decimal("1.05")
    seller = sign_up(stack.url)
    seller.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                price="30150.00", quantity="0.002")  # fmt: skip
    trade_at(stack, "30100.00")
    filled = exchange.fetch_order(order["id"], "BTC/USDT")
    assert (filled["status"], filled["filled"], filled["cost"]) == ("closed", 0.002, 60.3)
    assert locked(trader, "USDT") == 0
    assert Decimal(trader.balances()["USDT"][0]) == Decimal("10000") - Decimal("60.3")


def test_python_binance_stop_limit_test_order_and_immediate_trigger(
    stack: Stack, new_binance: Callable[[], tuple[Client, Trader]]
) -> None:
    trade_at(stack, "30000.00")
    client, trader = new_binance()
    params = {"symbol": SYMBOL, "side": "SELL", "type": "STOP_LOSS_LIMIT", "timeInForce": "GTC",
              "quantity": "0.001", "price": "29000.00", "stopPrice": "29100.00"}  # fmt: skip
    assert client.create_test_order(**params) == {}
    assert trader.balances()["BTC"] == ("0.50000000", "0.00000000")
    with pytest.raises(BinanceAPIException) as refused:
        client.create_test_order(**{**params, "stopPrice": "29100.001"})
    assert (refused.value.code, refused.value.message) == (-1013, "Filter failure: PRICE_FILTER")
    with pytest.raises(BinanceAPIException) as at_once:
        client.create_order(**{**params, "stopPrice": "30000.00"})
    assert (at_once.value.code, at_once.value.message) == (-2010, "Stop price would trigger immediately.")

    placed = client.create_order(**params)
    assert (placed["status"], placed["type"], Decimal(placed["stopPrice"]), placed["workingTime"]) == (
        "NEW", "STOP_LOSS_LIMIT", Decimal("29100"), -1
    )  # fmt: skip
    order = client.get_order(symbol=SYMBOL, orderId=placed["orderId"])
    assert (order["isWorking"], Decimal(order["stopPrice"])) == (False, Decimal("29100"))
    bid(stack, "29050.00", "0.001")
    trade_at(stack, "29100.00")
    order = client.get_order(symbol=SYMBOL, orderId=placed["orderId"])
    assert (order["status"], order["executedQty"], order["cummulativeQuoteQty"]) == (
        "FILLED",
        "0.00100000",
        "29.05000000",
    )
    assert order["isWorking"] is False and order["workingTime"] > 0
    assert trader.balances()["BTC"] == ("0.49900000", "0.00000000")


def test_cancel_replace_stop_on_failure(
    stack: Stack, new_binance: Callable[[], tuple[Client, Trader]]
) -> None:
    client, trader = new_binance()
    first = client.create_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                quantity="0.001", price="20000.00")  # fmt: skip
    replaced = client.cancel_replace_order(
        symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC", quantity="0.002", price="20001.00",
        cancelReplaceMode="STOP_ON_FAILURE", cancelOrderId=first["orderId"],
    )  # fmt: skip
    assert (replaced["cancelResult"], replaced["newOrderResult"]) == ("SUCCESS", "SUCCESS")
    assert replaced["cancelResponse"]["orderId"] == first["orderId"]
    assert replaced["cancelResponse"]["status"] == "CANCELED"
    second = replaced["newOrderResponse"]
    assert (second["status"], Decimal(second["price"]), second["origQty"]) == ("NEW", 20001, "0.00200000")
    assert locked(trader, "USDT") == Decimal("40.002")

    # The cancel fails: nothing else is attempted, the open order stays.
    with pytest.raises(ApiFailure) as failed:
        trader.call(
            "POST", "/api/v3/order/cancelReplace", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
            quantity="0.001", price="20002.00", cancelReplaceMode="STOP_ON_FAILURE",
            cancelOrderId=first["orderId"],
        )  # fmt: skip
    assert (failed.value.status, failed.value.code) == (400, -2022)
    body = failed.value.body
    assert body["data"] == {
        "cancelResult": "FAILURE",
        "newOrderResult": "NOT_ATTEMPTED",
        "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
        "newOrderResponse": None,
    }
    assert [o["orderId"] for o in client.get_open_orders(symbol=SYMBOL)] == [second["orderId"]]

    # A new order breaking a filter is refused before anything is cancelled.
    with pytest.raises(BinanceAPIException) as filtered:
        client.cancel_replace_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                    quantity="0.001", price="20000.001", cancelReplaceMode="STOP_ON_FAILURE",
                                    cancelOrderId=second["orderId"])  # fmt: skip
    assert (filtered.value.code, filtered.value.message) == (-1013, "Filter failure: PRICE_FILTER")
    assert [o["orderId"] for o in client.get_open_orders(symbol=SYMBOL)] == [second["orderId"]]
    client.cancel_all_open_orders(symbol=SYMBOL)
    assert locked(trader, "USDT") == 0


def test_cancel_replace_allow_failure(stack: Stack, new_binance: Callable[[], tuple[Client, Trader]]) -> None:
    client, trader = new_binance()
    # The cancel fails but the new order is placed: 409, partially failed.
    with pytest.raises(ApiFailure) as partly:
        trader.call("POST", "/api/v3/order/cancelReplace", symbol=SYMBOL, side="SELL", type="STOP_LOSS",
                    quantity="0.001", stopPrice="1000.00", cancelReplaceMode="ALLOW_FAILURE",
                    cancelOrigClientOrderId="no-such-order")  # fmt: skip
    assert (partly.value.status, partly.value.code, partly.value.msg) == (
        409, -2021, "Order cancel-replace partially failed."
    )  # fmt: skip
    data = partly.value.body["data"]
    assert (data["cancelResult"], data["newOrderResult"]) == ("FAILURE", "SUCCESS")
    assert data["cancelResponse"] == {"code": -2011, "msg": "Unknown order sent."}
    stop_id = data["newOrderResponse"]["orderId"]
    assert data["newOrderResponse"]["type"] == "STOP_LOSS"

    # The cancel succeeds, the new order is refused by the engine: 409 again, the old one is gone.
    trade_at(stack, "30000.00")
    with pytest.raises(ApiFailure) as half:
        trader.call("POST", "/api/v3/order/cancelReplace", symbol=SYMBOL, side="SELL", type="TAKE_PROFIT",
                    quantity="0.001", stopPrice="29000.00", cancelReplaceMode="ALLOW_FAILURE",
                    cancelOrderId=stop_id)  # fmt: skip
    data = half.value.body["data"]
    assert (half.value.status, data["cancelResult"], data["newOrderResult"]) == (409, "SUCCESS", "FAILURE")
    assert data["cancelResponse"]["status"] == "CANCELED"
    assert data["newOrderResponse"] == {"code": -2010, "msg": "Stop price would trigger immediately."}
    assert client.get_open_orders(symbol=SYMBOL) == []

    # Both fail: 400, failed.
    with pytest.raises(ApiFailure) as both:
        trader.call("POST", "/api/v3/order/cancelReplace", symbol=SYMBOL, side="SELL", type="TAKE_PROFIT",
                    quantity="0.001", stopPrice="29000.00", cancelReplaceMode="ALLOW_FAILURE",
                    cancelOrderId=stop_id)  # fmt: skip
    assert (both.value.status, both.value.code) == (400, -2022)
    assert both.value.body["data"]["newOrderResult"] == "FAILURE"
    assert trader.balances()["BTC"] == ("0.50000000", "0.00000000")


def test_user_stream_reports_the_trigger_then_the_fill(stack: Stack) -> None:
    ws_url = start_ws(stack.supervisor, "ws-stops")
    alice = sign_up(stack.url)
    trade_at(stack, "30000.00")

    async def scenario() -> None:
        stream = await Collector.open(f"{ws_url}/ws/{await new_listen_key(stack, alice.user_id)}")
        placed = await asyncio.to_thread(
            alice.call, "POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="STOP_LOSS",
            quantity="0.001", stopPrice="29900.00",
        )  # fmt: skip
        oid = placed["orderId"]
        waiting = await stream.wait_for(lambda m: m.get("e") == "executionReport" and m.get("i") == oid)
        assert (waiting["x"], waiting["o"], waiting["w"], Decimal(waiting["P"])) == (
            "NEW",
            "STOP_LOSS",
            False,
            29900,
        )
        await asyncio.to_thread(bid, stack, "29800.00", "0.001")
        await asyncio.to_thread(trade_at, stack, "29900.00")
        working = await stream.wait_for(lambda m: m.get("i") == oid and m.get("w") is True)
        assert (working["x"], working["X"], working["W"] > 0) == ("NEW", "NEW", True)
        fill = await stream.wait_for(lambda m: m.get("i") == oid and m.get("x") == "TRADE")
        assert (fill["X"], Decimal(fill["L"]), fill["z"]) == ("FILLED", 29800, "0.00100000")
        await stream.conn.close()

    asyncio.run(scenario())


def test_python_binance_trailing_stop_sell_follows_the_rise_then_triggers(
    stack: Stack, new_binance: Callable[[], tuple[Client, Trader]]
) -> None:
    trade_at(stack, "30000.00")
    client, trader = new_binance()
    placed = client.create_order(
        symbol=SYMBOL, side="SELL", type="STOP_LOSS", quantity="0.001", trailingDelta=100
    )
    assert (placed["status"], placed["trailingDelta"], Decimal(placed["stopPrice"])) == ("NEW", 100, 0)
    trade_at(stack, "30300.00")  # the highest price since: a 1% fall from it is 29997
    bid(stack, "29000.00", "0.002")
    trade_at(stack, "29998.00")
    order = client.get_order(symbol=SYMBOL, orderId=placed["orderId"])
    assert (order["status"], order["isWorking"], order["trailingDelta"]) == ("NEW", False, 100)
    trade_at(stack, "29997.00")
    order = client.get_order(symbol=SYMBOL, orderId=placed["orderId"])
    assert (order["status"], Decimal(order["cummulativeQuoteQty"])) == ("FILLED", 29)
    assert trader.balances()["BTC"] == ("0.49900000", "0.00000000")
