"""Who is calling: FastAPI dependencies implementing Binance's SIGNED and USER_STREAM rules, and
web sessions.

SIGNED (Binance "Endpoint security type"): header X-MBX-APIKEY; parameters `timestamp`
(mandatory), `recvWindow` (optional, default 5000 ms, at most 60000) and `signature`, the hex
HMAC-SHA256 with the key's secret of totalParams = the raw query string concatenated with the raw
form body, each without its `signature=` parameter. Parameters may arrive in either place (ccxt
and python-binance put them in the body of POST/PUT/DELETE requests); one given twice is refused.

Every key may read; a trading endpoint (placing or cancelling orders) needs the key's trading
permission, and a key with trusted IPs works only from those (gateway.keyrules): otherwise -2015.

API keys are looked up through an in-process cache: a key revoked, or whose permissions or trusted
IPs changed, on another gateway process keeps its old rights there for at most
API_KEY_CACHE_SECONDS (5 s); the process that makes the change evicts it at once. A key in use is
looked up again in the background once its entry is half that old, so busy keys never expire
together and stall their requests on the database.
"""

import asyncio
import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, cast
from urllib.parse import parse_qsl

from cryptography.fernet import Fernet
from fastapi import Depends, Request
from starlette.datastructures import State

from exchange_core.errors import (
    BAD_API_KEY_FMT,
    BAD_RECV_WINDOW,
    ILLEGAL_CHARS,
    INVALID_SIGNATURE,
    INVALID_TIMESTAMP,
    MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    TOO_MANY_PARAMETERS,
    UNAUTHORIZED,
    ApiError,
)
from gateway.accounts import lookup_api_key
from gateway.context import GatewayContext
from gateway.keyrules import ApiKeyGrant, check_key_use, rejected_key
from gateway.sessions import COOKIE_NAME, session_user_id

log = logging.getLogger("gateway.auth")

API_KEY_HEADER = "X-MBX-APIKEY"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "exchange-web"
API_KEY_CACHE_SECONDS = 5.0
DEFAULT_RECV_WINDOW = 5_000
MAX_RECV_WINDOW = 60_000
MAX_FUTURE_MS = 1_000
MAX_PARAMS = 100
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_API_KEY = re.compile(r"[A-Za-z0-9]{64}")
_DIGITS = re.compile(r"[0-9]{1,20}")


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: `via` is "api_key" or "session"."""

    user_id: int
    via: str


def context(request: Request) -> GatewayContext:
    """The gateway's shared context (set on app.state.ctx at start-up)."""
    return cast(GatewayContext, request.app.state.ctx)


@lru_cache(maxsize=4)
def fernet_for(secret_key: str) -> Fernet:
    """The Fernet that encrypts API secrets at rest. Raises RuntimeError when SECRET_KEY is unset."""
    if not secret_key:
        raise RuntimeError("SECRET_KEY is not set: API secrets cannot be encrypted")
    return Fernet(secret_key.encode())


