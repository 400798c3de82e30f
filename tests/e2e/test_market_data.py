"""REST market data and history with the DB processor running: trades on the WebSocket stream,
in the database (REST) and in myTrades are the same trades; candles, tickers, depth agree."""

import asyncio
import json
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest
import websockets

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import Trader, sign_up

SYMBOL = "ETHUSDT"


@pytest.fixture(scope="module")
def history_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL], with_ws=True, with_dbwriter=True) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def place(trader: Trader, side: str, price: str, qty: str, tif: str = "GTC") -> dict[str, object]:
    params = {
        "symbol": SYMBOL,
        "side": side,
        "type": "LIMIT",
        "timeInForce": tif,
        "price": price,
        "quantity": qty,
    }
    return dict(trader.call("POST", "/api/v3/order", **params))


def wait_for(check: object, seconds: float = 15.0) -> object:
    deadline = time.monotonic() + seconds
    while True:
        value = check()  # type: ignore[operator]
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_trades_agree_across_stream_database_and_my_trades(history_stack: Stack) -> None:
    stack = history_stack
    maker, taker = sign_up(stack.url), sign_up(stack.url)
    streamed: list[dict[str, object]] = []

    async def listen(ready: asyncio.Event, done: asyncio.Event) -> None:
        async with websockets.connect(f"{stack.ws_url}/ws/{SYMBOL.lower()}@trade") as ws:
            ready.set()
            while not done.is_set():
                try:
                    streamed.append(json.loads(await asyncio.wait_for(ws.recv(), 0.5)))
                except TimeoutError:
                    continue

    async def scenario() -> None:
        ready, done = asyncio.Event(), asyncio.Event()
        listener = asyncio.create_task(listen(ready, done))
        await ready.wait()
        await asyncio.sleep(0.3)
        for price in ("2000", "2001", "2002"):
            await asyncio.to_thread(place, maker, "SELL", price, "0.5")
        await asyncio.to_thread(place, taker, "BUY", "2002", "1.2", "IOC")
        await asyncio.sleep(1.5)
        done.set()
        await listener

    asyncio.run(scenario())
    mine = taker.call("GET", "/api/v3/myTrades", symbol=SYMBOL)
    rest = wait_for(lambda: [t for t in stack_get(stack, "/trades") if t["id"] in {m["id"] for m in mine}])
    assert [(t["t"], t["p"], t["q"]) for t in streamed] == [(m["id"], m["price"], m["qty"]) for m in mine]
    assert [(t["id"], t["price"], t["qty"]) for t in rest] == [(m["id"], m["price"], m["qty"]) for m in mine]  # type: ignore[union-attr]
    assert [m["price"] for m in mine] == ["2000.00000000", "2001.00000000", "2002.00000000"]
    assert sum(Decimal(m["qty"]) for m in mine) == Decimal("1.2")


def stack_get(stack: Stack, path: str, **params: object) -> object:
    import httpx

    response = httpx.get(f"{stack.url}/api/v3{path}", params={"symbol": SYMBOL, **params}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_depth_tickers_and_candles(history_stack: Stack) -> None:
    stack = history_stack
    maker, taker = sign_up(stack.url), sign_up(stack.url)
    place(maker, "BUY", "1500", "0.3")
    place(maker, "SELL", "2500", "0.4")
    place(maker, "SELL", "1900", "0.1")
    place(taker, "BUY", "1900", "0.1", "IOC")
    depth = stack_get(stack, "/depth", limit=5)
    assert ["1500.00000000", "0.30000000"] in depth["bids"]  # type: ignore[index]
    assert depth["lastUpdateId"] > 0  # type: ignore[index]
    book = stack_get(stack, "/ticker/bookTicker")
    assert (book["bidPrice"], book["askPrice"]) == (depth["bids"][0][0], depth["asks"][0][0])  # type: ignore[index]
    price = wait_for(lambda: stack_get(stack, "/ticker/price")["price"] == "1900.00000000")  # type: ignore[index]
    assert price
    ticker = stack_get(stack, "/ticker/24hr")
    assert ticker["lastPrice"] == "1900.00000000" and int(ticker["count"]) >= 1  # type: ignore[index]
    assert Decimal(ticker["lowPrice"]) <= Decimal("1900") <= Decimal(ticker["highPrice"])  # type: ignore[index]
    candles = stack_get(stack, "/klines", interval="1m", limit=5)
    assert candles and candles[-1][4] == "1900.00000000"  # type: ignore[index]
    hourly = stack_get(stack, "/klines", interval="1h", limit=1)
    assert hourly and Decimal(hourly[-1][5]) >= Decimal("0.1")  # type: ignore[index]
    avg = stack_get(stack, "/avgPrice")
    assert avg["mins"] == 5 and Decimal(avg["price"]) > 0  # type: ignore[index]
    aggregated = stack_get(stack, "/aggTrades", limit=1000)
    assert aggregated and aggregated[-1]["p"] == "1900.00000000"  # type: ignore[index]
    maker.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)


def test_market_data_errors_are_binance_shaped(history_stack: Stack) -> None:
    import httpx

    bad = httpx.get(f"{history_stack.url}/api/v3/klines", params={"symbol": SYMBOL, "interval": "7m"})
    assert bad.json()["code"] == -1120
    unknown = httpx.get(f"{history_stack.url}/api/v3/depth", params={"symbol": "NOPE"})
    assert unknown.json() == {"code": -1121, "msg": "Invalid symbol."}
