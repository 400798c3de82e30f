"""A market halted and resumed through the admin API, as a bot sees it: ccxt with only its URLs
pointed at the stack (no options, as tests/e2e/test_sapi.py), the WebSocket API and gRPC.

While ETHUSDT is halted, ccxt's markets say it is inactive, a new order raises the exception
Binance's {-1013, "Market is closed."} maps to (ccxt.MarketClosed) on every API, with no funds
locked; the order resting from before can be queried and cancelled. After resume an order is
accepted again."""

import asyncio
import re
import uuid
from collections.abc import Iterator
from typing import Any

import ccxt  # type: ignore[import-untyped]
import grpc
import httpx
import pytest

from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import sign_up
from tests.grpc_client import GrpcTrader, api_error
from tests.wsapi_client import WsApiClient, sign

SYMBOL, PAIR = "ETHUSDT", "ETH/USDT"
TOKEN = "e2e-" + uuid.uuid4().hex
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CLOSED = (-1013, "Market is closed.")


@pytest.fixture(scope="module")
def halt_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL], ADMIN_TOKEN=TOKEN) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def bot(stack: Stack, api_key: str, secret: str) -> ccxt.binance:
    """ccxt's binance with default options, every API URL moved from Binance's hosts to the stack."""
    client = ccxt.binance({"apiKey": api_key, "secret": secret})
    client.urls["api"] = {
        name: re.sub(r"^https://[^/]+", stack.url, url) for name, url in client.urls["api"].items()
    }
    return client


def admin(stack: Stack, action: str, **body: str) -> dict[str, Any]:
    r = httpx.post(
        f"{stack.url}/admin/v1/markets/{SYMBOL}/{action}", headers=ADMIN, json=body or None, timeout=30
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def refused_elsewhere(
    stack: Stack, api_key: str, secret: str
) -> tuple[tuple[int, str], tuple[int, str]]:
    """A new order's error over the WebSocket API and over gRPC."""
    params = {
        "symbol": SYMBOL,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "1000",
        "quantity": "0.01",
    }
    ws = await WsApiClient.open(stack.url.replace("http://", "ws://") + "/ws-api/v3")
    try:
        answer = await ws.call("order.place", sign(api_key, secret, params))
    finally:
        await ws.close()
    assert answer["status"] == 400, answer
    ws_error = (answer["error"]["code"], answer["error"]["msg"])
    async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
        request = tpb.PlaceOrderRequest(
            symbol=SYMBOL,
            side=apb.SIDE_BUY,
            type=apb.ORDER_TYPE_LIMIT,  # type: ignore[arg-type]
            time_in_force=apb.TIME_IN_FORCE_GTC,
            price="1000",
            quantity="0.01",
        )
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await GrpcTrader(channel, api_key, secret).call("PlaceOrder", request)
    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return ws_error, api_error(failed.value)


def test_a_bot_sees_the_halt_as_on_binance(halt_stack: Stack) -> None:
    trader = sign_up(halt_stack.url)
    exchange = bot(halt_stack, trader.api_key, trader.secret)
    try:
        assert exchange.load_markets()[PAIR]["active"] is True
        resting = exchange.create_order(PAIR, "limit", "buy", 0.01, 1000)
        assert resting["status"] == "open"

        halted = admin(halt_stack, "halt", reason="Scheduled maintenance")
        assert (halted["status"], halted["reason"]) == ("HALT", "Scheduled maintenance")
        markets = {m["symbol"]: m for m in exchange.fetch_markets()}
        assert markets[PAIR]["active"] is False and markets["BTC/USDT"]["active"] is True
        free_before = exchange.fetch_balance()["USDT"]
        with pytest.raises(ccxt.MarketClosed, match="Market is closed"):
            exchange.create_order(PAIR, "limit", "buy", 0.01, 1000)
        with pytest.raises(ccxt.MarketClosed):
            exchange.create_order(PAIR, "market", "sell", 0.01)
        assert asyncio.run(refused_elsewhere(halt_stack, trader.api_key, trader.secret)) == (CLOSED, CLOSED)
        assert exchange.fetch_balance()["USDT"] == free_before  # nothing was reserved
        assert exchange.fetch_order(resting["id"], PAIR)["status"] == "open"
        cancelled = exchange.cancel_order(resting["id"], PAIR)
        assert cancelled["status"] == "canceled"
        assert exchange.fetch_open_orders(PAIR) == []

        assert admin(halt_stack, "resume")["status"] == "TRADING"
        exchange.load_markets(reload=True)
        assert exchange.markets[PAIR]["active"] is True
        again = exchange.create_order(PAIR, "limit", "buy", 0.01, 1000)
        assert again["status"] == "open"
        assert exchange.cancel_order(again["id"], PAIR)["status"] == "canceled"
    finally:
        exchange.close()
    metrics = httpx.get(f"{halt_stack.url}/metrics", timeout=30).text
    assert 'exchange_admin_actions_total{action="halt",outcome="ok"} 1.0' in metrics
    assert 'exchange_admin_actions_total{action="resume",outcome="ok"} 1.0' in metrics
    gateway_log = "".join(p.read_text() for p in halt_stack.log_dir.glob("gateway*.log"))
    assert 'admin action="halt" target="ETHUSDT" outcome="ok"' in gateway_log
