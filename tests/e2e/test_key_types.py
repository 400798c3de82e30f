"""Ed25519 and RSA API keys (Binance's asymmetric keys) on every signed path of a running stack:
REST (query and form-body signatures, the order fast path), the WebSocket API (per-request
signatures and session.logon), gRPC, and the real clients python-binance (`private_key`) and
ccxt (a PEM private key as `secret`). Keys are made in each test with `cryptography`."""

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import grpc
import httpx
import pytest
from binance.async_client import AsyncClient  # type: ignore[import-untyped]
from binance.client import Client  # type: ignore[import-untyped]
from binance.exceptions import BinanceAPIException  # type: ignore[import-untyped]
from binance.ws.websocket_api import WebsocketAPI  # type: ignore[import-untyped]

from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from exchange_proto import trading_api_pb2_grpc as tgrpc
from launcher.stack import Stack
from tests.e2e.test_clients import ccxt_exchange
from tests.grpc_client import TRADING, api_error
from tests.keypairs import KeyPair, ed25519_pair, new_pair, rsa_pair
from tests.wsapi_client import WsApiClient

WEB = {"X-Requested-With": "exchange-web"}
ASYMMETRIC = ["ED25519", "RSA"]
BAD_SIGNATURE = {"code": -1022, "msg": "Signature for this request is not valid."}


def signed_up(stack: Stack) -> httpx.Client:
    """A new user's web session (demo funds); the caller closes it."""
    client = httpx.Client(base_url=stack.url, timeout=30)
    email = f"u{uuid.uuid4().hex[:12]}@example.com"
    r = client.post("/api/web/signup", json={"email": email, "password": "correct horse battery"})
    assert r.status_code == 200, r.text
    return client


@pytest.fixture
def web(stack: Stack) -> Iterator[httpx.Client]:
    """A signed-up user's web session (demo funds)."""
    client = signed_up(stack)
    try:
        yield client
    finally:
        client.close()


def register(web: httpx.Client, pair: KeyPair, **settings: Any) -> str:
    """The api key of a new key registering `pair`'s public key."""
    body = {"label": "bot", "keyType": pair.key_type, "publicKey": pair.public_pem, **settings}
    r = web.post("/api/web/apikeys", json=body, headers=WEB)
    assert r.status_code == 200, r.text
    made = r.json()
    assert made["keyType"] == pair.key_type and made["secretKey"] is None
    return str(made["apiKey"])


def refused_creation(web: httpx.Client, **body: Any) -> dict[str, Any]:
    r = web.post("/api/web/apikeys", json={"label": "bot", **body}, headers=WEB)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == -1130
    return dict(r.json())


def now_ms() -> int:
    return int(time.time() * 1000)


def signed_query(pair: KeyPair, params: dict[str, Any]) -> str:
    """The query string with timestamp and the URL-encoded base64 signature of the rest."""
    query = urlencode({**params, "timestamp": now_ms()})
    return f"{query}&signature={quote(pair.sign(query.encode()), safe='')}"


def test_key_creation_checks_the_public_key_and_lists_the_type(web: httpx.Client) -> None:
    ed, rsa = ed25519_pair(), rsa_pair()
    assert "private key" in refused_creation(web, keyType="ED25519", publicKey=ed.private_pem)["msg"]
    assert (
        "not a valid PEM"
        in refused_creation(
            web, keyType="ED25519", publicKey="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
        )["msg"]
    )
    assert "required" in refused_creation(web, keyType="RSA")["msg"]
    assert "not an Ed25519 key" in refused_creation(web, keyType="ED25519", publicKey=rsa.public_pem)["msg"]
    assert "not an RSA key" in refused_creation(web, keyType="RSA", publicKey=ed.public_pem)["msg"]
    assert (
        "at least 2048 bits"
        in refused_creation(web, keyType="RSA", publicKey=rsa_pair(1024).public_pem)["msg"]
    )
    assert "HMAC" in refused_creation(web, keyType="HMAC", publicKey=ed.public_pem)["msg"]
    assert "Key type" in refused_creation(web, keyType="DSA", publicKey=ed.public_pem)["msg"]

    ed_key, rsa_key = register(web, ed), register(web, rsa)
    r = web.post("/api/web/apikeys", json={"label": "plain"}, headers=WEB)
    assert r.json()["keyType"] == "HMAC" and len(r.json()["secretKey"]) == 64
    listed = {k["apiKey"]: k["keyType"] for k in web.get("/api/web/apikeys").json()}
    assert listed == {ed_key: "ED25519", rsa_key: "RSA", r.json()["apiKey"]: "HMAC"}
    assert all("secretKey" not in k and "publicKey" not in k for k in web.get("/api/web/apikeys").json())


