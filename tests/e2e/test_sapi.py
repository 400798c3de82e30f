"""The /sapi basics ccxt calls by default, through ccxt with only its URLs pointed at the stack and
no `options` at all (so load_markets also loads futures and margin pairs and fetchCurrencies runs),
and through the signed test client for what ccxt does not call."""

import re
import time
import uuid
from collections.abc import Iterator

import ccxt  # type: ignore[import-untyped]
import httpx
import pytest

from launcher.stack import Stack
from tests.client import ApiFailure, Trader, sign_up

WEB = {"X-Requested-With": "exchange-web"}


@pytest.fixture
def exchange(stack: Stack) -> Iterator[ccxt.binance]:
    """ccxt's binance with default options, every API URL moved from Binance's hosts to the stack."""
    trader = sign_up(stack.url)
    client = ccxt.binance({"apiKey": trader.api_key, "secret": trader.secret})
    client.urls["api"] = {
        name: re.sub(r"^https://[^/]+", stack.url, url) for name, url in client.urls["api"].items()
    }
    yield client
    client.close()


def test_ccxt_with_default_options(stack: Stack, exchange: ccxt.binance) -> None:
    markets = exchange.load_markets()
    assert {"BTC/USDT", "ETH/USDT"} <= set(markets)
    assert all(m["spot"] for m in markets.values())
    currencies = exchange.fetch_currencies()
    assert {"BTC", "ETH", "SOL", "USDT"} <= set(currencies)
    btc = currencies["BTC"]
    assert (btc["id"], btc["active"], list(btc["networks"])) == ("BTC", True, ["BTC"])
    assert btc["networks"]["BTC"]["deposit"] is False and btc["networks"]["BTC"]["withdraw"] is False
    assert exchange.currencies["USDT"]["id"] == "USDT"  # load_markets loaded them too
    status = exchange.fetch_status()
    assert status["status"] == "ok"
    fees = exchange.fetch_trading_fees()
    assert fees["BTC/USDT"]["maker"] == 0.001 and fees["BTC/USDT"]["taker"] == 0.001
    assert exchange.fetch_trading_fee("ETH/USDT")["taker"] == 0.001
    assert exchange.fetch_balance()["USDT"]["free"] == 10000.0


def new_key(stack: Stack, can_trade: bool, ips: list[str]) -> Trader:
    """A new user with a key of the given permissions (and demo funds)."""
    web = httpx.Client(base_url=stack.url, timeout=30)
    email = f"u{uuid.uuid4().hex[:12]}@example.com"
    web.post("/api/web/signup", json={"email": email, "password": "correct horse battery"}).raise_for_status()
    body = {"label": "restricted", "canTrade": can_trade, "ipRestrict": ips}
    created = web.post("/api/web/apikeys", json=body, headers=WEB)
    created.raise_for_status()
    key = created.json()
    web.close()
    return Trader(stack.url, 0, key["apiKey"], key["secretKey"], httpx.Client(timeout=30))


def test_account_status_and_api_restrictions(stack: Stack) -> None:
    before = int(time.time() * 1000) - 1000
    trader = sign_up(stack.url)
    assert trader.call("GET", "/sapi/v1/account/status") == {"data": "Normal"}
    open_key = trader.call("GET", "/sapi/v1/account/apiRestrictions")
    assert open_key["ipRestrict"] is False and open_key["enableReading"] is True
    assert open_key["enableSpotAndMarginTrading"] is True and open_key["enableWithdrawals"] is False
    assert before <= open_key["createTime"] <= int(time.time() * 1000)
    restricted = new_key(stack, can_trade=False, ips=["127.0.0.1"])
    reading_only = restricted.call("GET", "/sapi/v1/account/apiRestrictions")
    assert (reading_only["ipRestrict"], reading_only["enableSpotAndMarginTrading"]) == (True, False)
    trading = trader.call("GET", "/sapi/v1/account/apiTradingStatus")["data"]
    assert (trading["isLocked"], trading["plannedRecoverTime"]) == (False, 0)
    assert trader.call("GET", "/sapi/v1/spot/delist-schedule") == []
    unsigned = httpx.get(f"{stack.url}/sapi/v1/account/status")
    assert unsigned.status_code in (400, 401) and "code" in unsigned.json()


def test_trade_fee_and_coins(stack: Stack) -> None:
    trader = sign_up(stack.url)
    assert httpx.get(f"{stack.url}/sapi/v1/system/status").json() == {"status": 0, "msg": "normal"}
    assert trader.call("GET", "/sapi/v1/asset/tradeFee", symbol="BTCUSDT") == [
        {"symbol": "BTCUSDT", "makerCommission": "0.001", "takerCommission": "0.001"}
    ]
    with pytest.raises(ApiFailure) as unknown:
        trader.call("GET", "/sapi/v1/asset/tradeFee", symbol="NOPE")
    assert unknown.value.code == -1121
    coins = {c["coin"]: c for c in trader.call("GET", "/sapi/v1/capital/config/getall")}
    assert (coins["USDT"]["free"], coins["USDT"]["locked"]) == ("10000.00000000", "0.00000000")
    assert coins["BTC"]["networkList"][0]["withdrawIntegerMultiple"] == "0.00000001"
