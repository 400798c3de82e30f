"""Rate limits on a real gateway: Binance's 429 with Retry-After, per API key for orders and per
IP for request weight; an exempt key is never limited; ccxt recognizes the answer."""

import asyncio
import json
import time
from collections.abc import Iterator

import ccxt  # type: ignore[import-untyped]
import httpx
import pytest
import websockets.asyncio.client
import websockets.exceptions

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, sign_up

IP_LIMIT = 400
ORDER_LIMIT = 3


@pytest.fixture(scope="module")
def limited_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    env = {"RATE_LIMIT_IP_WEIGHT_PER_MINUTE": str(IP_LIMIT), "RATE_LIMIT_ORDERS_PER_10S": str(ORDER_LIMIT),
           "RATE_LIMIT_ORDERS_PER_DAY": "1000"}  # fmt: skip
    try:
        with running_stack(pg_dsn, prefix, ["BTCUSDT"], **env) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def order(n: int) -> dict[str, str]:
    return {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": "20000",
            "quantity": "0.001", "newClientOrderId": f"rl-{n}"}  # fmt: skip


def test_orders_per_key_then_weight_per_ip(limited_stack: Stack) -> None:
    url = limited_stack.url
    info = httpx.get(f"{url}/api/v3/exchangeInfo").json()
    assert [(x["rateLimitType"], x["intervalNum"], x["limit"]) for x in info["rateLimits"]] == [
        ("REQUEST_WEIGHT", 1, IP_LIMIT), ("ORDERS", 10, ORDER_LIMIT), ("ORDERS", 1, 1000)
    ]  # fmt: skip
    alice, bob = sign_up(url), sign_up(url)
    while time.time() % 10 > 2:  # start early in a 10 s window, so that all orders fall in one
        time.sleep(0.2)
    for n in range(ORDER_LIMIT):
        assert alice.call("POST", "/api/v3/order", **order(n))["status"] == "NEW"
    with pytest.raises(ApiFailure) as refused:
        alice.call("POST", "/api/v3/order", **order(99))
    assert (refused.value.status, refused.value.code) == (429, -1015)
    assert refused.value.msg == f"Too many new orders; current limit is {ORDER_LIMIT} orders per 10 SECOND."
    assert bob.call("POST", "/api/v3/order", **order(100))["status"] == "NEW"  # per key
    assert len(alice.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")) == ORDER_LIMIT  # queries pass

    while time.time() % 60 > 45:  # the flood below must not straddle two minutes
        time.sleep(0.5)
    with httpx.Client(base_url=url) as http:
        statuses = [http.get("/api/v3/ping").status_code for _ in range(IP_LIMIT + 1)]
        assert statuses[-1] == 429 and statuses.count(200) <= IP_LIMIT
        first = statuses.index(429)
        assert set(statuses[first:]) == {429}  # refused until the minute ends
        limited = http.get("/api/v3/time")
        assert limited.status_code == 429
        assert limited.json()["code"] == -1003
        assert limited.json()["msg"].startswith(f"Too many requests; current limit of IP is {IP_LIMIT}")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        # Opening a WebSocket API connection weighs too: the handshake is refused the same way.
        ws_url = url.replace("http://", "ws://") + "/ws-api/v3"

        async def open_connection() -> None:
            async with websockets.asyncio.client.connect(ws_url):
                pass

        with pytest.raises(websockets.exceptions.InvalidStatus) as handshake:
            asyncio.run(open_connection())
        refused = handshake.value.response
        assert refused.status_code == 429 and json.loads(refused.body)["code"] == -1003
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # No proxy is trusted here: a client cannot pick its own address.
        spoofed = http.get("/api/v3/time", headers={"X-Forwarded-For": "198.51.100.7"})
        assert spoofed.status_code == 429
    exchange = ccxt.binance({"enableRateLimit": False})
    exchange.urls["api"] = {k: f"{url}/api/v3" for k in ("public", "private")}
    with pytest.raises(ccxt.DDoSProtection):  # ccxt's class for Binance's 429 (and 418)
        exchange.fetch_time()


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_weight(pg_dsn: str) -> None:
    prefix = services.new_prefix()
    limit = 20
    env = {"RATE_LIMIT_IP_WEIGHT_PER_MINUTE": str(limit), "FORWARDED_ALLOW_IPS": "127.0.0.1"}
    try:
        with (
            running_stack(pg_dsn, prefix, ["BTCUSDT"], **env) as stack,
            httpx.Client(base_url=stack.url) as http,
        ):
            while time.time() % 60 > 45:  # one minute window for the whole test
                time.sleep(0.5)

            def ping(client_ip: str) -> int:
                return http.get("/api/v3/ping", headers={"X-Forwarded-For": client_ip}).status_code

            statuses = [ping("203.0.113.1") for _ in range(limit + 1)]
            assert statuses.count(200) == limit and statuses[-1] == 429
            # Another client behind the same proxy (the same socket peer) is not limited.
            assert ping("203.0.113.2") == 200
            # The proxy's own requests count for the proxy.
            assert http.get("/api/v3/ping").status_code == 200
    finally:
        asyncio.run(services.delete_prefix(prefix))