class ApiKeyCache:
    """Active API keys, api key -> ApiKeyGrant (owner, secret, permissions), each remembered for
    `ttl` seconds.

    Unknown keys are not remembered, so that a key works as soon as it is created.
    """

    def __init__(self, ttl: float = API_KEY_CACHE_SECONDS, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, ApiKeyGrant]] = {}
        self._refreshing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def get(self, api_key: str) -> ApiKeyGrant | None:
        entry = self._entries.get(api_key)
        if entry is None:
            return None
        expires, grant = entry
        if time.monotonic() >= expires:
            del self._entries[api_key]
            return None
        return grant

    def put(self, api_key: str, grant: ApiKeyGrant) -> None:
        if self.ttl <= 0:
            return
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
        self._entries[api_key] = (now + self.ttl, grant)

    def evict(self, api_key: str) -> None:
        self._entries.pop(api_key, None)

    def due_for_refresh(self, api_key: str) -> bool:
        """Whether the key's entry is past half its life with no refresh under way; a True
        answer marks one under way (end it with `refreshed`)."""
        entry = self._entries.get(api_key)
        if entry is None or api_key in self._refreshing or time.monotonic() < entry[0] - self.ttl / 2:
            return False
        self._refreshing.add(api_key)
        return True

    def refreshed(self, api_key: str, found: ApiKeyGrant | None) -> None:
        """A refresh's result: the key as it now is, or None when it is gone."""
        self._refreshing.discard(api_key)
        if found is None:
            self.evict(api_key)
        else:
            self.put(api_key, found)

    def refresh_failed(self, api_key: str) -> None:
        """The refresh could not run: the entry stays until it expires."""
        self._refreshing.discard(api_key)

    def keep(self, task: "asyncio.Task[None]") -> None:
        """Hold a background refresh until it finishes."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def clear(self) -> None:
        self._entries.clear()


def api_key_cache(state: State) -> ApiKeyCache:
    """The app's key cache (app.state.api_key_cache), created on first use."""
    cache = getattr(state, "api_key_cache", None)
    if not isinstance(cache, ApiKeyCache):
        cache = ApiKeyCache()
        state.api_key_cache = cache
    return cache


def server_ms() -> int:
    return time.time_ns() // 1_000_000


# ---------------------------------------------------------------- parameters


def is_form(content_type: str) -> bool:
    """Whether a body of this content type carries parameters: form-urlencoded, or none given."""
    return content_type.split(";")[0].strip().lower() in ("", "application/x-www-form-urlencoded")


def _parse(raw: bytes) -> list[tuple[str, str]]:
    try:
        return parse_qsl(raw.decode(), keep_blank_values=True, errors="strict", max_num_fields=MAX_PARAMS)
    except UnicodeDecodeError:
        raise ApiError(ILLEGAL_CHARS, "Illegal characters found in a parameter.") from None
    except ValueError:
        raise ApiError(TOO_MANY_PARAMETERS, "Too many parameters sent for this endpoint.") from None


def parse_params(query: bytes, body: bytes) -> dict[str, str]:
    """The query-string and form-body parameters, merged.

    Raises ApiError(-1101) when a parameter is given twice (in one place or in both), -1100 for
    bytes that are not UTF-8.
    """
    params: dict[str, str] = {}
    for name, value in _parse(query) + _parse(body):
        if name in params:
            raise ApiError(TOO_MANY_PARAMETERS, "Duplicate values for a parameter detected.")
        params[name] = value
    return params


async def _form_body(request: Request) -> bytes:
    return await request.body() if is_form(request.headers.get("content-type", "")) else b""


async def request_params(request: Request) -> dict[str, str]:
    """parse_params of the request's query string and form body; cached on request.state."""
    cached = getattr(request.state, "request_params", None)
    if isinstance(cached, dict):
        return cached
    params = parse_params(request.scope.get("query_string", b""), await _form_body(request))
    request.state.request_params = params
    return params


def _without_signature(raw: bytes) -> bytes:
    if b"signature=" not in raw:
        return raw
    return b"&".join(part for part in raw.split(b"&") if part.partition(b"=")[0] != b"signature")


def signed_payload(query: bytes, body: bytes) -> bytes:
    """Binance's totalParams: raw query string + raw form body, without the signature."""
    return _without_signature(query) + _without_signature(body)


async def total_params(request: Request) -> bytes:
    return signed_payload(request.scope.get("query_string", b""), await _form_body(request))


# ---------------------------------------------------------------- the SIGNED rules


def _missing(name: str) -> ApiError:
    return ApiError(
        MANDATORY_PARAM_EMPTY_OR_MALFORMED,
        f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
    )


def _timestamp(params: dict[str, str]) -> int:
    value = params.get("timestamp", "")
    if not _DIGITS.fullmatch(value):
        raise _missing("timestamp")
    return int(value)


