"""The WebSocket API (/ws-api/v3) against the running order path: the frame format and its
errors, signing refusals, permissions and ownership, rate limits, user data subscriptions,
metrics; and the real clients
that use it, ccxt.pro (create_order_ws, fetch_order_ws, cancel_order_ws, fetch_balance_ws, ...)
and python-binance's AsyncClient (ws_* methods).

The module's gateway has rate limits on, high enough for every test but the one that reaches the
ORDERS limit (with a key of its own). Each test signs up users of its own and leaves no order
resting in a place another test looks at.
"""

import asyncio
import json
import os
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt.pro  # type: ignore[import-untyped]
import httpx
import pytest
from binance.async_client import AsyncClient  # type: ignore[import-untyped]
from binance.exceptions import BinanceAPIException  # type: ignore[import-untyped]
from binance.ws.websocket_api import WebsocketAPI  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect as ws_connect

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import Trader, sign_up
from tests.logcheck import tracebacks
from tests.wsapi_client import WsApiClient, sign

SYMBOL = "BTCUSDT"
ORDERS_PER_10S = 300
WEIGHT_PER_MINUTE = 1_000_000
WEB = {"X-Requested-With": "exchange-web"}


@pytest.fixture(scope="module")
def stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(
            pg_dsn,
            prefix,
            RATE_LIMIT_IP_WEIGHT_PER_MINUTE=str(WEIGHT_PER_MINUTE),
            RATE_LIMIT_ORDERS_PER_10S=str(ORDERS_PER_10S),
            RATE_LIMIT_ORDERS_PER_DAY="1000000",
        ) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def ws_url(stack: Stack) -> str:
    return stack.url.replace("http://", "ws://") + "/ws-api/v3"


def limit_buy(price: str = "20000", qty: str = "0.001", **extra: Any) -> dict[str, Any]:
    return {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": price,
            "quantity": qty, **extra}  # fmt: skip


def run(scenario: Any) -> None:
    asyncio.run(scenario)


def test_frames_answers_and_protocol_errors_keep_the_connection(stack: Stack) -> None:
    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        pong = await client.call("ping")
        assert pong["id"] == 1 and pong["status"] == 200 and pong["result"] == {}
        (weight,) = pong["rateLimits"]
        assert weight["rateLimitType"] == "REQUEST_WEIGHT" and weight["limit"] == WEIGHT_PER_MINUTE
        server_time = (await client.call("time"))["result"]["serverTime"]
        assert abs(server_time - time.time() * 1000) < 5_000
        for frame, request_id, code in (
            ("{not json", None, -1102),
            ("[1, 2]", None, -1102),
            ('{"method": "ping"}', None, -1102),
            ('{"id": "s-1", "method": "order.teleport"}', "s-1", -1020),
            ('{"id": 7, "method": "ping", "params": [1]}', 7, -1102),
            ('{"id": {"a": 1}, "method": "ping"}', None, -1102),
        ):
            await client.send_raw(frame)
            answer = await client.next_unmatched()
            assert answer["id"] == request_id and answer["status"] == 400, (frame, answer)
            assert answer["error"]["code"] == code and answer["error"]["msg"], (frame, answer)
            assert "result" not in answer and "rateLimits" in answer
        again = await client.call("ping")  # the connection is still open and counting
        assert again["status"] == 200 and again["rateLimits"][0]["count"] > weight["count"]
        quiet = await client.call("ping", {"returnRateLimits": False})
        assert quiet["status"] == 200 and "rateLimits" not in quiet
        await client.close()

        silent = await WsApiClient.open(ws_url(stack) + "?returnRateLimits=false")
        assert "rateLimits" not in await silent.call("time")
        await silent.close()

    run(scenario())


