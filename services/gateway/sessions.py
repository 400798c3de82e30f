"""Web sessions in Redis: `sess:{token}` holds the user id and expires after settings.session_days.

The token is the only credential (an httpOnly cookie); the expiry is fixed at log-in and not
extended by use.
"""

import re
import secrets

from redis.asyncio import Redis

from exchange_core.keys import Keys

COOKIE_NAME = "session"
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
