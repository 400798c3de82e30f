"""Binance's further market-data and account endpoints against a running stack with the DB processor
and a database of its own, so that the trades placed here are the only ones and every value is
exact: the rolling-window ticker, ticker/tradingDay, MINI tickers, klines and uiKlines in a time
zone, account/commission and rateLimit/order; through ccxt and python-binance where they have the
call, else through the signed test client.

The trades (ETHUSDT): a taker buys 0.5 at 2000 and 0.3 at 2010, then sells 0.2 at 1990.
"""

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from exchange_core.klines import DAY, HOUR, MINUTE, time_zone_offset
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.test_clients import binance_client, ccxt_exchange

SYMBOL = "ETHUSDT"
MINI_FIELDS = [
    "symbol", "openPrice", "highPrice", "lowPrice", "lastPrice", "volume", "quoteVolume",
    "openTime", "closeTime", "firstId", "lastId", "count",
]  # fmt: skip
ZERO = "0.00000000"
FULL_FIELDS = [*MINI_FIELDS[:1], "priceChange", "priceChangePercent", "weightedAvgPrice", *MINI_FIELDS[1:]]


@pytest.fixture(scope="module")
def traded() -> Iterator[tuple[Stack, list[dict[str, Any]]]]:
    """The stack on a fresh database, after the three trades; and those trades from /trades."""
    services.ensure_postgres()
    services.ensure_redis()
    dsn = asyncio.run(services.create_test_database())
    prefix = services.new_prefix()
    try:
        limits = {"RATE_LIMIT_ORDERS_PER_10S": "50", "RATE_LIMIT_ORDERS_PER_DAY": "1000"}
        with running_stack(dsn, prefix, [SYMBOL, "BTCUSDT"], with_dbwriter=True, **limits) as stack:
            maker, taker = sign_up(stack.url), sign_up(stack.url)
            place(maker, "SELL", "2000", "0.5")
            place(maker, "SELL", "2010", "0.3")
            place(taker, "BUY", "2010", "0.8", "IOC")
            place(maker, "BUY", "1990", "0.2")
            place(taker, "SELL", "1990", "0.2", "IOC")
            trades = wait_for_trades(stack, 3)
            yield stack, trades
    finally:
        asyncio.run(services.delete_prefix(prefix))
        asyncio.run(services.drop_test_database(dsn))


def place(trader: Trader, side: str, price: str, qty: str, tif: str = "GTC") -> None:
    trader.call("POST", "/api/v3/order", symbol=SYMBOL, side=side, type="LIMIT", timeInForce=tif,
                price=price, quantity=qty)  # fmt: skip


def get(stack: Stack, path: str, **params: Any) -> httpx.Response:
    return httpx.get(f"{stack.url}/api/v3{path}", params=params, timeout=10)