@pytest.mark.parametrize("key_type", ASYMMETRIC)
def test_signed_rest_in_query_and_body(stack: Stack, web: httpx.Client, key_type: str) -> None:
    pair = new_pair(key_type)
    api_key = register(web, pair)
    headers = {"X-MBX-APIKEY": api_key}
    with httpx.Client(base_url=stack.url, timeout=30, headers=headers) as rest:
        account = rest.get(f"/api/v3/account?{signed_query(pair, {'omitZeroBalances': 'true'})}")
        assert account.status_code == 200, account.text
        assert {b["asset"]: b["free"] for b in account.json()["balances"]}["USDT"] == "10000.00000000"

        order = {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "price": "20000",
            "quantity": "0.001",
        }
        body = signed_query(pair, order)  # the order fast path reads the form body
        placed = rest.post(
            "/api/v3/order", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert placed.status_code == 200, placed.text
        assert placed.json()["status"] == "NEW"
        cancel = rest.delete(
            f"/api/v3/order?{signed_query(pair, {'symbol': 'BTCUSDT', 'orderId': placed.json()['orderId']})}"
        )
        assert cancel.status_code == 200 and cancel.json()["status"] == "CANCELED", cancel.text

        # A base64 signature sent without URL-encoding: its '+' arrive as spaces and still count.
        query = urlencode({"timestamp": now_ms()})
        signature = pair.sign(query.encode())
        while "+" not in signature:  # Ed25519 signatures are deterministic: vary the payload
            query = urlencode({"timestamp": now_ms(), "recvWindow": 5000 + len(signature) % 7})
            signature = pair.sign(query.encode())
            time.sleep(0.002)
        assert rest.get(f"/api/v3/account?{query}&signature={signature}").status_code == 200

        # Another payload's signature, the other key type's signature, and garbage: -1022.
        other = signed_query(pair, {"omitZeroBalances": "false"}).rpartition("&signature=")[2]
        for bad in (other, quote(new_pair(key_type).sign(query.encode()), safe=""), "not-base64!", "00" * 32):
            r = rest.get(f"/api/v3/account?{query}&signature={bad}")
            assert (r.status_code, r.json()) == (400, BAD_SIGNATURE), bad


@pytest.mark.parametrize("key_type", ASYMMETRIC)
def test_python_binance_private_key(stack: Stack, web: httpx.Client, key_type: str) -> None:
    pair = new_pair(key_type)
    client = Client(register(web, pair), private_key=pair.private_pem, ping=False)
    client.API_URL = f"{stack.url}/api"
    assert client.get_asset_balance(asset="USDT")["free"] == "10000.00000000"
    order = client.create_order(
        symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC", price="20000", quantity="0.001"
    )
    assert order["status"] == "NEW"
    assert [o["orderId"] for o in client.get_open_orders(symbol="BTCUSDT")] == [order["orderId"]]
    assert client.cancel_order(symbol="BTCUSDT", orderId=order["orderId"])["status"] == "CANCELED"
    stranger = Client(register(web, new_pair(key_type)), private_key=pair.private_pem, ping=False)
    stranger.API_URL = f"{stack.url}/api"
    with pytest.raises(BinanceAPIException) as failure:
        stranger.get_account()
    assert failure.value.code == -1022


def test_ccxt_with_an_ed25519_secret(stack: Stack, web: httpx.Client) -> None:
    pair = ed25519_pair()
    exchange = ccxt_exchange(
        stack.url, register(web, pair), pair.private_pem
    )  # ccxt: a PEM secret is Ed25519
    assert exchange.fetch_balance()["free"]["USDT"] == 10000.0
    order = exchange.create_order("BTC/USDT", "limit", "buy", 0.001, 20000)
    assert order["status"] == "open"
    assert exchange.cancel_order(order["id"], "BTC/USDT")["status"] == "canceled"


@pytest.mark.parametrize("key_type", ASYMMETRIC)
def test_python_binance_ws_api_private_key(stack: Stack, web: httpx.Client, key_type: str) -> None:
    """python-binance signs its WebSocket API requests with the private key too (per request)."""
    pair = new_pair(key_type)
    api_key = register(web, pair)

    async def scenario() -> None:
        client = AsyncClient(api_key, private_key=pair.private_pem)
        client.API_URL = f"{stack.url}/api"
        client.ws_api = WebsocketAPI(url=ws_url(stack))
        try:
            order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
            placed = await client.ws_create_order(**order, price="20000", quantity="0.001")
            assert placed["status"] == "NEW"
            account = await client.ws_get_account()
            assert {b["asset"]: b["locked"] for b in account["balances"]}["USDT"] == "20.00000000"
            assert (await client.ws_cancel_order(symbol="BTCUSDT", orderId=placed["orderId"]))[
                "status"
            ] == "CANCELED"
        finally:
            await client.close_connection()

    asyncio.run(scenario())


def ws_url(stack: Stack) -> str:
    return stack.url.replace("http://", "ws://") + "/ws-api/v3"


def ws_signed(pair: KeyPair, api_key: str, params: dict[str, Any]) -> dict[str, Any]:
    """`params` with apiKey, timestamp and the base64 signature of the sorted `name=value&...`."""
    signed = {"apiKey": api_key, "timestamp": now_ms(), **params}
    payload = "&".join(f"{k}={v}" for k, v in sorted(signed.items()))
    return {**signed, "signature": pair.sign(payload.encode())}


def test_ws_api_signatures_and_session_logon(stack: Stack, web: httpx.Client) -> None:
    ed, rsa = ed25519_pair(), rsa_pair()
    other_user = signed_up(stack)
    ed_key, rsa_key = register(web, ed), register(other_user, rsa)
    other_user.close()
    hmac_key = web.post("/api/web/apikeys", json={"label": "hmac"}, headers=WEB).json()["apiKey"]
    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "20000",
        "quantity": "0.001",
    }

    async def scenario() -> None:
        client = await WsApiClient.open(ws_url(stack))
        try:
            for pair, key in ((ed, ed_key), (rsa, rsa_key)):  # per-request signatures
                status = await client.call(
                    "account.status", ws_signed(pair, key, {"omitZeroBalances": "true"})
                )
                assert status["status"] == 200, status
            forged = {**ws_signed(ed, ed_key, {}), "signature": ed.sign(b"timestamp=1")}
            bad = await client.call("account.status", forged)
            assert (bad["status"], bad["error"]) == (400, BAD_SIGNATURE)

            refused = await client.call("session.logon", ws_signed(rsa, rsa_key, {}))
            assert (refused["status"], refused["error"]["code"]) == (400, -4056)
            assert "RSA" in refused["error"]["msg"]
            unsigned = {"apiKey": hmac_key, "timestamp": now_ms(), "signature": "00" * 32}
            assert (await client.call("session.logon", unsigned))["error"]["code"] == -1022

            logon = await client.call("session.logon", ws_signed(ed, ed_key, {}))
            assert logon["status"] == 200 and logon["result"]["apiKey"] == ed_key, logon
            assert logon["result"]["authorizedSince"] >= logon["result"]["connectedSince"]
            status = (await client.call("session.status"))["result"]
            assert status["apiKey"] == ed_key
            # Logged on: no apiKey, no signature; timestamp still checked.
            placed = await client.call("order.place", {**order, "timestamp": now_ms()})
            assert placed["status"] == 200 and placed["result"]["status"] == "NEW", placed
            stale = await client.call(
                "openOrders.status", {"symbol": "BTCUSDT", "timestamp": now_ms() - 60_000}
            )
            assert stale["error"]["code"] == -1021
            opened = await client.call("openOrders.status", {"symbol": "BTCUSDT", "timestamp": now_ms()})
            assert [o["orderId"] for o in opened["result"]] == [placed["result"]["orderId"]]
            # A request signed with another key is that key's, logged on or not.
            theirs = await client.call("openOrders.status", ws_signed(rsa, rsa_key, {"symbol": "BTCUSDT"}))
            assert theirs["result"] == []
            # userDataStream.subscribe takes no parameter, as Binance's own SDK sends it.
            sub = await client.call("userDataStream.subscribe")
            assert sub["status"] == 200 and "subscriptionId" in sub["result"], sub
            cancelled = await client.call(
                "openOrders.cancelAll", {"symbol": "BTCUSDT", "timestamp": now_ms()}
            )
            assert cancelled["status"] == 200, cancelled

            # Revoked while logged on: the connection's requests are refused from then on.
            key_id = next(k["id"] for k in web.get("/api/web/apikeys").json() if k["apiKey"] == ed_key)
            assert web.delete(f"/api/web/apikeys/{key_id}", headers=WEB).status_code == 200
            revoked = await client.call("openOrders.status", {"symbol": "BTCUSDT", "timestamp": now_ms()})
            assert (revoked["status"], revoked["error"]["code"]) == (401, -2015), revoked
            assert (await client.call("session.status"))["result"]["apiKey"] == ed_key

            out = await client.call("session.logout")
            assert out["result"]["apiKey"] is None and out["result"]["authorizedSince"] is None
            after = await client.call("openOrders.status", {"symbol": "BTCUSDT", "timestamp": now_ms()})
            assert (after["status"], after["error"]["code"]) == (400, -1102)
        finally:
            await client.close()

    asyncio.run(scenario())