def test_market_data_methods_answer_as_rest(stack: Stack) -> None:
    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        info = (await client.call("exchangeInfo", {"symbols": [SYMBOL, "ETHUSDT"]}))["result"]
        rest = httpx.get(f"{stack.url}/api/v3/exchangeInfo", params={"symbol": SYMBOL}).json()
        assert [s["symbol"] for s in info["symbols"]] == [SYMBOL, "ETHUSDT"]
        assert info["symbols"][0]["filters"] == rest["symbols"][0]["filters"]
        bad = await client.call("exchangeInfo", {"symbol": "NOPE"})
        assert bad["status"] == 400 and bad["error"]["code"] == -1121
        depth = (await client.call("depth", {"symbol": SYMBOL, "limit": 5}))["result"]
        assert set(depth) == {"lastUpdateId", "bids", "asks"}
        await client.close()

    run(scenario())


def test_signing_refusals(stack: Stack) -> None:
    alice = sign_up(stack.url)
    with httpx.Client(base_url=stack.url, timeout=30) as web:
        email = f"u{uuid.uuid4().hex[:12]}@example.com"
        web.post(
            "/api/web/signup", json={"email": email, "password": "correct horse battery"}
        ).raise_for_status()
        reader = web.post("/api/web/apikeys", json={"label": "ro", "canTrade": False}, headers=WEB).json()

    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))

        async def refused(method: str, params: dict[str, Any]) -> tuple[int, int]:
            answer = await client.call(method, params)
            return answer["status"], answer["error"]["code"]

        key, secret = alice.api_key, alice.secret
        assert await refused("order.place", limit_buy()) == (400, -1102)  # no apiKey
        assert await refused("order.place", {**limit_buy(), "apiKey": "short"}) == (401, -2014)
        assert await refused("order.place", sign(key, secret, limit_buy(), signature="")) == (400, -1102)
        assert await refused("order.place", sign(key, "not-the-secret", limit_buy())) == (400, -1022)
        assert await refused("order.place", sign(key, secret, limit_buy(), price="10")) == (400, -1022)
        old = int(time.time() * 1000) - 60_000
        assert await refused("order.place", sign(key, secret, limit_buy(timestamp=old))) == (400, -1021)
        ahead = int(time.time() * 1000) + 5_000
        assert await refused("order.place", sign(key, secret, limit_buy(timestamp=ahead))) == (400, -1021)
        unknown = "A" * 64
        assert await refused("account.status", sign(unknown, secret, {})) == (401, -2015)
        assert await refused("userDataStream.start", {"apiKey": unknown}) == (401, -2015)
        # A read-only key reads but does not trade.
        ro_key, ro_secret = reader["apiKey"], reader["secretKey"]
        assert await refused("order.place", sign(ro_key, ro_secret, limit_buy())) == (401, -2015)
        assert await refused("order.cancel", sign(ro_key, ro_secret, {"symbol": SYMBOL, "orderId": 1})) == (
            401,
            -2015,
        )
        reads = await client.call("openOrders.status", sign(ro_key, ro_secret, {"symbol": SYMBOL}))
        assert reads["status"] == 200 and reads["result"] == []
        # recvWindow is signed like any parameter and bounded as on REST.
        window = await client.call("account.status", sign(key, secret, {"recvWindow": 70_000}))
        assert (window["status"], window["error"]["code"]) == (400, -1131)
        ok = await client.call("account.status", sign(key, secret, {"recvWindow": 10_000}))
        assert ok["status"] == 200
        await client.close()

    run(scenario())


