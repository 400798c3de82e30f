"""The WebSocket tier next to the whole order path (engines, settlement, gateway): user data
streams on a listen key, and ccxt.pro's binance client (watch_trades, watch_ohlcv,
watch_order_book) pointed at this exchange.

Each test signs up users of its own and leaves no order resting (the module shares one book per
market). watch_order_book also reads REST /api/v3/depth: it is skipped while the gateway does not
serve it.
"""

import asyncio
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ccxt.pro  # type: ignore[import-untyped]
import httpx
import pytest
from redis.asyncio import Redis

from exchange_core import listenkeys, store
from exchange_core.keys import Keys
from launcher.stack import Stack
from tests.client import Trader, sign_up
from tests.e2e.wsutil import Collector, start_ws

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def stack_ws(stack: Stack) -> tuple[Stack, str]:
    """The module's stack (tests/e2e/conftest.py) with a ws tier."""
    return stack, start_ws(stack.supervisor, "ws-tier", LISTEN_KEY_CHECK_S="0.5")


def stack_redis(stack: Stack) -> Redis:
    """A client of the Redis (or Redis Cluster) the stack runs on."""
    return store.connect(stack.supervisor.base_env["REDIS_URL"])


def order(trader: Trader, side: str, price: str, qty: str, tif: str = "GTC") -> dict[str, Any]:
    body: dict[str, Any] = trader.call("POST", "/api/v3/order", symbol=SYMBOL, side=side, type="LIMIT",
                                       timeInForce=tif, price=price, quantity=qty)  # fmt: skip
    return body


async def new_listen_key(stack: Stack, user_id: int) -> str:
    redis = stack_redis(stack)
    try:
        return await listenkeys.create(redis, Keys(stack.prefix), user_id)
    finally:
        await redis.aclose()


def test_user_data_stream_forwards_settlement_payloads(stack_ws: tuple[Stack, str]) -> None:
    stack, ws_url = stack_ws
    alice = sign_up(stack.url)

    async def scenario() -> None:
        key = await new_listen_key(stack, alice.user_id)
        raw = await Collector.open(f"{ws_url}/ws/{key}")
        combined = await Collector.open(f"{ws_url}/stream")
        assert await combined.request("SUBSCRIBE", [key], 1) == {"result": None, "id": 1}
        placed = await asyncio.to_thread(order, alice, "BUY", "20000", "0.001")
        report = await raw.wait_for(
            lambda m: m.get("e") == "executionReport" and m.get("i") == placed["orderId"]
        )
        assert report["s"] == SYMBOL
        # The funds the order locked, as Binance reports them when an order is placed.
        position = await raw.wait_for(lambda m: m.get("e") == "outboundAccountPosition")
        usdt = {b["a"]: b for b in position["B"]}["USDT"]
        free, locked = (await asyncio.to_thread(alice.balances))["USDT"]
        assert (usdt["f"], usdt["l"]) == (free, locked) and Decimal(locked) == Decimal("20")
        wrapped = await combined.wait_for(lambda m: m.get("data", {}).get("e") == "executionReport")
        assert wrapped["stream"] == key
        assert all(isinstance(m, dict) and "e" in m for m in raw.messages)
        await asyncio.to_thread(
            alice.call, "DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"]
        )
        await raw.wait_for(lambda m: m.get("e") == "executionReport" and m.get("X") == "CANCELED")
        redis = stack_redis(stack)
        assert await listenkeys.keepalive(redis, Keys(stack.prefix), key)
        assert await listenkeys.close(redis, Keys(stack.prefix), key)
        await redis.aclose()
        expired = await raw.wait_for(lambda m: m.get("e") == "listenKeyExpired", timeout=10)
        assert expired["listenKey"] == key
        await raw.task
        assert raw.closed is not None
        await combined.wait_for(lambda m: m.get("data", {}).get("e") == "listenKeyExpired", timeout=10)
        await combined.task

    asyncio.run(scenario())


def pro_exchange(stack: Stack, ws_url: str, trader: Trader) -> Any:
    """ccxt.pro binance with every spot URL on this exchange (see test_clients.ccxt_exchange for
    the options): REST under /api/v3, streams under ws_url/ws (ccxt appends /<n> or /<listenKey>)."""
    exchange = ccxt.pro.binance(
        {
            "apiKey": trader.api_key,
            "secret": trader.secret,
            "options": {"fetchMarkets": {"types": ["spot"]}, "fetchMargins": False, "fetchCurrencies": False},
        }
    )
    exchange.urls["api"] = {
        "public": f"{stack.url}/api/v3",
        "private": f"{stack.url}/api/v3",
        "ws": {"spot": f"{ws_url}/ws", "margin": f"{ws_url}/ws"},
    }
    return exchange


