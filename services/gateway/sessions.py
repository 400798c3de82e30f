"""Web sessions in Redis: `sess:{token}` holds the user id and expires after settings.session_days.

The token is the only credential (an httpOnly cookie); the expiry is fixed at log-in and not
extended by use. A change made with the cookie needs the CSRF header (check_csrf_header).
"""

import re
import secrets

from fastapi import Request
from redis.asyncio import Redis

from exchange_core.errors import UNAUTHORIZED, ApiError
from exchange_core.keys import Keys
from gateway.context import context
from gateway.principal import Principal

COOKIE_NAME = "session"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "exchange-web"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")  # what token_urlsafe makes; anything else is not looked up


def session_seconds(days: int) -> int:
    return days * 86_400


async def create_session(redis: Redis, keys: Keys, user_id: int, days: int) -> str:
    """Start a session for `user_id` lasting `days`; returns its token (43 url-safe characters)."""
    token = secrets.token_urlsafe(32)
    await redis.set(keys.session(token), user_id, ex=session_seconds(days))
    return token


async def session_user_id(redis: Redis, keys: Keys, token: str) -> int | None:
    """The user of a live session, or None when the token is unknown, expired or malformed."""
    if not _TOKEN.fullmatch(token):
        return None
    value = await redis.get(keys.session(token))
    return None if value is None else int(value)


async def delete_session(redis: Redis, keys: Keys, token: str) -> None:
    """End the session (nothing happens when it does not exist)."""
    if _TOKEN.fullmatch(token):
        await redis.delete(keys.session(token))


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