def test_order_lifecycle_matches_rest(stack: Stack) -> None:
    alice, bob = sign_up(stack.url), sign_up(stack.url)

    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))

        async def ok(method: str, params: dict[str, Any], trader: Trader = alice) -> Any:
            answer = await client.call(method, sign(trader.api_key, trader.secret, params))
            assert answer["status"] == 200, (method, answer)
            return answer

        assert (await ok("order.test", limit_buy()))["result"] == {}
        placed = await ok("order.place", limit_buy("21000", newClientOrderId="ws-a-1"))
        order = placed["result"]
        assert order["status"] == "NEW" and order["clientOrderId"] == "ws-a-1"
        assert [r["rateLimitType"] for r in placed["rateLimits"]] == ["ORDERS", "ORDERS", "REQUEST_WEIGHT"]
        assert placed["rateLimits"][0]["count"] == 1
        status = (await ok("order.status", {"symbol": SYMBOL, "orderId": order["orderId"]}))["result"]
        assert status == alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=order["orderId"])
        opened = (await ok("openOrders.status", {"symbol": SYMBOL}))["result"]
        assert [o["orderId"] for o in opened] == [order["orderId"]]
        _, locked = alice.balances()["USDT"]
        assert Decimal(locked) == Decimal("21")

        replace = {
            **limit_buy("21500"),
            "cancelReplaceMode": "STOP_ON_FAILURE",
            "cancelOrderId": order["orderId"],
        }
        replaced = (await ok("order.cancelReplace", replace))["result"]
        assert replaced["cancelResult"] == "SUCCESS" and replaced["newOrderResult"] == "SUCCESS"
        new_id = replaced["newOrderResponse"]["orderId"]
        failed = await client.call("order.cancelReplace", sign(alice.api_key, alice.secret, replace))
        assert failed["status"] == 400 and failed["error"]["code"] == -2022
        assert failed["error"]["data"]["cancelResult"] == "FAILURE"

        cancelled = (await ok("order.cancel", {"symbol": SYMBOL, "orderId": new_id}))["result"]
        assert cancelled["status"] == "CANCELED"
        await ok("order.place", limit_buy("20500"))
        swept = (await ok("openOrders.cancelAll", {"symbol": SYMBOL}))["result"]
        assert [o["status"] for o in swept] == ["CANCELED"]
        assert (await ok("openOrders.status", {"symbol": SYMBOL}))["result"] == []
        history = (await ok("allOrders", {"symbol": SYMBOL}))["result"]
        assert len(history) == 3 and {o["status"] for o in history} == {"CANCELED"}

        # A trade: bob rests a sell, alice takes it.
        await ok("order.place", {**limit_buy("22000"), "side": "SELL"}, bob)
        taken = (await ok("order.place", limit_buy("22000", timeInForce="IOC")))["result"]
        assert taken["status"] == "FILLED"
        trades = (await ok("myTrades", {"symbol": SYMBOL}))["result"]
        assert [t["orderId"] for t in trades] == [taken["orderId"]] and trades[0]["isBuyer"] is True
        account = (await ok("account.status", {"omitZeroBalances": True}))["result"]
        rest = alice.call("GET", "/api/v3/account", omitZeroBalances="true")
        assert account["balances"] == rest["balances"] and account["uid"] == alice.user_id
        counts = (await ok("account.rateLimits.orders", {}))["result"]
        assert counts[0]["rateLimitType"] == "ORDERS" and counts[0]["count"] >= 4
        rates = (await ok("account.commission", {"symbol": SYMBOL}))["result"]
        assert rates == alice.call("GET", "/api/v3/account/commission", symbol=SYMBOL)
        await client.close()

    run(scenario())


def test_another_users_order_is_unknown(stack: Stack) -> None:
    alice, bob = sign_up(stack.url), sign_up(stack.url)

    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        placed = await client.call("order.place", sign(alice.api_key, alice.secret, limit_buy("19000")))
        order_id = placed["result"]["orderId"]
        ref = {"symbol": SYMBOL, "orderId": order_id}
        looked = await client.call("order.status", sign(bob.api_key, bob.secret, ref))
        assert (looked["status"], looked["error"]["code"]) == (400, -2013)
        cancel = await client.call("order.cancel", sign(bob.api_key, bob.secret, ref))
        assert (cancel["status"], cancel["error"]["code"]) == (400, -2011)
        swept = await client.call("openOrders.cancelAll", sign(bob.api_key, bob.secret, {"symbol": SYMBOL}))
        assert swept["status"] == 400 or swept["result"] == []
        still = await client.call("order.status", sign(alice.api_key, alice.secret, ref))
        assert still["result"]["status"] == "NEW"
        await client.call("order.cancel", sign(alice.api_key, alice.secret, ref))
        await client.close()

    run(scenario())


