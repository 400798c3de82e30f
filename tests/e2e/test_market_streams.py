"""The all-market, rolling-window, average-price, time-zone and 1s kline streams, and the WebSocket
API's market-data methods, against a stack with the ws tier and the DB processor on a database of
its own, so that the trades placed here are the only ones and every value is exact. Real clients:
raw `websockets`, ccxt.pro (watch_tickers, watch_ohlcv 1s) and python-binance's
BinanceSocketManager (ticker socket, multiplex socket).

The trades: on ETHUSDT a taker buys 0.5 at 2000 and 0.3 at 2010, then sells 0.2 at 1990 (the
book is empty afterwards); on BTCUSDT a taker buys 0.01 at 30000.
"""

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ccxt.pro  # type: ignore[import-untyped]
import httpx
import pytest
from binance import AsyncClient, BinanceSocketManager  # type: ignore[import-untyped]

from exchange_core.klines import DAY, HOUR
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import Trader, sign_up
from tests.e2e.wsutil import Collector
from tests.wsapi_client import WsApiClient

ETH, BTC = "ETHUSDT", "BTCUSDT"
ZERO = "0.00000000"
TICKER_FIELDS = list("eEspPwxcQbBaAohlvqOCFLn")
MINI_FIELDS = list("eEscohlvq")
WINDOW_FIELDS = list("eEspPohlcwvqOCFLn")


@dataclass
class Traded:
    stack: Stack
    maker: Trader
    taker: Trader
    eth_trades: list[dict[str, Any]]

    @property
    def ws_api_url(self) -> str:
        return self.stack.url.replace("http://", "ws://") + "/ws-api/v3"


def place(trader: Trader, symbol: str, side: str, price: str, qty: str, tif: str = "GTC") -> None:
    trader.call("POST", "/api/v3/order", symbol=symbol, side=side, type="LIMIT", timeInForce=tif,
                price=price, quantity=qty)  # fmt: skip