def ok(stack: Stack, path: str, **params: Any) -> Any:
    response = get(stack, path, **params)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_trades(stack: Stack, n: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        trades: list[dict[str, Any]] = ok(stack, "/trades", symbol=SYMBOL)
        if len(trades) >= n or time.monotonic() > deadline:
            assert [(t["price"], t["qty"]) for t in trades] == [
                ("2000.00000000", "0.50000000"),
                ("2010.00000000", "0.30000000"),
                ("1990.00000000", "0.20000000"),
            ]
            return trades
        time.sleep(0.2)


def expected_stats(trades: list[dict[str, Any]]) -> dict[str, Any]:
    """The rolling fields (but times) of exactly the three trades."""
    return {
        "symbol": SYMBOL,
        "priceChange": "-10.00000000",
        "priceChangePercent": "-0.500",
        "weightedAvgPrice": "2001.00000000",  # (1000 + 603 + 398) / 1.0
        "openPrice": "2000.00000000",
        "highPrice": "2010.00000000",
        "lowPrice": "1990.00000000",
        "lastPrice": "1990.00000000",
        "volume": "1.00000000",
        "quoteVolume": "2001.00000000",
        "firstId": trades[0]["id"],
        "lastId": trades[-1]["id"],
        "count": 3,
    }


def without_times(ticker: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in ticker.items() if k not in ("openTime", "closeTime")}


def test_rolling_window_ticker(traded: tuple[Stack, list[dict[str, Any]]]) -> None:
    stack, trades = traded
    before = time.time_ns() // 1_000_000
    ticker = ok(stack, "/ticker", symbol=SYMBOL, windowSize="59m")
    after = time.time_ns() // 1_000_000
    assert list(ticker) == FULL_FIELDS
    assert without_times(ticker) == expected_stats(trades)
    assert before <= ticker["closeTime"] <= after  # the request's time
    assert ticker["openTime"] % MINUTE == 0  # a minute's start, up to 59,999 ms before closeTime - 59m
    assert 59 * MINUTE <= ticker["closeTime"] - ticker["openTime"] < 60 * MINUTE
    mini = ok(stack, "/ticker", symbols='["ETHUSDT","BTCUSDT"]', windowSize="2h", type="MINI")
    assert [list(t) for t in mini] == [MINI_FIELDS, MINI_FIELDS]
    assert without_times(mini[0]) == {k: v for k, v in expected_stats(trades).items() if k in MINI_FIELDS}
    assert without_times(mini[1]) == {
        "symbol": "BTCUSDT", "openPrice": ZERO, "highPrice": ZERO, "lowPrice": ZERO, "lastPrice": ZERO,
        "volume": ZERO, "quoteVolume": ZERO, "firstId": -1, "lastId": -1, "count": 0,
    }  # fmt: skip
    assert mini[0]["closeTime"] - mini[0]["openTime"] >= 2 * HOUR


def test_rolling_window_ticker_refuses_what_binance_refuses(
    traded: tuple[Stack, list[dict[str, Any]]],
) -> None:
    stack, _ = traded
    for window in ("60m", "24h", "8d", "0m", "1w", "1s", "x"):
        assert get(stack, "/ticker", symbol=SYMBOL, windowSize=window).json()["code"] == -1130, window
    assert get(stack, "/ticker", symbol=SYMBOL, type="SMALL").json()["code"] == -1130
    assert get(stack, "/ticker").json()["code"] == -1102  # symbol or symbols is required
    many = "[" + ",".join(['"ETHUSDT"'] * 101) + "]"
    assert get(stack, "/ticker", symbols=many).json()["code"] == -1101
    assert get(stack, "/ticker", symbol="NOPE").json() == {"code": -1121, "msg": "Invalid symbol."}


def test_24hr_ticker_full_and_mini(traded: tuple[Stack, list[dict[str, Any]]]) -> None:
    stack, trades = traded
    full = ok(stack, "/ticker/24hr", symbol=SYMBOL)
    assert full["prevClosePrice"] == "0.00000000" and full["lastQty"] == "0.20000000"
    assert {k: full[k] for k in expected_stats(trades)} == expected_stats(trades)
    assert full["closeTime"] - full["openTime"] == DAY
    mini = ok(stack, "/ticker/24hr", symbol=SYMBOL, type="MINI")
    assert list(mini) == MINI_FIELDS
    assert without_times(mini) == {k: v for k, v in expected_stats(trades).items() if k in MINI_FIELDS}
    assert get(stack, "/ticker/24hr", symbol=SYMBOL, type="mini").json()["code"] == -1130


def zone_in_mid_day() -> tuple[str, int]:
    """A time zone where it is now between 01:00 and 23:00, so that the trades placed minutes ago
    fall into today's trading day and today's 1d candle there."""
    for zone in ("0", "8", "-9:30", "05:45"):
        offset = time_zone_offset(zone)
        if HOUR <= (time.time_ns() // 1_000_000 + offset) % DAY <= 23 * HOUR:
            return zone, offset
    raise AssertionError("no zone in mid-day")


def test_trading_day_ticker(traded: tuple[Stack, list[dict[str, Any]]]) -> None:
    stack, trades = traded
    zone, offset = zone_in_mid_day()
    now = time.time_ns() // 1_000_000
    day_start = (now + offset) // DAY * DAY - offset
    ticker = ok(stack, "/ticker/tradingDay", symbol=SYMBOL, timeZone=zone)
    assert ticker == {**expected_stats(trades), "openTime": day_start, "closeTime": day_start + DAY - 1}
    assert list(ticker) == FULL_FIELDS
    both = ok(stack, "/ticker/tradingDay", symbols='["ETHUSDT"]', timeZone=zone, type="MINI")
    assert [list(t) for t in both] == [MINI_FIELDS]
    assert both[0]["openTime"] == day_start and both[0]["count"] == 3
    for bad in ("15", "-13", "14:30", "x"):
        assert get(stack, "/ticker/tradingDay", symbol=SYMBOL, timeZone=bad).json()["code"] == -1130, bad


def test_klines_and_ui_klines_in_a_time_zone(traded: tuple[Stack, list[dict[str, Any]]]) -> None:
    stack, _ = traded
    zone, offset = zone_in_mid_day()
    now = time.time_ns() // 1_000_000
    day_start = (now + offset) // DAY * DAY - offset
    candle = [
        day_start, "2000.00000000", "2010.00000000", "1990.00000000", "1990.00000000", "1.00000000",
        day_start + DAY - 1, "2001.00000000", 3, "0.80000000", "1603.00000000", "0",
    ]  # fmt: skip  # the taker bought 0.5 at 2000 and 0.3 at 2010
    assert ok(stack, "/klines", symbol=SYMBOL, interval="1d", timeZone=zone) == [candle]
    client = binance_client(stack.url, "", "")
    assert client.get_ui_klines(symbol=SYMBOL, interval="1d", timeZone=zone) == [candle]
    assert client.get_klines(symbol=SYMBOL, interval="1d", timeZone=zone) == [candle]
    # a zone whose midnight is elsewhere moves the candle; the trades stay in one candle
    other = ok(stack, "/klines", symbol=SYMBOL, interval="1d", timeZone="05:45")
    assert len(other) == 1 and other[0][0] % DAY == DAY - (5 * HOUR + 45 * MINUTE)
    assert get(stack, "/uiKlines", symbol=SYMBOL, interval="1d", timeZone="+15:00").json()["code"] == -1130


def test_real_clients_read_the_tickers(traded: tuple[Stack, list[dict[str, Any]]]) -> None:
    stack, trades = traded
    client = binance_client(stack.url, "", "")
    rolling = client.get_symbol_ticker_window(symbol=SYMBOL, windowSize="1h")
    assert without_times(rolling) == expected_stats(trades)
    assert client.get_ticker(symbol=SYMBOL, type="MINI")["quoteVolume"] == "2001.00000000"
    trader = sign_up(stack.url)
    exchange = ccxt_exchange(stack.url, trader.api_key, trader.secret)
    try:
        ticker = exchange.fetch_ticker("ETH/USDT", {"rolling": True, "windowSize": "1h"})
        assert (ticker["open"], ticker["high"], ticker["low"], ticker["last"]) == (
            2000.0,
            2010.0,
            1990.0,
            1990.0,
        )
        assert (ticker["baseVolume"], ticker["quoteVolume"], ticker["vwap"]) == (1.0, 2001.0, 2001.0)
        assert (ticker["change"], ticker["percentage"]) == (-10.0, -0.5)
        zone, _ = zone_in_mid_day()
        day = exchange.public_get_ticker_tradingday({"symbol": SYMBOL, "timeZone": zone})
        assert (day["count"], day["quoteVolume"]) == (3, "2001.00000000")
    finally:
        exchange.close()


def test_account_commission(traded: tuple[Stack, list[dict[str, Any]]]) -> None:
    stack, _ = traded
    trader = sign_up(stack.url)
    exchange = ccxt_exchange(stack.url, trader.api_key, trader.secret)
    try:
        rates = exchange.private_get_account_commission({"symbol": SYMBOL})
    finally:
        exchange.close()
    zero = ZERO
    assert rates == {
        "symbol": SYMBOL,
        "standardCommission": {"maker": "0.00100000", "taker": "0.00100000", "buyer": zero, "seller": zero},
        "taxCommission": {"maker": zero, "taker": zero, "buyer": zero, "seller": zero},
        "discount": {
            "enabledForAccount": False,
            "enabledForSymbol": False,
            "discountAsset": "BNB",
            "discount": zero,
        },
    }
    assert trader.call("GET", "/api/v3/account/commission", symbol="btcusdt")["symbol"] == "BTCUSDT"
    for symbol, code in ((None, -1102), ("NOPE", -1121)):
        with pytest.raises(ApiFailure) as refused:
            trader.call("GET", "/api/v3/account/commission", symbol=symbol)
        assert refused.value.code == code
    unsigned = httpx.get(f"{stack.url}/api/v3/account/commission", params={"symbol": SYMBOL})
    assert unsigned.status_code != 200


def test_order_count_rate_limits(traded: tuple[Stack, list[dict[str, Any]]]) -> None:
    stack, _ = traded
    trader = sign_up(stack.url)
    client = binance_client(stack.url, trader.api_key, trader.secret)
    advertised = [r for r in ok(stack, "/exchangeInfo")["rateLimits"] if r["rateLimitType"] == "ORDERS"]
    assert advertised == [
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 50},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": 1000},
    ]
    assert [dict(r, count=0) for r in advertised] == client.get_current_order_count()
    for price in ("1000", "1001", "1002"):
        place(trader, "BUY", price, "0.01")
    counts = client.get_current_order_count()
    assert [{k: v for k, v in c.items() if k != "count"} for c in counts] == advertised
    by_interval = {c["interval"]: c["count"] for c in counts}
    assert by_interval["DAY"] == 3
    assert 0 <= by_interval["SECOND"] <= 3  # 0 only if a 10-second window ended meanwhile
    other = sign_up(stack.url)
    assert all(c["count"] == 0 for c in other.call("GET", "/api/v3/rateLimit/order"))
    trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)


