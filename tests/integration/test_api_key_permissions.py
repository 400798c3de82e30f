"""API key permissions and trusted IPs through the web API and the auth dependencies, on the real
Redis and PostgreSQL (an in-process app served through httpx's ASGI transport, whose client IP is
chosen per client)."""

from collections.abc import AsyncIterator
from typing import Annotated

import httpx
import pytest_asyncio
from cryptography.fernet import Fernet
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from exchange_core import listenkeys
from exchange_core.clock import now_ms
from exchange_core.db import create_pool
from exchange_core.errors import ApiError
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import load_markets
from exchange_core.pipelined import PipelinedRedis
from gateway import accounts
from gateway.callers import api_key_user, signed_trader, signed_user
from gateway.context import GatewayContext
from gateway.keycache import ApiKeyCache, api_key_cache
from gateway.keywatch import KeyWatch
from gateway.principal import Principal
from gateway.routes import web
from gateway.settings import GatewaySettings
from tests.integration.test_gateway_auth import DEMO_FUNDS, WEB, assert_error, sign_up, signed_query

probe = APIRouter()


@probe.get("/read")
async def read(principal: Annotated[Principal, Depends(signed_user)]) -> dict[str, int]:
    return {"userId": principal.user_id}


@probe.get("/trade")
async def trade(principal: Annotated[Principal, Depends(signed_trader)]) -> dict[str, int]:
    return {"userId": principal.user_id}


@probe.get("/stream")
async def stream(principal: Annotated[Principal, Depends(api_key_user)]) -> dict[str, int]:
    return {"userId": principal.user_id}


@pytest_asyncio.fixture
async def app(pg_dsn: str, key_prefix: str, redis: "Redis") -> AsyncIterator[FastAPI]:
    settings = GatewaySettings(
        database_url=pg_dsn,
        key_prefix=key_prefix,
        secret_key=Fernet.generate_key().decode(),
        demo_funds=DEMO_FUNDS,
    )
    pool = await create_pool(pg_dsn)
    keys = Keys(key_prefix)
    app = FastAPI()
    app.include_router(web.router)
    app.include_router(probe)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    pipelined = PipelinedRedis.like(redis)
    app.state.ctx = ctx = GatewayContext(
        settings, redis, pool, keys, Ledger(redis, keys, pipelined), load_markets(), pipelined
    )
    ctx.key_watch = KeyWatch(ctx, api_key_cache(app.state))
    yield app
    await pool.close()


def client_from(app: FastAPI, ip: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(ip, 4242)), base_url="http://testserver"
    )


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(app, "127.0.0.1") as c:
        yield c