def test_user_data_stream_keys_and_sessions(stack: Stack) -> None:
    alice, bob = sign_up(stack.url), sign_up(stack.url)

    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        started = await client.call("userDataStream.start", {"apiKey": alice.api_key})
        key = started["result"]["listenKey"]
        assert len(key) == 64
        pinged = await client.call("userDataStream.ping", {"apiKey": alice.api_key, "listenKey": key})
        assert pinged["result"] == {}
        theirs = await client.call("userDataStream.ping", {"apiKey": bob.api_key, "listenKey": key})
        assert (theirs["status"], theirs["error"]["code"]) == (400, -1125)
        assert (await client.call("userDataStream.stop", {"apiKey": alice.api_key, "listenKey": key}))[
            "result"
        ] == {}
        gone = await client.call("userDataStream.ping", {"apiKey": alice.api_key, "listenKey": key})
        assert gone["error"]["code"] == -1125
        logon = await client.call("session.logon", sign(alice.api_key, alice.secret, {}))
        assert (logon["status"], logon["error"]["code"]) == (400, -4056)
        session = (await client.call("session.status"))["result"]
        assert session["apiKey"] is None and session["connectedSince"] <= session["serverTime"]
        await client.close()

    run(scenario())


async def next_event(client: WsApiClient, kind: str, timeout: float = 10.0) -> dict[str, Any]:
    """The next pushed `{"subscriptionId", "event"}` frame whose event is `kind`."""
    while True:
        frame = await client.next_unmatched(timeout)
        if frame.get("event", {}).get("e") == kind:
            return frame


def test_user_data_subscription_pushes_the_callers_events_until_unsubscribed(stack: Stack) -> None:
    alice, bob = sign_up(stack.url), sign_up(stack.url)

    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        subscribed = await client.call(
            "userDataStream.subscribe.signature", sign(alice.api_key, alice.secret, {})
        )
        assert subscribed["status"] == 200 and subscribed["result"] == {"subscriptionId": 0}
        listed = await client.call("session.subscriptions")
        assert listed["result"] == [{"subscriptionId": 0}]
        assert (await client.call("session.status"))["result"]["userDataStream"] is True
        # Bob's order is not Alice's business.
        bobs = await asyncio.to_thread(bob.call, "POST", "/api/v3/order", **limit_buy("19000"))
        placed = await asyncio.to_thread(alice.call, "POST", "/api/v3/order", **limit_buy("19500"))
        report = await next_event(client, "executionReport")
        assert report["subscriptionId"] == 0
        assert (report["event"]["i"], report["event"]["X"]) == (placed["orderId"], "NEW")
        position = await next_event(client, "outboundAccountPosition")
        usdt = {b["a"]: b for b in position["event"]["B"]}["USDT"]
        assert Decimal(usdt["l"]) == Decimal("19.5")
        assert all(f.get("event", {}).get("i") != bobs["orderId"] for f in client.unmatched)

        assert (await client.call("userDataStream.unsubscribe", {"subscriptionId": 0}))["result"] == {}
        assert (await client.call("session.subscriptions"))["result"] == []
        await asyncio.to_thread(
            alice.call, "DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"]
        )
        await asyncio.sleep(0.5)
        assert not [f for f in client.unmatched if "event" in f], "an event after unsubscribing"
        refused = await client.call(
            "userDataStream.subscribe.signature", sign(alice.api_key, "not the secret", {})
        )
        assert refused["error"]["code"] == -1022
        await client.close()

    run(scenario())


def test_orders_count_once_authenticated_and_the_connection_stays(stack: Stack) -> None:
    """Requests naming a key without signing use none of its orders (the 429 of a full ORDERS
    window: test_rate_limits.py, over every transport at once)."""
    carol = sign_up(stack.url)

    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        answers = await asyncio.gather(
            *(client.call("order.place", {"apiKey": carol.api_key}) for _ in range(ORDERS_PER_10S + 5))
        )
        assert {a["error"]["code"] for a in answers} == {-1102}
        counts = await client.call("account.rateLimits.orders", sign(carol.api_key, carol.secret, {}))
        assert [c["count"] for c in counts["result"]] == [0, 0]
        assert (await client.call("ping"))["status"] == 200
        await client.close()

    run(scenario())


