"""The admin API and a market's halt inside one gateway, in-process on the real Redis and
PostgreSQL (no engine: a refused order never reaches one): the token guards every action and
without one the API does not exist; a halt shows in exchangeInfo, refuses new orders with
Binance's {-1013, "Market is closed."} before any funds are locked, reaches another gateway
process's view through Redis, and is logged and counted; resume restores trading."""

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from fastapi import FastAPI
from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.marketstatus import TradingStatus
from gateway.app import create_app, server_app
from gateway.marketstatus import MarketStatuses
from gateway.settings import GatewaySettings
from tests.client import AsyncTrader

TOKEN = "t-" + uuid.uuid4().hex
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
INDEX = "<!doctype html><title>web app</title>"
SYMBOL = "ETHUSDT"
CLOSED = {"code": -1013, "msg": "Market is closed."}


def gateway(pg_dsn: str, redis_url: str, key_prefix: str, web_dir: Path, admin_token: str) -> FastAPI:
    (web_dir / "index.html").write_text(INDEX)
    return create_app(
        GatewaySettings(
            database_url=pg_dsn,
            redis_url=redis_url,
            key_prefix=key_prefix,
            secret_key=Fernet.generate_key().decode(),
            grpc_port=0,
            web_dir=str(web_dir),
            admin_token=admin_token,
        )
    )


@pytest_asyncio.fixture
async def http(
    pg_dsn: str, redis_url: str, key_prefix: str, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    app = gateway(pg_dsn, redis_url, key_prefix, tmp_path, TOKEN)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=server_app(app))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as c:
            yield c


async def new_trader(http: httpx.AsyncClient) -> AsyncTrader:
    email = f"admin-{uuid.uuid4().hex[:12]}@example.com"
    r = await http.post("/api/web/signup", json={"email": email, "password": "correct horse battery"})
    assert r.status_code == 200, r.text
    user_id = r.json()["userId"]
    r = await http.post("/api/web/apikeys", json={"label": "a"}, headers={"X-Requested-With": "exchange-web"})
    assert r.status_code == 200, r.text
    http.cookies.clear()
    return AsyncTrader("", user_id, r.json()["apiKey"], r.json()["secretKey"], http)


async def balances(trader: AsyncTrader) -> dict[str, tuple[str, str]]:
    status, account = await trader.call("GET", "/api/v3/account")
    assert status == 200, account
    return {b["asset"]: (b["free"], b["locked"]) for b in account["balances"]}


async def status_of(http: httpx.AsyncClient, symbol: str) -> str:
    r = await http.get("/api/v3/exchangeInfo", params={"symbol": symbol})
    assert r.status_code == 200, r.text
    return str(r.json()["symbols"][0]["status"])


def limit_buy() -> dict[str, str]:
    return {
        "symbol": SYMBOL,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "1000",
        "quantity": "0.01",
    }


async def test_without_a_token_there_is_no_admin_api(
    pg_dsn: str, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    app = gateway(pg_dsn, redis_url, key_prefix, tmp_path, "")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=server_app(app))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            for method, path in (("GET", "/admin/v1/markets"), ("POST", f"/admin/v1/markets/{SYMBOL}/halt")):
                r = await http.request(method, path, headers=ADMIN)
                assert r.status_code == 404 and INDEX not in r.text, (path, r.text)
            assert await status_of(http, SYMBOL) == "TRADING"


def test_a_short_token_is_refused_at_start(
    pg_dsn: str, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="at least 16"):
        gateway(pg_dsn, redis_url, key_prefix, tmp_path, "short")


