"""The gateway's authentication and account layer on the real Redis and PostgreSQL.

A small app of its own (the web router plus test-only routes behind each auth dependency), served
in-process through httpx's ASGI transport: nothing listens on the network.
"""

import asyncio
import hashlib
import hmac
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any

import asyncpg
import ccxt  # type: ignore[import-untyped]
import httpx
import pytest
import pytest_asyncio
import requests
from binance.client import Client as BinanceClient  # type: ignore[import-untyped]
from cryptography.fernet import Fernet
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from botkit.account import ensure_api_key
from exchange_core.clock import now_ms
from exchange_core.db import create_pool
from exchange_core.errors import ApiError
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import load_markets
from exchange_core.pipelined import PipelinedRedis
from gateway import accounts
from gateway.accounts import parse_demo_funds
from gateway.callers import api_key_user, session_or_signed_user, signed_user
from gateway.context import GatewayContext
from gateway.keycache import ApiKeyCache, api_key_cache
from gateway.keytypes import KeyType
from gateway.keywatch import KeyWatch
from gateway.params import request_params
from gateway.principal import Principal
from gateway.routes import web
from gateway.settings import GatewaySettings
from tests.keypairs import ed25519_pair

DEMO_FUNDS = "USDT=10000,BTC=0.5"
PASSWORD = "correct horse battery"
WEB = {"X-Requested-With": "exchange-web"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

probe = APIRouter()


async def _answer(principal: Principal, request: Request) -> dict[str, Any]:
    return {"userId": principal.user_id, "via": principal.via, "params": await request_params(request)}


@probe.get("/signed-check")
async def signed_get(
    principal: Annotated[Principal, Depends(signed_user)], request: Request
) -> dict[str, Any]:
    return await _answer(principal, request)


@probe.post("/signed-check")
async def signed_post(
    principal: Annotated[Principal, Depends(signed_user)], request: Request
) -> dict[str, Any]:
    return await _answer(principal, request)


@probe.delete("/signed-check")
async def signed_delete(
    principal: Annotated[Principal, Depends(signed_user)], request: Request
) -> dict[str, Any]:
    return await _answer(principal, request)


@probe.post("/either-check")
async def either_post(
    principal: Annotated[Principal, Depends(session_or_signed_user)], request: Request
) -> dict[str, Any]:
    return await _answer(principal, request)


@probe.post("/key-check")
async def key_post(
    principal: Annotated[Principal, Depends(api_key_user)], request: Request
) -> dict[str, Any]:
    return await _answer(principal, request)


# ---------------------------------------------------------------- fixtures and helpers


@pytest_asyncio.fixture
async def ctx(pg_dsn: str, key_prefix: str, redis: "Redis") -> AsyncIterator[GatewayContext]:
    settings = GatewaySettings(
        database_url=pg_dsn,
        key_prefix=key_prefix,
        secret_key=Fernet.generate_key().decode(),
        demo_funds=DEMO_FUNDS,
    )
    pool = await create_pool(pg_dsn)
    keys = Keys(key_prefix)
    pipelined = PipelinedRedis.like(redis)
    yield GatewayContext(
        settings, redis, pool, keys, Ledger(redis, keys, pipelined), load_markets(), pipelined
    )
    await pool.close()


@pytest.fixture
def app(ctx: GatewayContext) -> FastAPI:
    app = FastAPI()
    app.include_router(web.router)
    app.include_router(probe)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    app.state.ctx = ctx
    ctx.key_watch = KeyWatch(ctx, api_key_cache(app.state))
    return app


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


def new_email() -> str:
    return f"User-{uuid.uuid4().hex[:12]}@Example.com"


async def sign_up(client: httpx.AsyncClient, email: str | None = None) -> int:
    """Sign up (the client keeps the session cookie); returns the user id."""
    r = await client.post("/api/web/signup", json={"email": email or new_email(), "password": PASSWORD})
    assert r.status_code == 200, r.text
    return int(r.json()["userId"])


async def new_key(client: httpx.AsyncClient, label: str = "bot") -> tuple[int, str, str]:
    r = await client.post("/api/web/apikeys", json={"label": label}, headers=WEB)
    assert r.status_code == 200, r.text
    body = r.json()
    return int(body["id"]), str(body["apiKey"]), str(body["secretKey"])


def sign(secret: str, total_params: str) -> str:
    return hmac.new(secret.encode(), total_params.encode(), hashlib.sha256).hexdigest()


def signed_query(secret: str, params: str) -> str:
    return f"{params}&signature={sign(secret, params)}"


def assert_error(r: httpx.Response, code: int, status: int) -> None:
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


@pytest_asyncio.fixture
async def keyed(client: httpx.AsyncClient) -> tuple[int, str, str]:
    """A signed-up user with one API key: (user id, api key, secret). The client has no cookie."""
    user_id = await sign_up(client)
    _, api_key, secret = await new_key(client)
    client.cookies.clear()
    return user_id, api_key, secret


# ---------------------------------------------------------------- accounts and sessions


async def test_signup_grants_exact_demo_funds_with_audit(
    client: httpx.AsyncClient, ctx: GatewayContext
) -> None:
    email = new_email()
    r = await client.post("/api/web/signup", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["email"] == email.lower()
    user_id = r.json()["userId"]
    assert await ctx.ledger.balances(user_id) == {"USDT": (10_000 * 10**8, 0), "BTC": (50_000_000, 0)}
    rows = await ctx.pool.fetch("SELECT asset, amount, reason FROM deposits WHERE user_id = $1", user_id)
    assert sorted((r["asset"], r["amount"], r["reason"]) for r in rows) == [
        ("BTC", Decimal(50_000_000), "signup"),
        ("USDT", Decimal(10_000 * 10**8), "signup"),
    ]
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie and "path=/" in set_cookie
    me = await client.get("/api/web/me")
    assert me.json() == {"userId": user_id, "email": email.lower()}


async def test_signup_refuses_duplicate_email_in_any_case(client: httpx.AsyncClient) -> None:
    email = new_email()
    await sign_up(client, email)
    r = await client.post("/api/web/signup", json={"email": email.upper(), "password": PASSWORD})
    assert_error(r, -1130, 400)
    assert "already exists" in r.json()["msg"]


@pytest.mark.parametrize(
    ("email", "password"), [("not-an-email", PASSWORD), ("a b@c.d", PASSWORD), (None, "short7!")]
)
async def test_signup_validates_email_and_password(
    client: httpx.AsyncClient, email: str | None, password: str
) -> None:
    r = await client.post("/api/web/signup", json={"email": email or new_email(), "password": password})
    assert_error(r, -1130, 400)


async def test_login_with_good_and_bad_credentials(client: httpx.AsyncClient) -> None:
    email = new_email()
    user_id = await sign_up(client, email)
    client.cookies.clear()
    for bad in ({"email": email, "password": PASSWORD + "x"}, {"email": new_email(), "password": PASSWORD}):
        r = await client.post("/api/web/login", json=bad)
        assert_error(r, -1002, 401)
        assert r.json()["msg"] == "Invalid email or password."
    assert_error(await client.get("/api/web/me"), -1002, 401)
    r = await client.post("/api/web/login", json={"email": email.upper(), "password": PASSWORD})
    assert r.status_code == 200 and r.json()["userId"] == user_id
    assert (await client.get("/api/web/me")).json()["userId"] == user_id


async def test_logout_kills_the_session(client: httpx.AsyncClient, redis: "Redis", keys: Keys) -> None:
    await sign_up(client)
    token = client.cookies["session"]
    assert await redis.exists(keys.session(token))
    ttl = await redis.ttl(keys.session(token))
    assert 7 * 86_400 - 60 < ttl <= 7 * 86_400
    assert (await client.post("/api/web/logout", headers=WEB)).status_code == 200
    assert not await redis.exists(keys.session(token))
    assert "session" not in client.cookies
    client.cookies.set("session", token)  # the old cookie, replayed
    assert_error(await client.get("/api/web/me"), -1002, 401)


async def test_cookie_changes_need_the_csrf_header(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    assert_error(await client.post("/api/web/apikeys", json={"label": "x"}), -1002, 403)
    assert_error(await client.post("/api/web/logout"), -1002, 403)
    assert_error(await client.post("/either-check"), -1002, 403)
    r = await client.post("/either-check", headers=WEB)
    assert r.status_code == 200 and r.json()["via"] == "session"


async def test_api_key_secret_is_shown_once(client: httpx.AsyncClient, ctx: GatewayContext) -> None:
    await sign_up(client)
    key_id, api_key, secret = await new_key(client, "my bot")
    assert len(api_key) == len(secret) == 64 and api_key.isalnum() and secret.isalnum()
    r = await client.get("/api/web/apikeys")
    assert r.status_code == 200
    [listed] = r.json()
    assert listed["id"] == key_id and listed["apiKey"] == api_key and listed["label"] == "my bot"
    assert abs(listed["createdAt"] - now_ms()) < 60_000
    assert secret not in r.text and "secret" not in r.text.lower()
    stored = await ctx.pool.fetchval("SELECT secret_enc FROM api_keys WHERE id = $1", key_id)
    assert secret.encode() not in bytes(stored)
    assert Fernet(ctx.settings.secret_key.encode()).decrypt(bytes(stored)) == secret.encode()


@pytest.mark.parametrize("label", ["bot\\u0000", "bot\\ud800", "\\u0007", "tab\\there"])
async def test_api_key_label_must_be_printable(client: httpx.AsyncClient, label: str) -> None:
    """A NUL or a lone surrogate (`label` as JSON text) never reaches PostgreSQL: -1130, and no
    key is made."""
    await sign_up(client)
    headers = {**WEB, "Content-Type": "application/json"}
    r = await client.post("/api/web/apikeys", content=f'{{"label": "{label}"}}', headers=headers)
    assert_error(r, -1130, 400)
    assert (await client.get("/api/web/apikeys")).json() == []


async def test_revoked_key_is_refused(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    key_id, api_key, secret = await new_key(client)
    query = signed_query(secret, f"timestamp={now_ms()}")
    assert (await client.get(f"/signed-check?{query}", headers={"X-MBX-APIKEY": api_key})).status_code == 200
    r = await client.delete(f"/api/web/apikeys/{key_id}", headers=WEB)
    assert r.status_code == 200
    assert (await client.get("/api/web/apikeys")).json() == []
    query = signed_query(secret, f"timestamp={now_ms()}")
    r = await client.get(f"/signed-check?{query}", headers={"X-MBX-APIKEY": api_key})
    assert_error(r, -2015, 401)
    assert_error(await client.delete(f"/api/web/apikeys/{key_id}", headers=WEB), -1130, 404)


async def test_revocation_elsewhere_takes_effect_when_the_cache_expires(
    client: httpx.AsyncClient, app: FastAPI, ctx: GatewayContext
) -> None:
    user_id = await sign_up(client)
    key_id, api_key, secret = await new_key(client)
    headers = {"X-MBX-APIKEY": api_key}
    assert (
        await client.get(f"/signed-check?{signed_query(secret, f'timestamp={now_ms()}')}", headers=headers)
    ).is_success
    await accounts.revoke_api_key(ctx.pool, user_id, key_id)  # as another gateway process would
    r = await client.get(f"/signed-check?{signed_query(secret, f'timestamp={now_ms()}')}", headers=headers)
    assert r.status_code == 200  # still cached here: revocation reaches this process within 5 s
    api_key_cache(app.state).clear()
    r = await client.get(f"/signed-check?{signed_query(secret, f'timestamp={now_ms()}')}", headers=headers)
    assert_error(r, -2015, 401)


async def test_another_user_cannot_revoke_my_key(app: FastAPI, client: httpx.AsyncClient) -> None:
    await sign_up(client)
    key_id, api_key, secret = await new_key(client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as other:
        await sign_up(other)
        assert_error(await other.delete(f"/api/web/apikeys/{key_id}", headers=WEB), -1130, 404)
    app.state.api_key_cache = ApiKeyCache(ttl=0)
    r = await client.get(
        f"/signed-check?{signed_query(secret, f'timestamp={now_ms()}')}", headers={"X-MBX-APIKEY": api_key}
    )
    assert r.status_code == 200
    assert [k["id"] for k in (await client.get("/api/web/apikeys")).json()] == [key_id]


def test_demo_funds_spec_is_parsed_exactly() -> None:
    decimals = {"USDT": 8, "BTC": 8, "ETH": 8}
    assert parse_demo_funds("USDT=10000, BTC=0.5,ETH=0", decimals) == [("USDT", 10**12), ("BTC", 5 * 10**7)]
    for bad in ("DOGE=1", "USDT", "BTC=0.000000001", "USDT=1,USDT=2", "BTC=-1", "USDT=1e400x"):
        with pytest.raises(ValueError):
            parse_demo_funds(bad, decimals)


# ---------------------------------------------------------------- the SIGNED rules


async def test_signed_get_with_params_in_query(
    client: httpx.AsyncClient, keyed: tuple[int, str, str]
) -> None:
    user_id, api_key, secret = keyed
    query = signed_query(secret, f"symbol=BTCUSDT&recvWindow=5000&timestamp={now_ms()}")
    r = await client.get(f"/signed-check?{query}", headers={"X-MBX-APIKEY": api_key})
    assert r.status_code == 200, r.text
    assert r.json()["userId"] == user_id and r.json()["via"] == "api_key"
    assert r.json()["params"]["symbol"] == "BTCUSDT"


async def test_signed_post_with_params_in_body(
    client: httpx.AsyncClient, keyed: tuple[int, str, str]
) -> None:
    user_id, api_key, secret = keyed
    body = signed_query(secret, f"symbol=BTCUSDT&side=BUY&quantity=0.001&timestamp={now_ms()}")
    r = await client.post("/signed-check", content=body, headers={"X-MBX-APIKEY": api_key, **FORM})
    assert r.status_code == 200, r.text
    assert r.json()["userId"] == user_id and r.json()["params"]["quantity"] == "0.001"


async def test_signed_post_with_params_in_query_and_body(
    client: httpx.AsyncClient, keyed: tuple[int, str, str]
) -> None:
    """Binance's example 3: totalParams is the query string and the body joined with nothing between."""
    _, api_key, secret = keyed
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = f"quantity=1&price=0.1&recvWindow=5000&timestamp={now_ms()}"
    signature = sign(secret, query + body)
    r = await client.post(
        f"/signed-check?{query}",
        content=f"{body}&signature={signature}",
        headers={"X-MBX-APIKEY": api_key, **FORM},
    )
    assert r.status_code == 200, r.text
    assert r.json()["params"]["symbol"] == "LTCBTC" and r.json()["params"]["price"] == "0.1"
    # the signature may as well travel in the query string, before the body's parameters
    r = await client.post(
        f"/signed-check?{query}&signature={signature.upper()}",
        content=body,
        headers={"X-MBX-APIKEY": api_key, **FORM},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("case", "code", "status"),
    [
        ("wrong secret", -1022, 400),
        ("tampered parameter", -1022, 400),
        ("missing timestamp", -1102, 400),
        ("malformed timestamp", -1102, 400),
        ("missing signature", -1102, 400),
        ("stale timestamp (a replay)", -1021, 400),
        ("future timestamp", -1021, 400),
        ("recvWindow 70000", -1131, 400),
        ("recvWindow 0", -1131, 400),
        ("missing key header", -2014, 401),
        ("unknown key", -2015, 401),
        ("duplicate parameter in the query", -1101, 400),
        ("duplicate parameter in query and body", -1101, 400),
    ],
)
async def test_signed_request_rejections(
    client: httpx.AsyncClient, keyed: tuple[int, str, str], case: str, code: int, status: int
) -> None:
    _, api_key, secret = keyed
    now = now_ms()
    headers = {"X-MBX-APIKEY": api_key, **FORM}
    params = f"symbol=BTCUSDT&quantity=1&timestamp={now}"
    query, body = "", signed_query(secret, params)
    if case == "wrong secret":
        body = signed_query("x" * 64, params)
    elif case == "tampered parameter":
        body = body.replace("quantity=1", "quantity=9")
    elif case == "missing timestamp":
        body = signed_query(secret, "symbol=BTCUSDT&quantity=1")
    elif case == "malformed timestamp":
        body = signed_query(secret, "symbol=BTCUSDT&timestamp=12.5")
    elif case == "missing signature":
        body = params
    elif case == "stale timestamp (a replay)":
        body = signed_query(secret, f"symbol=BTCUSDT&timestamp={now - 5_001 - 50}")
    elif case == "future timestamp":
        body = signed_query(secret, f"symbol=BTCUSDT&timestamp={now + 2_000}")
    elif case == "recvWindow 70000":
        body = signed_query(secret, f"{params}&recvWindow=70000")
    elif case == "recvWindow 0":
        body = signed_query(secret, f"{params}&recvWindow=0")
    elif case == "missing key header":
        del headers["X-MBX-APIKEY"]
    elif case == "unknown key":
        headers["X-MBX-APIKEY"] = "A" * 64
    elif case == "duplicate parameter in the query":
        query = "symbol=BTCUSDT&symbol=ETHUSDT"
    elif case == "duplicate parameter in query and body":
        query = "symbol=ETHUSDT"
    r = await client.post(
        f"/signed-check?{query}" if query else "/signed-check", content=body, headers=headers
    )
    assert_error(r, code, status)


async def test_a_wider_recv_window_admits_an_older_timestamp(
    client: httpx.AsyncClient, keyed: tuple[int, str, str]
) -> None:
    _, api_key, secret = keyed
    query = signed_query(secret, f"recvWindow=60000&timestamp={now_ms() - 30_000}")
    assert (await client.get(f"/signed-check?{query}", headers={"X-MBX-APIKEY": api_key})).status_code == 200


async def test_api_key_only_and_session_or_signed(
    client: httpx.AsyncClient, keyed: tuple[int, str, str]
) -> None:
    user_id, api_key, secret = keyed
    r = await client.post("/key-check", headers={"X-MBX-APIKEY": api_key})
    assert r.status_code == 200 and r.json()["userId"] == user_id
    assert_error(await client.post("/key-check", headers={"X-MBX-APIKEY": "B" * 64}), -2015, 401)
    assert_error(await client.post("/key-check"), -2014, 401)
    body = signed_query(secret, f"timestamp={now_ms()}")
    r = await client.post("/either-check", content=body, headers={"X-MBX-APIKEY": api_key, **FORM})
    assert r.status_code == 200 and r.json() == {
        "userId": user_id,
        "via": "api_key",
        "params": r.json()["params"],
    }
    assert_error(await client.post("/either-check", content=body, headers=FORM), -2014, 401)


# ---------------------------------------------------------------- real clients' signatures


def _local(url: str, base: str) -> str:
    """A real client's URL for `base` + /order, pointed at the test route."""
    assert url.startswith(f"{base}/order"), url
    return "/signed-check" + url[len(f"{base}/order") :]


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
async def test_ccxt_signature_is_accepted(
    client: httpx.AsyncClient, keyed: tuple[int, str, str], method: str
) -> None:
    user_id, api_key, secret = keyed
    exchange = ccxt.binance({"apiKey": api_key, "secret": secret})
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.001", "price": "100.5"}
    signed = exchange.sign("order", ["private"], method, params)
    url = _local(signed["url"], exchange.urls["api"]["private"])
    r = await client.request(method, url, content=signed["body"] or b"", headers=signed["headers"])
    assert r.status_code == 200, r.text
    assert r.json()["userId"] == user_id
    assert r.json()["params"]["price"] == "100.5" and "timestamp" in r.json()["params"]


@pytest.mark.parametrize("method", ["post", "get", "delete"])
async def test_python_binance_signature_is_accepted(
    client: httpx.AsyncClient, keyed: tuple[int, str, str], method: str
) -> None:
    user_id, api_key, secret = keyed
    binance = BinanceClient(api_key, secret, ping=False)
    kwargs = binance._get_request_kwargs(
        method, True, data={"symbol": "BTCUSDT", "side": "SELL", "quantity": "2"}
    )
    headers = dict(binance.session.headers)
    if method != "get":
        headers.update(FORM)  # as Client._request does for POST, PUT and DELETE
    url = "http://testserver/signed-check"
    prepared = requests.Request(
        method.upper(), url, params=kwargs.get("params"), data=kwargs.get("data"), headers=headers
    ).prepare()
    body = prepared.body.encode() if isinstance(prepared.body, str) else b""  # requests' form body is a str
    sent_headers = {str(k): str(v) for k, v in prepared.headers.items()}
    r = await client.request(prepared.method or "", prepared.url or "", content=body, headers=sent_headers)
    assert r.status_code == 200, r.text
    assert r.json()["userId"] == user_id and r.json()["params"]["quantity"] == "2"


async def test_lookup_api_key_returns_only_active_keys(ctx: GatewayContext) -> None:
    fernet = Fernet(ctx.settings.secret_key.encode())
    user_id = await accounts.create_user(ctx.pool, new_email(), PASSWORD)
    key_id, api_key, secret = await accounts.create_api_key(ctx.pool, fernet, user_id, "")
    found = await accounts.lookup_api_key(ctx.pool, fernet, api_key)
    assert found is not None and (found.user_id, found.secret) == (user_id, secret.encode())
    assert found.can_trade and found.allowed_ips == frozenset()
    await accounts.revoke_api_key(ctx.pool, user_id, key_id)
    assert await accounts.lookup_api_key(ctx.pool, fernet, api_key) is None
    with pytest.raises(ApiError):
        await accounts.revoke_api_key(ctx.pool, user_id, key_id)


async def test_a_key_in_use_is_refreshed_in_the_background(
    app: FastAPI, client: httpx.AsyncClient, ctx: GatewayContext
) -> None:
    """Past half its cache life a used key is looked up again without holding the request: a live
    key stays cached past its first expiry, a revoked one is dropped before it."""
    user_id = await sign_up(client)
    cache = ApiKeyCache(ttl=0.4)
    app.state.api_key_cache = cache
    live_id, live_key, live_secret = await new_key(client)
    gone_id, gone_key, gone_secret = await new_key(client)

    async def call(key: str, secret: str) -> httpx.Response:
        query = signed_query(secret, f"timestamp={now_ms()}")
        return await client.get(f"/signed-check?{query}", headers={"X-MBX-APIKEY": key})

    assert (await call(live_key, live_secret)).is_success and (await call(gone_key, gone_secret)).is_success
    await accounts.revoke_api_key(ctx.pool, user_id, gone_id)  # as another gateway process would
    await asyncio.sleep(0.25)
    assert (await call(live_key, live_secret)).is_success  # served from the cache, refresh started
    assert (await call(gone_key, gone_secret)).is_success
    await asyncio.sleep(0.1)
    assert_error(await call(gone_key, gone_secret), -2015, 401)  # before its entry would expire
    await asyncio.sleep(0.15)  # past the live key's first expiry
    assert cache.get(live_key) is not None
    assert live_id != gone_id


async def test_an_asymmetric_key_stores_its_public_key_and_no_secret(ctx: GatewayContext) -> None:
    fernet = Fernet(ctx.settings.secret_key.encode())
    user_id = await accounts.create_user(ctx.pool, new_email(), PASSWORD)
    pair = ed25519_pair()
    key_id, api_key, secret = await accounts.create_api_key(
        ctx.pool, fernet, user_id, "ed", key_type=KeyType.ED25519, public_key=pair.public_pem
    )
    assert secret == ""
    found = await accounts.lookup_api_key(ctx.pool, fernet, api_key)
    assert found is not None and (found.key_type, found.public_key, found.secret) == (
        "ED25519",
        pair.public_pem,
        b"",
    )
    row = await ctx.pool.fetchrow("SELECT secret_enc, public_key FROM api_keys WHERE id = $1", key_id)
    assert row is not None and row["secret_enc"] is None and "PRIVATE" not in row["public_key"]
    assert [k.key_type for k in await accounts.list_api_keys(ctx.pool, user_id)] == [KeyType.ED25519]
    # The schema holds each type to its material: an HMAC key without a secret is refused.
    with pytest.raises(asyncpg.CheckViolationError):
        await ctx.pool.execute(
            "INSERT INTO api_keys (user_id, api_key, key_type, public_key) VALUES ($1, $2, 'HMAC', $3)",
            user_id,
            uuid.uuid4().hex * 2,
            pair.public_pem,
        )


async def test_a_bots_key_is_never_an_asymmetric_one(ctx: GatewayContext) -> None:
    """botkit's ensure_api_key needs a secret to sign with: a same-labelled Ed25519 key is passed over."""
    fernet = Fernet(ctx.settings.secret_key.encode())
    user_id = await accounts.create_user(ctx.pool, new_email(), PASSWORD)
    await accounts.create_api_key(
        ctx.pool, fernet, user_id, "bot", key_type=KeyType.ED25519, public_key=ed25519_pair().public_pem
    )
    api_key, secret = await ensure_api_key(ctx.pool, fernet, user_id, "bot")
    assert len(secret) == 64
    found = await accounts.lookup_api_key(ctx.pool, fernet, api_key)
    assert found is not None and found.key_type == "HMAC" and found.secret == secret.encode()
    assert await ensure_api_key(ctx.pool, fernet, user_id, "bot") == (api_key, secret)