def _recv_window(params: dict[str, str]) -> int:
    value = params.get("recvWindow")
    if value is None or value == "":
        return DEFAULT_RECV_WINDOW
    if not _DIGITS.fullmatch(value):
        raise ApiError(
            ILLEGAL_CHARS,
            "Illegal characters found in parameter 'recvWindow'; legal range is '^[0-9]{1,20}$'.",
        )
    window = int(value)
    if not 0 < window <= MAX_RECV_WINDOW:
        raise ApiError(BAD_RECV_WINDOW, "recvWindow must be less than 60000")
    return window


def check_timestamp(timestamp: int, recv_window: int, now_ms: int) -> None:
    """Raises ApiError(-1021) unless now - recvWindow <= timestamp < now + 1000."""
    if timestamp >= now_ms + MAX_FUTURE_MS:
        raise ApiError(INVALID_TIMESTAMP, "Timestamp for this request was 1000ms ahead of the server's time.")
    if now_ms - timestamp > recv_window:
        raise ApiError(INVALID_TIMESTAMP, "Timestamp for this request is outside of the recvWindow.")


def check_api_key_format(api_key: str) -> str:
    """`api_key` if well formed; raises ApiError(-2014, 401) otherwise."""
    if not _API_KEY.fullmatch(api_key):
        raise ApiError(BAD_API_KEY_FMT, "API-key format invalid.", 401)
    return api_key


def _api_key_header(request: Request) -> str:
    return check_api_key_format(request.headers.get(API_KEY_HEADER, ""))


async def resolve_api_key(ctx: GatewayContext, cache: ApiKeyCache, api_key: str) -> ApiKeyGrant:
    """What an active key may do; raises ApiError(-2015, 401) for an unknown or revoked key."""
    found = cache.get(api_key)
    if found is None:
        found = await lookup_api_key(ctx.pool, fernet_for(ctx.settings.secret_key), api_key)
        if found is None:
            raise rejected_key()
        cache.put(api_key, found)
    elif cache.due_for_refresh(api_key):
        cache.keep(asyncio.create_task(_refresh(ctx, cache, api_key)))
    return found


async def _refresh(ctx: GatewayContext, cache: ApiKeyCache, api_key: str) -> None:
    try:
        found = await lookup_api_key(ctx.pool, fernet_for(ctx.settings.secret_key), api_key)
    except Exception:
        log.warning("refreshing an API key failed; its entry expires as usual", exc_info=True)
        cache.refresh_failed(api_key)
        return
    cache.refreshed(api_key, found)