async def test_only_the_token_opens_the_admin_api(http: httpx.AsyncClient) -> None:
    halt = f"/admin/v1/markets/{SYMBOL}/halt"
    for headers in ({}, {"Authorization": "Bearer wrong-token-of-some-length"}, {"Authorization": TOKEN}):
        r = await http.post(halt, headers=headers)
        assert (r.status_code, r.json()["code"]) == (401, -1002), r.text
    assert await status_of(http, SYMBOL) == "TRADING"
    unknown = await http.post("/admin/v1/markets/NOPEUSDT/halt", headers=ADMIN)
    assert (unknown.status_code, unknown.json()["code"]) == (400, -1121)
    trading = await http.post(halt, headers=ADMIN, json={"status": "TRADING"})
    assert (trading.status_code, trading.json()["code"]) == (400, -1130)
    listed = await http.get("/admin/v1/markets", headers=ADMIN)
    assert listed.status_code == 200
    assert {m["symbol"]: m["status"] for m in listed.json()}[SYMBOL] == "TRADING"
    bare = await http.post(halt, headers=ADMIN)  # no body: HALT, no reason
    assert (bare.status_code, bare.json()["status"], bare.json()["reason"]) == (200, "HALT", ""), bare.text
    listed = await http.get("/admin/v1/markets", headers=ADMIN)
    assert {m["symbol"]: m["status"] for m in listed.json()}[SYMBOL] == "HALT"
    assert (await http.post(f"/admin/v1/markets/{SYMBOL}/resume", headers=ADMIN)).json()[
        "status"
    ] == "TRADING"
    assert (await http.get("/openapi.json")).status_code == 200  # the admin routes documented too
    metrics = (await http.get("/metrics")).text
    assert 'exchange_admin_actions_total{action="halt",outcome="unauthorized"} 3.0' in metrics
    assert 'exchange_admin_actions_total{action="halt",outcome="invalid"} 2.0' in metrics


async def test_halt_refuses_new_orders_until_resume(
    http: httpx.AsyncClient, redis_url: str, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    trader = await new_trader(http)
    before = await balances(trader)
    # Another gateway process's view of the statuses, through Redis alone.
    other_redis: Redis = Redis.from_url(redis_url)
    other = MarketStatuses(other_redis, Keys(key_prefix), [SYMBOL, "BTCUSDT"])
    await other.start()
    try:
        caplog.set_level(logging.INFO, logger="gateway.admin")
        started = time.perf_counter()
        r = await http.post(
            f"/admin/v1/markets/{SYMBOL}/halt",
            headers=ADMIN,
            json={"status": "BREAK", "reason": "Maintenance"},
        )
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["reason"]) == ("BREAK", "Maintenance")
        while other.get(SYMBOL).status is not TradingStatus.BREAK:
            assert time.perf_counter() - started < 5, "the other gateway never saw the halt"
            await asyncio.sleep(0.001)
        seen_ms = 1000 * (time.perf_counter() - started)
        print(f"halt seen by another gateway process {seen_ms:.1f} ms after the request was sent")
        assert 'admin action="halt" target="ETHUSDT" outcome="ok"' in caplog.text
        assert '"reason": "Maintenance"' in caplog.text

        assert await status_of(http, SYMBOL) == "BREAK" and await status_of(http, "BTCUSDT") == "TRADING"
        only = (await http.get("/api/v3/exchangeInfo", params={"symbolStatus": "BREAK"})).json()
        assert [s["symbol"] for s in only["symbols"]] == [SYMBOL]
        bad = await http.get("/api/v3/exchangeInfo", params={"symbolStatus": "NOPE"})
        assert (bad.status_code, bad.json()["code"]) == (400, -1122)
        combo = await http.get("/api/v3/exchangeInfo", params={"symbolStatus": "BREAK", "symbol": SYMBOL})
        assert (combo.status_code, combo.json()["code"]) == (400, -1128)

        for path in ("/api/v3/order", "/api/v3/order/test"):
            status, body = await trader.call("POST", path, **limit_buy())
            assert (status, body) == (400, CLOSED), path
        assert await balances(trader) == before  # nothing was reserved
        status, open_orders = await trader.call("GET", "/api/v3/openOrders", symbol=SYMBOL)
        assert (status, open_orders) == (200, [])
        metrics = (await http.get("/metrics")).text
        assert 'exchange_market_status{status="BREAK",symbol="ETHUSDT"} 1.0' in metrics
        assert 'exchange_admin_actions_total{action="halt",outcome="ok"} 1.0' in metrics

        r = await http.post(f"/admin/v1/markets/{SYMBOL}/resume", headers=ADMIN)
        assert r.status_code == 200 and r.json()["status"] == "TRADING", r.text
        started = time.perf_counter()
        while not other.get(SYMBOL).trading:
            assert time.perf_counter() - started < 5, "the other gateway never saw the resume"
            await asyncio.sleep(0.001)
        assert await status_of(http, SYMBOL) == "TRADING"
        assert await trader.call("POST", "/api/v3/order/test", **limit_buy()) == (200, {})
        metrics = (await http.get("/metrics")).text
        assert 'exchange_market_status{status="TRADING",symbol="ETHUSDT"} 1.0' in metrics
        assert 'exchange_admin_actions_total{action="resume",outcome="ok"} 1.0' in metrics
    finally:
        await other.stop()
        await other_redis.aclose()
