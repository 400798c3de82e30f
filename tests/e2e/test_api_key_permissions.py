"""API key permissions and trusted IPs against the running order path, with real clients: ccxt
over REST (the order fast path and FastAPI's routes) and the gRPC API. Every client here connects
from 127.0.0.1."""

import uuid
from collections.abc import Iterator
from typing import Any

import ccxt  # type: ignore[import-untyped]
import grpc
import httpx
import pytest

from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from launcher.stack import Stack
from tests.client import ApiFailure, Trader
from tests.e2e.test_clients import ccxt_exchange
from tests.grpc_client import GrpcTrader, api_error

WEB = {"X-Requested-With": "exchange-web"}
REJECTED = {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}


@pytest.fixture
def web(stack: Stack) -> Iterator[httpx.Client]:
    """A signed-up user's web session (demo funds)."""
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        email = f"u{uuid.uuid4().hex[:12]}@example.com"
        r = client.post("/api/web/signup", json={"email": email, "password": "correct horse battery"})
        assert r.status_code == 200, r.text
        yield client


def new_key(web: httpx.Client, **settings: Any) -> dict[str, Any]:
    r = web.post("/api/web/apikeys", json={"label": "bot", **settings}, headers=WEB)
    assert r.status_code == 200, r.text
    return dict(r.json())


def edit(web: httpx.Client, key: dict[str, Any], **settings: Any) -> dict[str, Any]:
    r = web.patch(f"/api/web/apikeys/{key['id']}", json=settings, headers=WEB)
    assert r.status_code == 200, r.text
    return dict(r.json())


def trader(stack: Stack, key: dict[str, Any]) -> Trader:
    return Trader(stack.url, 0, key["apiKey"], key["secretKey"], httpx.Client(timeout=30))


def refused(call: Any, *args: Any, **params: Any) -> None:
    with pytest.raises(ApiFailure) as failure:
        call(*args, **params)
    assert (failure.value.status, failure.value.body) == (401, REJECTED)