async def verify_signed(
    ctx: GatewayContext,
    cache: ApiKeyCache,
    api_key: str,
    params: dict[str, str],
    payload: bytes,
    *,
    client_ip: str | None,
    trading: bool,
) -> Principal:
    """The owner of a SIGNED request whose well-formed key is `api_key`, whose parameters are
    `params` and whose totalParams is `payload`, sent from `client_ip` (None: unknown) to an
    endpoint that places or cancels orders when `trading`.

    Rejections, in the order checked: -1102 (timestamp missing or malformed), -1100/-1131 (bad
    recvWindow), -1021 (timestamp ahead by 1000 ms or more, or older than recvWindow: a replay),
    -1102 (no signature), -2015 (unknown or revoked key, an IP the key does not trust, or
    `trading` with a read-only key), -1022 (signature mismatch).
    """
    timestamp = _timestamp(params)
    check_timestamp(timestamp, _recv_window(params), server_ms())
    signature = params.get("signature")
    if not signature:
        raise _missing("signature")
    grant = await resolve_api_key(ctx, cache, api_key)
    check_key_use(grant, client_ip, trading)
    expected = hmac.new(grant.secret, payload, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
        raise ApiError(INVALID_SIGNATURE, "Signature for this request is not valid.", 400)
    return Principal(grant.user_id, "api_key")


def client_ip(request: Request) -> str | None:
    """The client's IP as the gateway sees it: scope["client"] (uvicorn puts the forwarded client
    there when FORWARDED_ALLOW_IPS trusts the proxy), None when unknown."""
    return request.client.host if request.client else None


async def _signed(request: Request, trading: bool) -> Principal:
    api_key = _api_key_header(request)
    params = await request_params(request)
    cache = api_key_cache(request.app.state)
    payload = await total_params(request)
    return await verify_signed(
        context(request), cache, api_key, params, payload, client_ip=client_ip(request), trading=trading
    )


async def signed_user(request: Request) -> Principal:
    """The owner of a SIGNED reading request (Binance USER_DATA): -2014 without a well-formed
    X-MBX-APIKEY, -1101 for a duplicate parameter, then the rules of verify_signed."""
    return await _signed(request, trading=False)


async def signed_trader(request: Request) -> Principal:
    """As signed_user, for an endpoint that places or cancels orders (Binance TRADE): -2015 for a
    key without the trading permission."""
    return await _signed(request, trading=True)


async def api_key_user(request: Request) -> Principal:
    """The owner of the X-MBX-APIKEY header alone (Binance USER_STREAM, open to read-only keys).
    Raises -2014, or -2015 for an unknown key or an IP it does not trust."""
    cache = api_key_cache(request.app.state)
    grant = await resolve_api_key(context(request), cache, _api_key_header(request))
    check_key_use(grant, client_ip(request), trading=False)
    return Principal(grant.user_id, "api_key")


# ---------------------------------------------------------------- web sessions


def check_csrf_header(request: Request) -> None:
    """Cookie-authenticated changes need `X-Requested-With: exchange-web`, which no cross-site form
    can send. Raises ApiError(-1002, 403) when a non-GET/HEAD request lacks it."""
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        raise ApiError(UNAUTHORIZED, "Missing X-Requested-With header.", 403)


async def session_user(request: Request) -> Principal:
    """The user of the `session` cookie. Raises ApiError(-1002): 401 without a live session, 403
    for a change without the CSRF header."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        raise ApiError(UNAUTHORIZED, "You are not logged in.", 401)
    check_csrf_header(request)
    ctx = context(request)
    user_id = await session_user_id(ctx.redis, ctx.keys, token)
    if user_id is None:
        raise ApiError(UNAUTHORIZED, "Your session has expired; please log in again.", 401)
    return Principal(user_id, "session")


async def session_or_signed_user(request: Request) -> Principal:
    """A session cookie's user, or else the SIGNED rules.

    A request carrying X-MBX-APIKEY is always held to the SIGNED rules, even with a cookie (a bot
    with a cookie jar); a cross-site page cannot set that header, so this opens no CSRF path.
    """
    if request.cookies.get(COOKIE_NAME) and API_KEY_HEADER not in request.headers:
        return await session_user(request)
    return await signed_user(request)


async def session_or_signed_trader(request: Request) -> Principal:
    """As session_or_signed_user, for an endpoint that places or cancels orders: a session may
    trade; an API key needs the trading permission (signed_trader)."""
    if request.cookies.get(COOKIE_NAME) and API_KEY_HEADER not in request.headers:
        return await session_user(request)
    return await signed_trader(request)


async def session_or_api_key_user(request: Request) -> Principal:
    """A session cookie's user, or else the owner of the X-MBX-APIKEY header (USER_STREAM rules).
    As in session_or_signed_user, a request carrying X-MBX-APIKEY is always held to the key."""
    if request.cookies.get(COOKIE_NAME) and API_KEY_HEADER not in request.headers:
        return await session_user(request)
    return await api_key_user(request)


Caller = Annotated[Principal, Depends(session_or_signed_user)]
"""A route parameter for reading endpoints open to web sessions and signed API requests."""

Trader = Annotated[Principal, Depends(session_or_signed_trader)]
"""A route parameter for endpoints that place or cancel orders: web sessions, and signed requests
whose key may trade."""
