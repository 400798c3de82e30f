"""Rate limits on a real gateway: Binance's 429 with Retry-After, per authenticated API key for
orders (REST, WebSocket API and gRPC together) and per IP for request weight; an exempt key is
never limited; ccxt recognizes the answer."""

import asyncio
import json
import time
from collections.abc import Iterator

import ccxt  # type: ignore[import-untyped]
import grpc
import httpx
import pytest
import websockets.asyncio.client
import websockets.exceptions

from exchange_proto import market_data_api_pb2 as mpb
from exchange_proto import market_data_api_pb2_grpc as mgrpc
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, AsyncTrader, Trader, sign_up
from tests.grpc_client import GrpcTrader, api_error, limit_buy
from tests.wsapi_client import WsApiClient, sign

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

        # gRPC calls weigh against the same IP's weight: refused too.
        async def order_book_over_grpc() -> grpc.aio.AioRpcError:
            async with grpc.aio.insecure_channel(limited_stack.grpc_target) as channel:
                with pytest.raises(grpc.aio.AioRpcError) as refused_call:
                    await mgrpc.MarketDataStub(channel).GetOrderBook(
                        mpb.GetOrderBookRequest(symbol="BTCUSDT")
                    )
                return refused_call.value

        error = asyncio.run(order_book_over_grpc())
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and api_error(error)[0] == -1003
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


def test_one_key_is_limited_the_same_over_rest_wsapi_and_grpc_combined(pg_dsn: str) -> None:
    """One limiter for every transport, counting the key a request authenticated with: orders of
    one key over REST (the fast path, cancelReplace), the WebSocket API and gRPC at once fill the
    same ORDERS window; another user naming the key without its secret uses none of it; a request
    with two X-MBX-APIKEY headers is refused (-2014) whichever route serves it."""
    prefix = services.new_prefix()
    env = {"RATE_LIMIT_ORDERS_PER_10S": str(ORDER_LIMIT), "RATE_LIMIT_ORDERS_PER_DAY": "1000",
           "RATE_LIMIT_IP_WEIGHT_PER_MINUTE": "1000000"}  # fmt: skip
    try:
        with running_stack(pg_dsn, prefix, ["BTCUSDT"], **env) as stack:
            alice, mallory = sign_up(stack.url), sign_up(stack.url)
            with httpx.Client(base_url=stack.url, timeout=30) as http:
                for _ in range(ORDER_LIMIT + 2):  # Alice's key with Mallory's secret: not Alice's orders
                    forged = Trader(stack.url, mallory.user_id, alice.api_key, mallory.secret, http)
                    with pytest.raises(ApiFailure) as refused:
                        forged.call("POST", "/api/v3/order", **order(0))
                    assert refused.value.code == -1022
                two_keys = [("X-MBX-APIKEY", mallory.api_key), ("X-MBX-APIKEY", alice.api_key)]
                for method, path in (("POST", "/api/v3/order"), ("GET", "/api/v3/account")):
                    answer = http.request(method, path, params={"timestamp": "1"}, headers=two_keys)
                    assert (answer.status_code, answer.json()["code"]) == (401, -2014), (path, answer.text)
            counts = alice.call("GET", "/api/v3/rateLimit/order")
            assert [c["count"] for c in counts] == [0, 0]
            for attempt in range(3):  # a batch that straddles two 10 s windows is sent again
                while time.time() % 10 > 1:
                    time.sleep(0.1)
                window = int(time.time() // 10)
                outcomes = asyncio.run(_orders_over_every_transport(stack, alice, first=10 * attempt))
                # One more over REST, through the fast path: 429 with Retry-After.
                last = alice.request("POST", "/api/v3/order", **order(10 * attempt + 8))
                counts = alice.call("GET", "/api/v3/rateLimit/order")
                if int(time.time() // 10) == window:
                    break
                time.sleep(ORDER_LIMIT)  # the next window
            else:
                pytest.fail("no batch fitted in one 10 s window")
            passed = [o for o in outcomes if o[1] != -1015]
            refused = [o for o in outcomes if o[1] == -1015]
            assert len(passed) == ORDER_LIMIT and len(refused) == len(outcomes) - ORDER_LIMIT, outcomes
            assert {status for _, _, status in refused} <= {"429", "RESOURCE_EXHAUSTED"}, refused
            assert {code for _, code, _ in passed} <= {0, -2022}, (
                passed
            )  # placed; a cancelReplace's failed cancel
            assert (last.status_code, last.json()["code"]) == (429, -1015)
            assert 1 <= int(last.headers["Retry-After"]) <= 10
            assert counts[0]["count"] == ORDER_LIMIT  # this window's: the batch's, across transports
            today = counts[1]["count"]  # with the orders of batches sent again, if any
            assert today == ORDER_LIMIT if attempt == 0 else today > ORDER_LIMIT
    finally:
        asyncio.run(services.delete_prefix(prefix))


async def _orders_over_every_transport(
    stack: Stack, trader: Trader, first: int
) -> list[tuple[str, int, str]]:
    """Seven new orders of one key at once (client order ids from `first` + 1): two over REST, one
    cancelReplace, two over the WebSocket API and two over gRPC; each outcome as (transport,
    Binance code or 0, HTTP or gRPC status)."""
    async with httpx.AsyncClient(timeout=30) as http, grpc.aio.insecure_channel(stack.grpc_target) as channel:
        rest = AsyncTrader.of(trader, http)
        ws = await WsApiClient.open(stack.url.replace("http://", "ws://") + "/ws-api/v3")
        over_grpc = GrpcTrader(channel, trader.api_key, trader.secret)

        async def over_rest(path: str, **params: str) -> tuple[str, int, str]:
            status, body = await rest.call("POST", path, **params)
            return "rest", int(body.get("code", 0)), str(status)

        async def over_ws(n: int) -> tuple[str, int, str]:
            answer = await ws.call("order.place", sign(trader.api_key, trader.secret, order(first + n)))
            if answer["status"] == 429:
                assert answer["error"]["data"]["retryAfter"] > time.time() * 1000
            return "wsapi", int(answer.get("error", {}).get("code", 0)), str(answer["status"])

        async def over_grpc_call(n: int) -> tuple[str, int, str]:
            request = limit_buy("BTCUSDT", client_id=f"rl-{first + n}")
            try:
                await over_grpc.call("PlaceOrder", request)
            except grpc.aio.AioRpcError as error:
                return "grpc", api_error(error)[0], error.code().name
            return "grpc", 0, "OK"

        replace = {**order(first + 5), "cancelReplaceMode": "STOP_ON_FAILURE", "cancelOrderId": "1"}
        try:
            return list(
                await asyncio.gather(
                    over_rest("/api/v3/order", **order(first + 1)),
                    over_rest("/api/v3/order", **order(first + 2)),
                    over_rest("/api/v3/order/cancelReplace", **replace),
                    over_ws(3),
                    over_ws(4),
                    over_grpc_call(6),
                    over_grpc_call(7),
                )
            )
        finally:
            await ws.close()