def test_requests_are_counted_by_method_and_status(stack: Stack) -> None:
    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        await client.call("ping")
        await client.call("no.such.method")
        await client.close()

    run(scenario())
    text = httpx.get(f"{stack.url}/metrics").text
    assert 'exchange_wsapi_requests_total{method="ping",status="200"}' in text
    assert 'exchange_wsapi_requests_total{method="unknown",status="400"}' in text
    assert 'exchange_wsapi_request_duration_seconds_count{method="ping"}' in text
    assert "exchange_wsapi_connections" in text


def pro_exchange(stack: Stack, trader: Trader) -> Any:
    """ccxt.pro binance with REST and the WebSocket API on this exchange (`ws-api` is its own key
    of urls['api']['ws'])."""
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
        "ws": {"ws-api": {"spot": ws_url(stack)}},
    }
    return exchange


def locked_usdt(balance: dict[str, Any]) -> Decimal:
    rows = {b["asset"]: b for b in balance["info"]["balances"]}
    return Decimal(rows["USDT"]["locked"])


def test_ccxt_pro_trades_over_the_websocket_api(stack: Stack) -> None:
    trader = sign_up(stack.url)

    async def scenario() -> None:
        exchange = pro_exchange(stack, trader)
        try:
            order = await exchange.create_order_ws("BTC/USDT", "limit", "buy", 0.001, 18000)
            assert order["status"] == "open" and order["price"] == 18000.0
            fetched = await exchange.fetch_order_ws(order["id"], "BTC/USDT")
            assert fetched["id"] == order["id"] and fetched["amount"] == 0.001
            opened = await exchange.fetch_open_orders_ws("BTC/USDT")
            assert [o["id"] for o in opened] == [order["id"]]
            # ccxt 4.5's fetch_balance_ws parses account.status's answer with its futures parser
            # (parseBalanceCustom without a type), for Binance's spot as here: what it returns is
            # the answer under "info", which is Binance's account shape.
            balance = await exchange.fetch_balance_ws()
            assert locked_usdt(balance) == Decimal("18")
            assert balance["info"]["balances"] == trader.call("GET", "/api/v3/account")["balances"]
            cancelled = await exchange.cancel_order_ws(order["id"], "BTC/USDT")
            assert cancelled["status"] == "canceled"
            assert locked_usdt(await exchange.fetch_balance_ws()) == 0
            with pytest.raises(ccxt.OrderNotFound):
                await exchange.cancel_order_ws(order["id"], "BTC/USDT")
        finally:
            await exchange.close()

    run(scenario())


def test_ccxt_pro_watches_orders_and_balance_over_the_websocket_api(stack: Stack) -> None:
    """ccxt.pro's spot watch_orders / watch_balance subscribe with userDataStream.subscribe.signature."""
    trader = sign_up(stack.url)

    async def scenario() -> None:
        exchange = pro_exchange(stack, trader)
        try:
            watching_orders = asyncio.create_task(exchange.watch_orders("BTC/USDT"))
            watching_balance = asyncio.create_task(exchange.watch_balance())
            await asyncio.sleep(1.0)  # both subscribed
            placed = await asyncio.to_thread(trader.call, "POST", "/api/v3/order", **limit_buy("17000"))
            orders = await asyncio.wait_for(watching_orders, 10)
            assert [(o["id"], o["status"]) for o in orders] == [(str(placed["orderId"]), "open")]
            balance = await asyncio.wait_for(watching_balance, 10)
            assert balance["USDT"]["used"] == 17.0
        finally:
            await exchange.close()

    run(scenario())