async def create(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    r = await client.post("/api/web/apikeys", json={"label": "bot", **body}, headers=WEB)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def call(client: httpx.AsyncClient, path: str, key: dict[str, object]) -> httpx.Response:
    query = signed_query(str(key["secretKey"]), f"timestamp={now_ms()}")
    return await client.get(f"{path}?{query}", headers={"X-MBX-APIKEY": str(key["apiKey"])})


async def test_new_keys_trade_from_any_ip_unless_told_otherwise(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    plain = await create(client)
    assert plain["canTrade"] is True and plain["ipRestrict"] == []
    limited = await create(
        client, label="watcher", canTrade=False, ipRestrict=["203.0.113.7", "2001:DB8::1", "203.0.113.7"]
    )
    assert limited["canTrade"] is False and limited["ipRestrict"] == ["203.0.113.7", "2001:db8::1"]
    listed = {k["label"]: k for k in (await client.get("/api/web/apikeys")).json()}
    assert (listed["bot"]["canTrade"], listed["bot"]["ipRestrict"]) == (True, [])
    assert (listed["watcher"]["canTrade"], listed["watcher"]["ipRestrict"]) == (
        False,
        ["203.0.113.7", "2001:db8::1"],
    )


async def test_invalid_ips_are_a_clear_400(client: httpx.AsyncClient) -> None:
    await sign_up(client)
    r = await client.post(
        "/api/web/apikeys", json={"label": "x", "ipRestrict": ["1.2.3.4", "1.2.3"]}, headers=WEB
    )
    assert_error(r, -1130, 400)
    assert r.json()["msg"] == "Invalid IP address: '1.2.3'."
    r = await client.post(
        "/api/web/apikeys", json={"ipRestrict": [f"10.0.0.{i}" for i in range(31)]}, headers=WEB
    )
    assert_error(r, -1130, 400)
    assert (await client.get("/api/web/apikeys")).json() == []  # nothing was created
    key = await create(client)
    r = await client.patch(f"/api/web/apikeys/{key['id']}", json={"ipRestrict": ["10.0.0.0/8"]}, headers=WEB)
    assert_error(r, -1130, 400)
    assert "'10.0.0.0/8'" in r.json()["msg"]
    [listed] = (await client.get("/api/web/apikeys")).json()
    assert listed["ipRestrict"] == []  # unchanged


async def test_a_read_only_key_reads_and_may_not_trade(client: httpx.AsyncClient) -> None:
    user_id = await sign_up(client)
    key = await create(client, canTrade=False)
    client.cookies.clear()
    r = await call(client, "/read", key)
    assert r.status_code == 200 and r.json() == {"userId": user_id}
    assert (await client.get("/stream", headers={"X-MBX-APIKEY": str(key["apiKey"])})).status_code == 200
    r = await call(client, "/trade", key)
    assert_error(r, -2015, 401)
    assert r.json()["msg"] == "Invalid API-key, IP, or permissions for action."


async def test_trusted_ips_only(app: FastAPI, client: httpx.AsyncClient) -> None:
    user_id = await sign_up(client)
    elsewhere = await create(client, ipRestrict=["10.9.8.7", "::1"])
    here = await create(client, ipRestrict=["10.9.8.7", "127.0.0.1"])
    client.cookies.clear()
    for path in ("/read", "/trade"):
        assert_error(await call(client, path, elsewhere), -2015, 401)
        assert (await call(client, path, here)).json() == {"userId": user_id}
    assert_error(await client.get("/stream", headers={"X-MBX-APIKEY": str(elsewhere["apiKey"])}), -2015, 401)
    async with client_from(app, "10.9.8.7") as trusted, client_from(app, "10.9.8.8") as stranger:
        assert (await call(trusted, "/trade", elsewhere)).json() == {"userId": user_id}
        assert_error(await call(stranger, "/read", here), -2015, 401)


async def test_editing_takes_effect_here_at_once_and_elsewhere_with_the_cache(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user_id = await sign_up(client)
    key = await create(client, canTrade=False)
    assert_error(await call(client, "/trade", key), -2015, 401)  # now cached, read-only
    r = await client.patch(f"/api/web/apikeys/{key['id']}", json={"canTrade": True}, headers=WEB)
    assert r.status_code == 200 and r.json()["canTrade"] is True and r.json()["ipRestrict"] == []
    assert (await call(client, "/trade", key)).json() == {"userId": user_id}  # this process evicted it

    r = await client.patch(f"/api/web/apikeys/{key['id']}", json={"ipRestrict": ["192.0.2.1"]}, headers=WEB)
    assert r.json()["canTrade"] is True and r.json()["ipRestrict"] == ["192.0.2.1"]  # canTrade kept
    assert_error(await call(client, "/read", key), -2015, 401)
    r = await client.patch(f"/api/web/apikeys/{key['id']}", json={"ipRestrict": []}, headers=WEB)
    assert r.json()["ipRestrict"] == []
    assert (await call(client, "/read", key)).status_code == 200

    # As another gateway process would: the change reaches this one when the cached entry goes.
    await accounts.set_api_key_permissions(app.state.ctx.pool, user_id, int(str(key["id"])), can_trade=False)
    assert (await call(client, "/trade", key)).status_code == 200  # still cached here (at most 5 s)
    api_key_cache(app.state).clear()
    assert_error(await call(client, "/trade", key), -2015, 401)


async def test_only_the_owner_edits_a_live_key(app: FastAPI, client: httpx.AsyncClient) -> None:
    await sign_up(client)
    key = await create(client)
    async with client_from(app, "127.0.0.1") as other:
        await sign_up(other)
        r = await other.patch(f"/api/web/apikeys/{key['id']}", json={"canTrade": False}, headers=WEB)
        assert_error(r, -1130, 404)
    assert_error(await client.patch(f"/api/web/apikeys/{key['id']}", json={"canTrade": False}), -1002, 403)
    assert (await client.delete(f"/api/web/apikeys/{key['id']}", headers=WEB)).status_code == 200
    r = await client.patch(f"/api/web/apikeys/{key['id']}", json={"canTrade": False}, headers=WEB)
    assert_error(r, -1130, 404)


async def test_revoking_a_key_ends_what_it_opened_here_at_once_elsewhere_at_the_next_check(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The revoking process ends the key's watched streams and closes its listen keys at once; a
    process that only sees the database (its own KeyWatch) ends them at its next check; a key
    whose trusted IPs no longer include a stream's IP ends that stream; other keys' go on."""
    ctx: GatewayContext = app.state.ctx
    user_id = await sign_up(client)
    revoked, other_process_revoked, kept = await create(client), await create(client), await create(client)
    ended: dict[str, list[ApiError]] = {"here": [], "elsewhere": [], "kept": [], "moved": []}
    listen_key = await listenkeys.create(ctx.redis, ctx.keys, user_id, str(revoked["apiKey"]))
    kept_listen_key = await listenkeys.create(ctx.redis, ctx.keys, user_id, str(kept["apiKey"]))
    elsewhere = KeyWatch(ctx, ApiKeyCache(ttl=0))  # another gateway process's watch
    with (
        ctx.key_watch.watching(str(revoked["apiKey"]), "127.0.0.1", ended["here"].append),
        elsewhere.watching(str(other_process_revoked["apiKey"]), "127.0.0.1", ended["elsewhere"].append),
        elsewhere.watching(str(kept["apiKey"]), "127.0.0.1", ended["kept"].append),
        elsewhere.watching(str(kept["apiKey"]), "192.0.2.9", ended["moved"].append),
    ):
        assert (await client.delete(f"/api/web/apikeys/{revoked['id']}", headers=WEB)).status_code == 200
        assert [e.code for e in ended["here"]] == [-2015]
        assert await listenkeys.user_of(ctx.redis, ctx.keys, listen_key) is None
        assert await listenkeys.user_of(ctx.redis, ctx.keys, kept_listen_key) == user_id

        await accounts.revoke_api_key(ctx.pool, user_id, int(str(other_process_revoked["id"])))
        await accounts.set_api_key_permissions(
            ctx.pool, user_id, int(str(kept["id"])), allowed_ips=["127.0.0.1"]
        )
        assert ended["elsewhere"] == [] and ended["moved"] == []
        await elsewhere.check()
        assert [e.code for e in ended["elsewhere"]] == [-2015]
        assert [e.code for e in ended["moved"]] == [-2015]  # its IP is no longer trusted
        await elsewhere.check()
        assert len(ended["elsewhere"]) == 1 and len(ended["moved"]) == 1  # each ends once
        assert ended["kept"] == []
    assert ctx.key_watch.streams == {} and elsewhere.streams == {}