def test_a_read_only_key_reads_with_ccxt_and_cannot_trade(stack: Stack, web: httpx.Client) -> None:
    key = new_key(web, canTrade=False)
    exchange = ccxt_exchange(stack.url, key["apiKey"], key["secretKey"])
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):  # ccxt's binance: -2015
        exchange.create_order("BTCUSDT", "limit", "buy", 0.001, 20000)
    assert exchange.fetch_balance()["free"]["USDT"] == 10000.0
    assert exchange.fetch_open_orders("BTC/USDT") == []
    # After one successful private call ccxt reads -2015 as a temporary ban (its workaround for
    # Binance): the same refusal then surfaces as DDoSProtection.
    with pytest.raises(ccxt.DDoSProtection, match="-2015"):
        exchange.create_order("BTCUSDT", "limit", "buy", 0.001, 20000)

    rest = trader(stack, key)
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    refused(rest.call, "POST", "/api/v3/order", **order, price="20000", quantity="0.001")  # fast path
    refused(rest.call, "POST", "/api/v3/order/test", **order, price="20000", quantity="0.001")
    refused(rest.call, "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=1)
    refused(rest.call, "DELETE", "/api/v3/openOrders", symbol="BTCUSDT")
    refused(
        rest.call,
        "POST",
        "/api/v3/order/cancelReplace",
        **order,
        cancelReplaceMode="STOP_ON_FAILURE",
        cancelOrderId=1,
        price="20000",
        quantity="0.001",
    )
    assert rest.call("GET", "/api/v3/myTrades", symbol="BTCUSDT") == []
    assert rest.call("GET", "/api/v3/allOrders", symbol="BTCUSDT") == []
    stream = rest.http.post(f"{stack.url}/api/v3/userDataStream", headers={"X-MBX-APIKEY": key["apiKey"]})
    assert stream.status_code == 200 and stream.json()["listenKey"]
    assert rest.balances()["USDT"] == ("10000.00000000", "0.00000000")  # nothing was placed


def test_trusted_ips_decide_who_may_use_a_key(stack: Stack, web: httpx.Client) -> None:
    elsewhere = new_key(web, ipRestrict=["203.0.113.7", "2001:db8::1"])
    exchange = ccxt_exchange(stack.url, elsewhere["apiKey"], elsewhere["secretKey"])
    with pytest.raises(ccxt.AuthenticationError, match="-2015"):
        exchange.fetch_balance()
    refused(
        trader(stack, elsewhere).call,
        "POST",
        "/api/v3/order",
        symbol="BTCUSDT",
        side="BUY",
        type="MARKET",
        quantity="0.001",
    )

    here = new_key(web, ipRestrict=["203.0.113.7", "127.0.0.1"])
    exchange = ccxt_exchange(stack.url, here["apiKey"], here["secretKey"])
    assert exchange.fetch_balance()["free"]["BTC"] == 0.5
    placed = exchange.create_order("BTCUSDT", "limit", "buy", 0.001, 20000)
    assert placed["status"] == "open"
    assert exchange.cancel_order(placed["id"], "BTCUSDT")["status"] == "canceled"

    edit(web, here, ipRestrict=["203.0.113.7"])  # this gateway evicts its cached entry at once
    refused(trader(stack, here).call, "GET", "/api/v3/account")
    edit(web, here, ipRestrict=[])
    assert trader(stack, here).balances()["BTC"] == ("0.50000000", "0.00000000")


def test_toggling_the_trading_permission_takes_effect(stack: Stack, web: httpx.Client) -> None:
    key = new_key(web)
    rest = trader(stack, key)
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}
    placed = rest.call("POST", "/api/v3/order", **order, price="20000")
    assert edit(web, key, canTrade=False)["canTrade"] is False
    refused(rest.call, "POST", "/api/v3/order", **order, price="20001")
    refused(rest.call, "DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"])
    assert [o["orderId"] for o in rest.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")] == [
        placed["orderId"]
    ]
    assert edit(web, key, canTrade=True)["canTrade"] is True
    assert (
        rest.call("DELETE", "/api/v3/order", symbol="BTCUSDT", orderId=placed["orderId"])["status"]
        == "CANCELED"
    )
    listed = {k["id"]: k for k in web.get("/api/web/apikeys").json()}
    assert (listed[key["id"]]["canTrade"], listed[key["id"]]["ipRestrict"]) == (True, [])


async def test_grpc_applies_the_same_rules(stack: Stack, web: httpx.Client) -> None:
    read_only = new_key(web, canTrade=False)
    elsewhere = new_key(web, ipRestrict=["203.0.113.7"])
    here = new_key(web, ipRestrict=["203.0.113.7", "127.0.0.1"])
    order = tpb.PlaceOrderRequest(
        symbol="BTCUSDT",
        side=apb.SIDE_BUY,
        type=apb.ORDER_TYPE_LIMIT,
        time_in_force=apb.TIME_IN_FORCE_GTC,
        price="20000",
        quantity="0.001",
    )
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        reader = GrpcTrader(channel, read_only["apiKey"], read_only["secretKey"])
        balances = await reader.call("GetBalances", tpb.GetBalancesRequest())
        assert {b.asset: b.free for b in balances.balances}["USDT"] == "10000.00000000"
        trusted = GrpcTrader(channel, here["apiKey"], here["secretKey"])
        assert len((await trusted.call("GetBalances", tpb.GetBalancesRequest())).balances) > 0
        with pytest.raises(grpc.aio.AioRpcError) as nothing_open:  # past the checks: Binance's -2011
            await trusted.call("CancelAll", tpb.CancelAllRequest(symbol="BTCUSDT"))
        assert api_error(nothing_open.value)[0] == -2011
        for who, method, request in [
            (reader, "PlaceOrder", order),
            (reader, "CancelAll", tpb.CancelAllRequest(symbol="BTCUSDT")),
            (
                GrpcTrader(channel, elsewhere["apiKey"], elsewhere["secretKey"]),
                "GetBalances",
                tpb.GetBalancesRequest(),
            ),
        ]:
            with pytest.raises(grpc.aio.AioRpcError) as failure:
                await who.call(method, request)
            assert failure.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert api_error(failure.value) == (REJECTED["code"], REJECTED["msg"])