async def cross(seller: Trader, buyer: Trader, price: str, qty: str) -> int:
    """One trade at `price`: a resting sell taken by an IOC buy; returns the trade id."""
    await asyncio.to_thread(order, seller, "SELL", price, qty)
    taken = await asyncio.to_thread(order, buyer, "BUY", price, qty, "IOC")
    assert taken["status"] == "FILLED", taken
    trade_id: int = taken["fills"][0]["tradeId"]
    return trade_id


def test_ccxt_pro_watch_trades_and_ohlcv(stack_ws: tuple[Stack, str]) -> None:
    stack, ws_url = stack_ws
    seller, buyer = sign_up(stack.url), sign_up(stack.url)

    async def scenario() -> None:
        exchange = pro_exchange(stack, ws_url, buyer)
        try:
            await exchange.load_markets()
            watching = asyncio.create_task(exchange.watch_trades("BTC/USDT"))
            await asyncio.sleep(1.0)
            trade_id = await cross(seller, buyer, "31000", "0.002")
            trades = await asyncio.wait_for(watching, 15)
            mine = [t for t in trades if t["id"] == str(trade_id)]
            assert mine, trades
            assert (mine[0]["price"], mine[0]["amount"], mine[0]["symbol"]) == (31000.0, 0.002, "BTC/USDT")
            assert mine[0]["side"] == "buy"  # the taker bought
            candles = await asyncio.wait_for(exchange.watch_ohlcv("BTC/USDT", "1m"), 15)
            t, _, h, low, c, v = candles[-1]
            assert t % 60_000 == 0
            assert c == 31000.0 and h >= c >= low and v >= 0.002
            await cross(seller, buyer, "31001", "0.001")
            for _ in range(20):
                candles = await asyncio.wait_for(exchange.watch_ohlcv("BTC/USDT", "1m"), 15)
                if candles[-1][4] == 31001.0:
                    break
            assert candles[-1][4] == 31001.0 and candles[-1][2] >= 31001.0
        finally:
            await exchange.close()

    asyncio.run(scenario())


class BookWatch:
    """ccxt.pro's order book of one symbol, awaited until a condition holds. watch_order_book
    returns on the next update only: an update applied before a call (a diff can arrive before
    the REST answer of the order that caused it) would leave the call waiting for one that never
    comes. So one call is kept pending and the book ccxt keeps (`exchange.orderbooks`) is looked
    at whenever it resolves, and every 0.2 s."""

    def __init__(self, exchange: Any, symbol: str) -> None:
        self.exchange = exchange
        self.symbol = symbol
        self.pending: asyncio.Future[Any] | None = None

    async def until(self, holds: Callable[[Any], bool], timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            if self.pending is None or self.pending.done():
                if self.pending is not None:
                    self.pending.result()  # a watch that failed fails the test
                self.pending = asyncio.ensure_future(self.exchange.watch_order_book(self.symbol))
            book = self.exchange.orderbooks.get(self.symbol)
            if book is not None and book["nonce"] is not None and holds(book):
                return book
            assert time.monotonic() < deadline, f"the order book never met the condition: {book}"
            await asyncio.wait({self.pending}, timeout=0.2)

    async def close(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            await asyncio.gather(self.pending, return_exceptions=True)
        await self.exchange.close()


def test_ccxt_pro_watch_order_book(stack_ws: tuple[Stack, str]) -> None:
    stack, ws_url = stack_ws
    maker = sign_up(stack.url)

    async def scenario() -> None:
        exchange = pro_exchange(stack, ws_url, maker)
        watch = BookWatch(exchange, "BTC/USDT")
        placed: list[int] = []
        try:
            await exchange.load_markets()
            placed.append((await asyncio.to_thread(order, maker, "BUY", "25000", "0.003"))["orderId"])
            await watch.until(lambda book: [25000.0, 0.003] in book["bids"])
            placed.append((await asyncio.to_thread(order, maker, "SELL", "45000", "0.004"))["orderId"])
            placed.append((await asyncio.to_thread(order, maker, "BUY", "25000.5", "0.005"))["orderId"])
            await watch.until(lambda b: [25000.5, 0.005] in b["bids"] and [45000.0, 0.004] in b["asks"])
            rest = httpx.get(f"{stack.url}/api/v3/depth", params={"symbol": SYMBOL, "limit": 1000}).json()
            book = await watch.until(lambda book: book["nonce"] >= rest["lastUpdateId"])
            assert [[float(p), float(q)] for p, q in rest["bids"]] == [list(lv) for lv in book["bids"]]
            assert [[float(p), float(q)] for p, q in rest["asks"]] == [list(lv) for lv in book["asks"]]
        finally:
            for oid in placed:
                await asyncio.to_thread(maker.call, "DELETE", "/api/v3/order", symbol=SYMBOL, orderId=oid)
            await watch.close()

    asyncio.run(scenario())