def test_python_binance_ws_methods(stack: Stack) -> None:
    trader = sign_up(stack.url)

    async def scenario() -> None:
        client = AsyncClient(trader.api_key, trader.secret)
        client.API_URL = f"{stack.url}/api"
        client.ws_api = WebsocketAPI(url=ws_url(stack))
        try:
            assert await client.ws_ping() == {}
            placed = await client.ws_create_order(symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                                                  price="17000", quantity="0.001")  # fmt: skip
            assert placed["status"] == "NEW" and placed["clientOrderId"]
            got = await client.ws_get_order(symbol=SYMBOL, orderId=placed["orderId"])
            assert got["orderId"] == placed["orderId"] and got["price"] == "17000.00000000"
            account = await client.ws_get_account()
            usdt = {b["asset"]: b for b in account["balances"]}["USDT"]
            assert Decimal(usdt["locked"]) == Decimal("17")
            cancelled = await client.ws_cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
            assert cancelled["status"] == "CANCELED"
            with pytest.raises(BinanceAPIException) as refused:
                await client.ws_cancel_order(symbol=SYMBOL, orderId=placed["orderId"])
            assert refused.value.code == -2011
        finally:
            await client.close_connection()

    run(scenario())


def test_a_request_id_comes_back_as_sent(stack: Stack) -> None:
    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        for request_id in (0, "e2a85d9f-07a5-4f94-8d5f-789dc3deb097", None):
            await client.send_raw(json.dumps({"id": request_id, "method": "ping"}))
            answer = await client.next_unmatched()
            assert answer["id"] == request_id and answer["status"] == 200
        await client.close()

    run(scenario())


def test_oversized_ids_and_deep_nesting_get_an_answer_and_keep_the_connection(stack: Stack) -> None:
    """Issue 15, finding 9: these frames got no answer (the task died: "Task exception was never
    retrieved"); each is now a -1102 answer and the connection stays open."""

    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        for frame in (
            '{"id": ' + "9" * 5000 + ', "method": "ping"}',
            '{"id": ' + str(1 << 64) + ', "method": "ping"}',
            "[" * 50_000 + "]" * 50_000,
            '{"id": 3, "method": "ping", "params": {"a": ' + "[" * 50_000 + "]" * 50_000 + "}}",
        ):
            await client.send_raw(frame)
            answer = await client.next_unmatched()
            assert answer["status"] == 400 and answer["error"]["code"] == -1102, (frame[:40], answer)
        assert (await client.call("ping"))["status"] == 200
        await client.close()

    run(scenario())
    assert tracebacks(stack.log_dir) == []


FRAME_EXAMPLES = int(os.environ.get("FRAME_FUZZ_EXAMPLES", "120"))  # `make soak`: 3000
WSAPI_METHODS = ["ping", "time", "depth", "order.place", "order.status", "userDataStream.start", "nope", ""]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=10,
)
wsapi_frames = st.one_of(
    st.fixed_dictionaries(
        {"method": st.sampled_from(WSAPI_METHODS) | st.text(max_size=12)},
        optional={
            "id": json_values,
            "params": st.dictionaries(
                st.sampled_from(["symbol", "limit", "apiKey", "quantity", "price", "side", "type"])
                | st.text(max_size=8),
                json_values,
                max_size=5,
            )
            | json_values,
        },
    ).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.integers(1, 5_000).map(lambda n: "[" * n + "]" * n),
    st.integers(1, 6_000).map(lambda n: '{"method":"ping","id":' + "9" * n + "}"),
)


def test_any_frame_gets_an_answer_on_an_open_connection_and_nothing_is_logged(stack: Stack) -> None:
    """A WebSocket API frame fuzz: every frame is answered (an error or a result, with the id it
    had or null), the connection stays open, and the gateway's log holds no traceback."""
    with ws_connect(ws_url(stack), max_size=None) as conn:

        @given(frame=wsapi_frames)
        @settings(
            max_examples=FRAME_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def fuzz(frame: str) -> None:
            conn.send(frame)
            answer = json.loads(conn.recv(timeout=10))
            assert isinstance(answer.get("status"), int) and answer["status"] < 500, (frame[:80], answer)
            assert ("result" in answer) != ("error" in answer), answer

        fuzz()
    assert tracebacks(stack.log_dir) == []
