"""Web endpoints for the trading page: sign-up, log-in and out, the user's API keys, and a
market's trading status with the reason an admin gave.

JSON in and out; errors are Binance-style `{"code", "msg"}`. The session travels in the httpOnly
cookie `session` (SameSite=Lax); changes made with it need `X-Requested-With: exchange-web`.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from exchange_core import listenkeys
from exchange_core.errors import BAD_SYMBOL, UNAUTHORIZED, ApiError
from gateway import loginthrottle
from gateway.accounts import (
    ApiKeyInfo,
    EmailTaken,
    asset_decimals,
    authenticate,
    create_api_key,
    create_user,
    get_user,
    grant_demo_funds,
    list_api_keys,
    normalize_email,
    parse_demo_funds,
    revoke_api_key,
    set_api_key_permissions,
)
from gateway.callers import client_ip
from gateway.context import context
from gateway.keycache import api_key_cache, fernet_for
from gateway.keyrules import parse_allowed_ips
from gateway.keytypes import KeyType, parse_key_type
from gateway.marketstatus import status_json
from gateway.principal import Principal
from gateway.responses import JsonObject
from gateway.sessions import (
    COOKIE_NAME,
    check_csrf_header,
    create_session,
    delete_session,
    session_seconds,
    session_user,
    session_user_id,
)

router = APIRouter(prefix="/api/web", tags=["web"])

SessionUser = Annotated[Principal, Depends(session_user)]
KeyId = Annotated[int, Path(ge=1, le=2**63 - 1)]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(milliseconds=1)


class Credentials(BaseModel):
    email: str
    password: str


class NewApiKeyRequest(BaseModel):
    label: str = ""
    canTrade: bool = True  # spot trading; reading is always allowed
    ipRestrict: list[str] = Field(default_factory=list)  # trusted client IPs; empty: any IP
    keyType: str = "HMAC"  # HMAC (the exchange generates a secret), ED25519 or RSA
    publicKey: str = ""  # the PEM public key of an ED25519 or RSA key


class ApiKeyPermissionsRequest(BaseModel):
    canTrade: bool | None = None  # None: unchanged
    ipRestrict: list[str] | None = None  # None: unchanged; []: any IP


class WebConfig(BaseModel):
    wsUrl: str  # base URL of the WebSocket tier: ws(s)://host[:port] or a path on the page's host


class UserOut(BaseModel):
    userId: int
    email: str


class SessionOut(BaseModel):
    user: UserOut | None


class ApiKeyOut(BaseModel):
    id: int
    apiKey: str
    label: str
    createdAt: int  # ms since the epoch, as Binance writes times
    canTrade: bool
    ipRestrict: list[str]  # trusted client IPs, canonical form; empty: any IP
    keyType: str  # HMAC, ED25519 or RSA


class NewApiKeyOut(BaseModel):
    id: int
    apiKey: str
    secretKey: str | None  # HMAC: shown this once, only its encryption is stored; else None
    label: str
    canTrade: bool
    ipRestrict: list[str]
    keyType: str


def _key_out(key: ApiKeyInfo) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id,
        apiKey=key.api_key,
        label=key.label,
        createdAt=epoch_ms(key.created_at),
        canTrade=key.can_trade,
        ipRestrict=list(key.allowed_ips),
        keyType=key.key_type.value,
    )


async def _start_session(request: Request, response: Response, user_id: int) -> None:
    ctx = context(request)
    token = await create_session(ctx.redis, ctx.keys, user_id, ctx.settings.session_days)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=session_seconds(ctx.settings.session_days),
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def ws_base_url(request: Request) -> str:
    """WS_PUBLIC_URL when set; else ws:// (wss:// behind https) on the request's host name and WS_PORT."""
    settings = context(request).settings
    if settings.ws_public_url:
        return settings.ws_public_url.rstrip("/") or "/"
    scheme = "wss" if request.url.scheme == "https" else "ws"
    host = request.url.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{settings.ws_port}"


@router.get("/config")
async def config(request: Request) -> WebConfig:
    """What the web page needs to know before it starts: the WebSocket tier's base URL."""
    return WebConfig(wsUrl=ws_base_url(request))


@router.get("/markets/{symbol}/status")
async def market_status(request: Request, symbol: str) -> JsonObject:
    """A market's trading status with the admin's reason, for the trade page's banner:
    {"symbol", "status" (TRADING, HALT, BREAK), "reason", "since" (ms)}; -1121 for an unknown one."""
    ctx = context(request)
    if symbol.upper() not in ctx.markets:
        raise ApiError(BAD_SYMBOL, "Invalid symbol.")
    return status_json(symbol.upper(), ctx.statuses.get(symbol.upper()))


@router.post("/signup")
async def signup(body: Credentials, request: Request, response: Response) -> UserOut:
    """Create an account with the demo funds of settings.demo_funds and log it in.

    Rejections: -1130 (malformed email, password under 8 characters, email already registered:
    each of those counts against the IP, gateway.loginthrottle); -1003 (429) while the IP has too
    many.
    """
    ctx = context(request)
    parse_demo_funds(ctx.settings.demo_funds, asset_decimals(ctx.markets))  # a bad config fails first
    ip = client_ip(request)
    await loginthrottle.check_allowed(ctx, None, ip)
    try:
        user_id = await create_user(ctx.pool, body.email, body.password)
    except EmailTaken:
        await loginthrottle.record_failure(ctx, None, ip)
        raise
    await grant_demo_funds(ctx.pool, ctx.ledger, ctx.markets, user_id, ctx.settings.demo_funds)
    await _start_session(request, response, user_id)
    return UserOut(userId=user_id, email=normalize_email(body.email))