def test_limits_above_the_maximum_are_clamped(traded: tuple[Stack, list[dict[str, Any]]]) -> None:
    """As Binance: depth answers at most 5000 levels, trades/historicalTrades/aggTrades/klines at
    most 1000 rows, for any larger `limit`; below 1 is refused (-1130), a non-number too (-1100)."""
    stack, trades = traded
    trader = sign_up(stack.url)
    for price in ("1500", "1501", "1502"):
        place(trader, "BUY", price, "0.01")
    try:
        assert ok(stack, "/depth", symbol=SYMBOL, limit=6000) == ok(
            stack, "/depth", symbol=SYMBOL, limit=5000
        )
        assert len(ok(stack, "/depth", symbol=SYMBOL, limit=6000)["bids"]) == 3
        assert ok(stack, "/trades", symbol=SYMBOL, limit=12000) == trades
        assert ok(stack, "/aggTrades", symbol=SYMBOL, limit=12000) == ok(stack, "/aggTrades", symbol=SYMBOL)
        assert len(ok(stack, "/klines", symbol=SYMBOL, interval="1m", limit=5000)) >= 1
        historical = httpx.get(
            f"{stack.url}/api/v3/historicalTrades",
            params={"symbol": SYMBOL, "limit": 1001},
            headers={"X-MBX-APIKEY": trader.api_key},
        )
        assert historical.status_code == 200 and historical.json() == trades, historical.text
        for path, extra in (
            ("/depth", {}),
            ("/trades", {}),
            ("/aggTrades", {}),
            ("/klines", {"interval": "1m"}),
        ):
            for bad, code in (("0", -1130), ("-1", -1100), ("x", -1100)):
                answer = get(stack, path, symbol=SYMBOL, limit=bad, **extra)
                assert (answer.status_code, answer.json()["code"]) == (400, code), (path, bad, answer.text)
        exchange = ccxt_exchange(stack.url, trader.api_key, trader.secret)
        fetched = exchange.fetch_trades("ETH/USDT", limit=12000)
        assert [(t["price"], t["amount"]) for t in fetched] == [(2000.0, 0.5), (2010.0, 0.3), (1990.0, 0.2)]
        book = exchange.fetch_order_book("ETH/USDT", limit=6000)
        assert [bid[0] for bid in book["bids"]] == [1502.0, 1501.0, 1500.0]
    finally:
        trader.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