def grpc_metadata(pair: KeyPair, api_key: str, method: str, request: Any) -> list[tuple[str, str]]:
    """docs/grpc.md's signed metadata with a base64 signature."""
    timestamp = str(now_ms())
    payload = f"{TRADING}{method}\n{timestamp}\n\n".encode() + request.SerializeToString(deterministic=True)
    return [
        ("x-mbx-apikey", api_key),
        ("x-mbx-timestamp", timestamp),
        ("x-mbx-signature", pair.sign(payload)),
    ]


@pytest.mark.parametrize("key_type", ASYMMETRIC)
def test_grpc_with_each_key_type(stack: Stack, web: httpx.Client, key_type: str) -> None:
    pair = new_pair(key_type)
    api_key = register(web, pair)

    async def scenario() -> None:
        async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
            trading = tgrpc.TradingStub(channel)
            place = tpb.PlaceOrderRequest(
                symbol="BTCUSDT",
                side=apb.SIDE_BUY,
                type=apb.ORDER_TYPE_LIMIT,  # type: ignore[arg-type]
                time_in_force=apb.TIME_IN_FORCE_GTC,
                price="20000",
                quantity="0.001",
            )
            placed = await trading.PlaceOrder(
                place, metadata=grpc_metadata(pair, api_key, "PlaceOrder", place)
            )
            assert placed.status == apb.ORDER_STATUS_NEW
            balances = tpb.GetBalancesRequest()
            got = await trading.GetBalances(
                balances, metadata=grpc_metadata(pair, api_key, "GetBalances", balances)
            )
            assert {b.asset: b.locked for b in got.balances}["USDT"] == "20.00000000"
            other = tpb.GetBalancesRequest(omit_zero_balances=True)
            forged = grpc_metadata(pair, api_key, "GetBalances", other)  # signs another message
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await trading.GetBalances(balances, metadata=forged)
            assert api_error(failure.value)[0] == -1022

    asyncio.run(scenario())