@router.post("/login")
async def login(body: Credentials, request: Request, response: Response) -> UserOut:
    """Start a session. Rejections: -1002 (401) for a wrong email or password; -1003 (429, with
    Retry-After) while the account or the IP has too many failures (gateway.loginthrottle)."""
    ctx = context(request)
    ip = client_ip(request)
    await loginthrottle.check_allowed(ctx, body.email, ip)
    try:
        user_id = await authenticate(ctx.pool, body.email, body.password)
    except ApiError:
        await loginthrottle.record_failure(ctx, body.email, ip)
        raise
    await loginthrottle.clear_account(ctx, body.email)
    await _start_session(request, response, user_id)
    return UserOut(userId=user_id, email=normalize_email(body.email))


@router.post("/logout")
async def logout(request: Request, response: Response) -> dict[str, object]:
    """End the session of the cookie, if any, and clear the cookie. Needs the CSRF header."""
    token = request.cookies.get(COOKIE_NAME)
    if token:
        check_csrf_header(request)
        ctx = context(request)
        await delete_session(ctx.redis, ctx.keys, token)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return {}


@router.get("/me")
async def me(principal: SessionUser, request: Request) -> UserOut:
    """The logged-in user. Rejection: -1002 (401) without a live session."""
    user = await get_user(context(request).pool, principal.user_id)
    if user is None:
        raise ApiError(UNAUTHORIZED, "You are not logged in.", 401)
    return UserOut(userId=user.id, email=user.email)


@router.get("/session")
async def session(request: Request) -> SessionOut:
    """The logged-in user, or null: unlike /me, never an error (a page asks this on every load)."""
    ctx = context(request)
    token = request.cookies.get(COOKIE_NAME)
    user_id = await session_user_id(ctx.redis, ctx.keys, token) if token else None
    user = await get_user(ctx.pool, user_id) if user_id is not None else None
    return SessionOut(user=UserOut(userId=user.id, email=user.email) if user else None)


@router.get("/apikeys")
async def api_keys(principal: SessionUser, request: Request) -> list[ApiKeyOut]:
    """The user's active API keys, without their secrets."""
    keys = await list_api_keys(context(request).pool, principal.user_id)
    return [_key_out(k) for k in keys]


@router.post("/apikeys")
async def new_api_key(body: NewApiKeyRequest, principal: SessionUser, request: Request) -> NewApiKeyOut:
    """Create an API key of `keyType` that may read, trade when `canTrade` (the default), from
    the IPs of `ipRestrict` only when it lists any. An HMAC key's secret is in this answer and
    never again; an ED25519 or RSA key signs with the private key of `publicKey` (PEM), which
    the exchange never sees.

    Rejections: -1130 (400) for a label over 64 characters or with a character that is not
    printable, an entry of `ipRestrict` that is not an IPv4 or IPv6 address, or more than 30 of
    them, an unknown `keyType`, and a `publicKey` that is missing, not a PEM public key, of the
    other type, an RSA key under 2048 bits, or given with an HMAC key.
    """
    ctx = context(request)
    fernet = fernet_for(ctx.settings.secret_key)
    ips = parse_allowed_ips(body.ipRestrict)
    key_type = parse_key_type(body.keyType)
    key_id, api_key, secret = await create_api_key(
        ctx.pool,
        fernet,
        principal.user_id,
        body.label,
        can_trade=body.canTrade,
        allowed_ips=ips,
        key_type=key_type,
        public_key=body.publicKey,
    )
    return NewApiKeyOut(
        id=key_id,
        apiKey=api_key,
        secretKey=secret if key_type is KeyType.HMAC else None,
        label=body.label.strip(),
        canTrade=body.canTrade,
        ipRestrict=ips,
        keyType=key_type.value,
    )


@router.patch("/apikeys/{key_id}")
async def edit_api_key(
    key_id: KeyId, body: ApiKeyPermissionsRequest, principal: SessionUser, request: Request
) -> ApiKeyOut:
    """Change a key's trading permission and trusted IPs (a field left out stays as it is).

    Takes effect at once on this gateway process, on others within the key cache's life (5 s).
    Rejections: -1130 (400) for an invalid IP list (as at creation), -1130 (404) for a key that is
    unknown, revoked or someone else's.
    """
    key = await set_api_key_permissions(
        context(request).pool, principal.user_id, key_id, can_trade=body.canTrade, allowed_ips=body.ipRestrict
    )
    api_key_cache(request.app.state).evict(key.api_key)
    return _key_out(key)


@router.delete("/apikeys/{key_id}")
async def delete_api_key(key_id: KeyId, principal: SessionUser, request: Request) -> dict[str, object]:
    """Revoke one of the user's keys: refused at once here, on other gateways within 5 s. What it
    opened ends too: its listen keys at once (the WebSocket tier closes their streams at its next
    check), its gRPC streams and WebSocket API subscriptions at once here, on other gateways
    within 6 s (gateway.keywatch).

    Rejection: -1130 (404) for a key that is unknown, revoked already or someone else's.
    """
    ctx = context(request)
    api_key = await revoke_api_key(ctx.pool, principal.user_id, key_id)
    api_key_cache(request.app.state).evict(api_key)
    await listenkeys.close_of_api_key(ctx.redis, ctx.keys, api_key)
    ctx.key_watch.revoked(api_key)
    return {"id": key_id}