def rest(stack: Stack, path: str, **params: Any) -> Any:
    response = httpx.get(f"{stack.url}/api/v3{path}", params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_trades(stack: Stack, symbol: str, n: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        trades: list[dict[str, Any]] = rest(stack, "/trades", symbol=symbol)
        if len(trades) >= n or time.monotonic() > deadline:
            assert len(trades) == n, trades
            return trades
        time.sleep(0.1)


@pytest.fixture(scope="module")
def traded() -> Iterator[Traded]:
    services.ensure_postgres()
    services.ensure_redis()
    dsn = asyncio.run(services.create_test_database())
    prefix = services.new_prefix()
    try:
        # The IP weight limit on (high), so that answers show the methods' weights.
        with running_stack(
            dsn,
            prefix,
            [ETH, BTC],
            with_ws=True,
            with_dbwriter=True,
            RATE_LIMIT_IP_WEIGHT_PER_MINUTE="100000",
        ) as stack:
            maker, taker = sign_up(stack.url), sign_up(stack.url)
            place(maker, ETH, "SELL", "2000", "0.5")
            place(maker, ETH, "SELL", "2010", "0.3")
            place(taker, ETH, "BUY", "2010", "0.8", "IOC")
            place(maker, ETH, "BUY", "1990", "0.2")
            place(taker, ETH, "SELL", "1990", "0.2", "IOC")
            place(maker, BTC, "SELL", "30000", "0.01")
            place(taker, BTC, "BUY", "30000", "0.01", "IOC")
            eth_trades = wait_for_trades(stack, ETH, 3)
            wait_for_trades(stack, BTC, 1)
            yield Traded(stack, maker, taker, eth_trades)
    finally:
        asyncio.run(services.delete_prefix(prefix))
        asyncio.run(services.drop_test_database(dsn))


def eth_stats(traded: Traded) -> dict[str, Any]:
    """The rolling fields every ETHUSDT ticker payload has (but event and statistics times)."""
    trades = traded.eth_trades
    return {
        "s": ETH, "p": "-10.00000000", "P": "-0.500", "w": "2001.00000000", "c": "1990.00000000",
        "o": "2000.00000000", "h": "2010.00000000", "l": "1990.00000000", "v": "1.00000000",
        "q": "2001.00000000", "F": trades[0]["id"], "L": trades[-1]["id"], "n": 3,
    }  # fmt: skip


def without(payload: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in names}


def test_stream_payloads_field_for_field(traded: Traded) -> None:
    ws_url = traded.stack.ws_url
    names = ["!ticker@arr", "!miniTicker@arr", "ethusdt@ticker_1h", "!ticker_4h@arr", "ethusdt@avgPrice",
             "ethusdt@kline_1d@+08:00", "ethusdt@kline_1s"]  # fmt: skip
    stats = eth_stats(traded)

    async def scenario() -> None:
        client = await Collector.open(f"{ws_url}/stream?streams={'/'.join(names)}")
        try:
            got = {}
            for name in names:
                message = await client.wait_for(lambda m, name=name: m["stream"] == name, timeout=15)
                got[name] = message["data"]
            tickers = {t["s"]: t for t in got["!ticker@arr"]}
            assert set(tickers) == {ETH, BTC}
            eth = tickers[ETH]
            assert list(eth) == TICKER_FIELDS
            assert without(eth, "E", "O", "C") == {
                **stats, "e": "24hrTicker", "x": ZERO, "Q": "0.20000000",
                "b": ZERO, "B": ZERO, "a": ZERO, "A": ZERO,
            }  # fmt: skip
            assert eth["C"] - eth["O"] <= DAY and eth["O"] <= traded.eth_trades[0]["time"]
            minis = {t["s"]: t for t in got["!miniTicker@arr"]}
            assert list(minis[ETH]) == MINI_FIELDS
            assert without(minis[ETH], "E") == {
                "e": "24hrMiniTicker",
                **{k: stats[k] for k in ("s", "c", "o", "h", "l", "v", "q")},
            }
            assert minis[BTC]["c"] == "30000.00000000" and minis[BTC]["v"] == "0.01000000"
            hour = got["ethusdt@ticker_1h"]
            assert list(hour) == WINDOW_FIELDS
            assert without(hour, "E", "O", "C") == {**without(stats, "x"), "e": "1hTicker"}
            windows = {t["s"]: t for t in got["!ticker_4h@arr"]}
            assert without(windows[ETH], "E", "O", "C") == {**stats, "e": "4hTicker"}
            assert got["ethusdt@avgPrice"] == {
                "e": "avgPrice", "E": got["ethusdt@avgPrice"]["E"], "s": ETH, "i": "5m", "w": "2001.00000000",
                "T": traded.eth_trades[-1]["time"],
            }  # fmt: skip
            day = got["ethusdt@kline_1d@+08:00"]
            assert (day["e"], day["s"], day["k"]["i"], day["k"]["s"]) == ("kline", ETH, "1d", ETH)
            k = day["k"]
            now = day["E"]
            assert k["t"] == now - (now + 8 * HOUR) % DAY and k["T"] == k["t"] + DAY - 1
            assert (k["o"], k["h"], k["l"], k["c"], k["n"]) == (
                "2000.00000000", "2010.00000000", "1990.00000000", "1990.00000000", 3
            )  # fmt: skip
            assert (k["v"], k["q"], k["V"], k["Q"]) == (
                "1.00000000",
                "2001.00000000",
                "0.80000000",
                "1603.00000000",
            )
            second = got["ethusdt@kline_1s"]["k"]
            assert (second["i"], second["T"] - second["t"], second["c"]) == ("1s", 999, "1990.00000000")
        finally:
            await client.close()

    asyncio.run(scenario())


def test_all_market_arrays_carry_only_changed_markets(traded: Traded) -> None:
    """After the first array, nothing changes: no array; then a BTCUSDT trade: an array of BTCUSDT
    alone. Subscribed with the live protocol (SUBSCRIBE, LIST_SUBSCRIPTIONS, UNSUBSCRIBE)."""

    async def scenario() -> None:
        client = await Collector.open(f"{traded.stack.ws_url}/ws")
        try:
            assert await client.request("SUBSCRIBE", ["!miniTicker@arr", "btcusdt@ticker_1d"], 1) == {
                "result": None,
                "id": 1,
            }
            listed = await client.request("LIST_SUBSCRIPTIONS", None, "ab-12")
            assert listed == {"result": ["!miniTicker@arr", "btcusdt@ticker_1d"], "id": "ab-12"}
            first = await client.wait_for(lambda m: isinstance(m, list), timeout=15)
            assert {t["s"] for t in first} == {ETH, BTC}
            await client.request("UNSUBSCRIBE", ["btcusdt@ticker_1d"], 2)
            await asyncio.sleep(2.5)  # two ticker periods with no trade: no array
            assert len([m for m in client.messages if isinstance(m, list)]) == 1
            await asyncio.to_thread(place, traded.maker, BTC, "SELL", "30100", "0.02")
            await asyncio.to_thread(place, traded.taker, BTC, "BUY", "30100", "0.02", "IOC")
            second = await client.wait_for(lambda m: isinstance(m, list) and m is not first, timeout=15)
            assert [(t["s"], t["c"], t["v"]) for t in second] == [(BTC, "30100.00000000", "0.03000000")]
        finally:
            await client.close()

    asyncio.run(scenario())


def test_ccxt_pro_watch_tickers_and_1s_ohlcv(traded: Traded) -> None:
    stack = traded.stack

    async def scenario() -> None:
        exchange = ccxt.pro.binance(
            {
                "options": {
                    "fetchMarkets": {"types": ["spot"]},
                    "fetchMargins": False,
                    "fetchCurrencies": False,
                }
            }
        )
        exchange.urls["api"] = {
            "public": f"{stack.url}/api/v3",
            "private": f"{stack.url}/api/v3",
            "ws": {"spot": f"{stack.ws_url}/ws", "margin": f"{stack.ws_url}/ws"},
        }
        try:
            await exchange.load_markets()
            minis = await asyncio.wait_for(exchange.watch_tickers(), 15)  # !miniTicker@arr
            fulls = await asyncio.wait_for(exchange.watch_tickers(params={"name": "ticker"}), 15)
            hours = await asyncio.wait_for(exchange.watch_tickers(params={"name": "ticker_1h"}), 15)
            for tickers in (minis, fulls, hours):
                eth = tickers["ETH/USDT"]
                assert (eth["open"], eth["high"], eth["low"], eth["last"]) == (2000.0, 2010.0, 1990.0, 1990.0)
                assert (eth["baseVolume"], eth["quoteVolume"]) == (1.0, 2001.0)
            assert fulls["ETH/USDT"]["vwap"] == 2001.0 and fulls["ETH/USDT"]["percentage"] == -0.5
            candles = await asyncio.wait_for(exchange.watch_ohlcv("ETH/USDT", "1s"), 15)
            t, o, h, low, c, _ = candles[-1]
            assert t % 1000 == 0 and (o, h, low, c) == (1990.0, 1990.0, 1990.0, 1990.0)
        finally:
            await exchange.close()

    asyncio.run(scenario())


def test_python_binance_ticker_and_multiplex_sockets(traded: Traded) -> None:
    async def scenario() -> None:
        client = AsyncClient("", "")
        manager = BinanceSocketManager(client)
        manager.STREAM_URL = f"{traded.stack.ws_url}/"
        try:
            async with manager.ticker_socket() as socket:
                tickers = await asyncio.wait_for(socket.recv(), 15)
            eth = next(t for t in tickers if t["s"] == ETH)
            assert without(eth, "E", "O", "C", "x", "Q", "b", "B", "a", "A") == {
                **eth_stats(traded),
                "e": "24hrTicker",
            }
            async with manager.multiplex_socket(["ethusdt@ticker_4h", "ethusdt@avgPrice"]) as socket:
                seen: dict[str, Any] = {}
                while len(seen) < 2:
                    message = await asyncio.wait_for(socket.recv(), 15)
                    seen[message["stream"]] = message["data"]
            assert seen["ethusdt@ticker_4h"]["e"] == "4hTicker" and seen["ethusdt@ticker_4h"]["n"] == 3
            assert seen["ethusdt@avgPrice"]["w"] == "2001.00000000"
        finally:
            await client.close_connection()

    asyncio.run(scenario())


def test_ws_api_market_methods_answer_as_rest(traded: Traded) -> None:
    """Each market-data method answers what its REST endpoint answers (times aside), weighs what
    Binance says, and gives REST's errors."""
    stack = traded.stack
    first_id = traded.eth_trades[0]["id"]
    times = ("openTime", "closeTime")
    cases: list[tuple[str, dict[str, Any], str, tuple[str, ...]]] = [
        ("ticker.24hr", {"symbol": ETH}, "/ticker/24hr", times),
        ("ticker.24hr", {"symbols": [ETH, BTC], "type": "MINI"}, "/ticker/24hr", times),
        ("ticker", {"symbol": ETH, "windowSize": "2h"}, "/ticker", times),
        ("ticker.tradingDay", {"symbols": [ETH], "timeZone": "8"}, "/ticker/tradingDay", times),
        ("ticker.price", {}, "/ticker/price", ()),
        ("ticker.book", {"symbol": ETH}, "/ticker/bookTicker", ()),
        ("avgPrice", {"symbol": ETH}, "/avgPrice", ("closeTime",)),
        ("trades.historical", {"symbol": ETH, "fromId": first_id + 1}, "/historicalTrades", ()),
        ("trades.aggregate", {"symbol": ETH, "limit": 2}, "/aggTrades", ()),
        ("trades.recent", {"symbol": ETH}, "/trades", ()),
        ("depth", {"symbol": BTC}, "/depth", ()),
        ("klines", {"symbol": ETH, "interval": "1h", "timeZone": "8"}, "/klines", ()),
        ("uiKlines", {"symbol": ETH, "interval": "1m"}, "/uiKlines", ()),
        ("klines", {"symbol": ETH, "interval": "1s"}, "/klines", ()),
    ]

    def rest_params(params: dict[str, Any]) -> dict[str, Any]:
        return {
            k: json.dumps(v, separators=(",", ":")) if isinstance(v, list) else v for k, v in params.items()
        }

    def strip(body: Any, names: tuple[str, ...]) -> Any:
        if isinstance(body, list):
            return [strip(item, names) for item in body]
        return without(body, *names) if isinstance(body, dict) else body

    async def scenario() -> None:
        client = await WsApiClient.open(traded.ws_api_url)
        try:
            for method, params, path, ignored in cases:
                answer = await client.call(method, params)
                assert answer["status"] == 200, (method, answer)
                expected = await asyncio.to_thread(rest, stack, path, **rest_params(params))
                assert strip(answer["result"], ignored) == strip(expected, ignored), method
                assert answer["result"], method
            assert (await client.call("avgPrice", {"symbol": ETH}))["result"]["price"] == "2001.00000000"
            (candle,) = (await client.call("klines", {"symbol": ETH, "interval": "1d"}))["result"]
            assert candle[9:] == ["0.80000000", "1603.00000000", "0"]  # taker-buy base and quote volumes
            seconds = (await client.call("klines", {"symbol": ETH, "interval": "1s"}))["result"]
            assert sum(c[8] for c in seconds) == 3 and all(c[6] - c[0] == 999 for c in seconds)
            hist = (await client.call("trades.historical", {"symbol": ETH, "fromId": first_id + 1}))["result"]
            assert [t["id"] for t in hist] == [first_id + 1, first_id + 2]
            for method, weight in (("ticker.24hr", 80), ("depth", 5), ("trades.aggregate", 4), ("ticker", 4)):
                params = {"symbol": BTC} if method != "ticker.24hr" else {}
                for _ in range(3):  # again when a minute window began between the two calls
                    before = weight_used(await client.call("ping"))
                    after = weight_used(await client.call(method, params))
                    if after > before:
                        break
                assert after - before == weight, method
            missing = await client.call("ticker", {})
            assert (missing["status"], missing["error"]["code"]) == (400, -1102)
            unknown = await client.call("ticker.price", {"symbol": "NOPE"})
            assert (unknown["status"], unknown["error"]["code"]) == (400, -1121)
            bad_window = await client.call("ticker", {"symbol": ETH, "windowSize": "8d"})
            assert bad_window["error"]["code"] == -1130
        finally:
            await client.close()

    asyncio.run(scenario())


def weight_used(answer: dict[str, Any]) -> int:
    (limit,) = [r for r in answer["rateLimits"] if r["rateLimitType"] == "REQUEST_WEIGHT"]
    count: int = limit["count"]
    return count
