"""Who is calling a REST endpoint: FastAPI dependencies applying Binance's SIGNED and USER_STREAM
rules (gateway.signed) to the X-MBX-APIKEY header and the request's parameters
(gateway.params), or else the web session (gateway.sessions)."""

from typing import Annotated

from fastapi import Depends, Request

from gateway.context import context
from gateway.keycache import api_key_cache, resolve_api_key
from gateway.keyrules import check_key_use
from gateway.params import request_params, total_params
from gateway.principal import Principal
from gateway.ratelimit import RateLimiter
from gateway.sessions import COOKIE_NAME, session_user
from gateway.signed import check_api_key_format, verify_signed

API_KEY_HEADER = "X-MBX-APIKEY"


def _api_key_header(request: Request) -> str:
    """The one X-MBX-APIKEY header; -2014 when it is missing, malformed or sent more than once
    (which of two keys a request means is not guessed)."""
    sent = request.headers.getlist(API_KEY_HEADER)
    return check_api_key_format(sent[0] if len(sent) == 1 else "")


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
    api_key = _api_key_header(request)
    grant = await resolve_api_key(context(request), cache, api_key)
    check_key_use(grant, client_ip(request), trading=False)
    return Principal(grant.user_id, "api_key", api_key)


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


async def order_placer(request: Request) -> Principal:
    """As session_or_signed_trader, for an endpoint that places an order: the order counts against
    the ORDERS rate limits of the key the request authenticated with (RateLimited, 429 -1015,
    beyond them; web sessions are not counted)."""
    who = await session_or_signed_trader(request)
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.count_order(who.api_key)
    return who


async def list_placer(request: Request) -> Principal:
    """As order_placer, for an endpoint that places an order list of two orders (an OCO): the
    list counts as two orders against the ORDERS rate limits, as Binance counts it."""
    who = await order_placer(request)
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.count_order(who.api_key)
    return who


async def triple_list_placer(request: Request) -> Principal:
    """As list_placer, for an endpoint that places an order list of three orders (an OTOCO):
    counted as three orders, as Binance counts it."""
    who = await list_placer(request)
    limiter: RateLimiter = request.app.state.rate_limiter
    limiter.count_order(who.api_key)
    return who


Trader = Annotated[Principal, Depends(session_or_signed_trader)]
"""A route parameter for endpoints that place or cancel orders: web sessions, and signed requests
whose key may trade."""

OrderPlacer = Annotated[Principal, Depends(order_placer)]
"""As Trader, for endpoints that place orders: counted against the key's ORDERS rate limits."""

ListPlacer = Annotated[Principal, Depends(list_placer)]
"""As OrderPlacer, for endpoints that place an OCO or OTO: counted as two orders."""

TripleListPlacer = Annotated[Principal, Depends(triple_list_placer)]
"""As OrderPlacer, for endpoints that place an OTOCO: counted as three orders."""
