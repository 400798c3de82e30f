"""API keys looked up through an in-process cache.

A key revoked, or whose permissions or trusted IPs changed, on another gateway process keeps its
old rights there for at most API_KEY_CACHE_SECONDS (5 s); the process that makes the change
evicts it at once. A key in use is looked up again in the background once its entry is half that
old, so busy keys never expire together and stall their requests on the database.

While the database cannot be reached, a key's last known grant is used for up to
API_KEY_STALE_SECONDS (5 min) after it was last read: placing orders needs only Redis, so a
database outage does not stop clients that were trading. No key can be revoked meanwhile
through this database either. After a lookup found the database unreachable, the next ones wait
DATABASE_RETRY_SECONDS, so requests do not each wait for a failing connection.
"""

import asyncio
import logging
import time
from functools import lru_cache

from cryptography.fernet import Fernet
from starlette.datastructures import State

from exchange_core.unavailable import backend_unreachable
from gateway.accounts import lookup_api_key
from gateway.context import GatewayContext
from gateway.keyrules import ApiKeyGrant, rejected_key

log = logging.getLogger("gateway.keycache")

API_KEY_CACHE_SECONDS = 5.0
API_KEY_STALE_SECONDS = 300.0
DATABASE_RETRY_SECONDS = 1.0


@lru_cache(maxsize=4)
def fernet_for(secret_key: str) -> Fernet:
    """The Fernet that encrypts API secrets at rest. Raises RuntimeError when SECRET_KEY is unset."""
    if not secret_key:
        raise RuntimeError("SECRET_KEY is not set: API secrets cannot be encrypted")
    return Fernet(secret_key.encode())


class ApiKeyCache:
    """Active API keys, api key -> ApiKeyGrant (owner, secret, permissions), each valid for `ttl`
    seconds, and kept as the last known grant for `max_stale` seconds (`stale`).

    Unknown keys are not remembered, so that a key works as soon as it is created.
    """

    def __init__(
        self,
        ttl: float = API_KEY_CACHE_SECONDS,
        max_entries: int = 10_000,
        max_stale: float = API_KEY_STALE_SECONDS,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_stale = max(ttl, max_stale)
        self._entries: dict[str, tuple[float, ApiKeyGrant]] = {}  # api key -> (read at, grant)
        self._refreshing: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # Until then (monotonic), a key with a stale entry is not looked up: the database was unreachable.
        self.database_down_until = 0.0

    def _age(self, api_key: str) -> float | None:
        """Seconds since the key's entry was read; None (and the entry dropped) past `max_stale`."""
        entry = self._entries.get(api_key)
        if entry is None:
            return None
        age = time.monotonic() - entry[0]
        if age >= self.max_stale:
            del self._entries[api_key]
            return None
        return age

    def get(self, api_key: str) -> ApiKeyGrant | None:
        """The key's grant while its entry is younger than `ttl`."""
        age = self._age(api_key)
        return self._entries[api_key][1] if age is not None and age < self.ttl else None

    def stale(self, api_key: str) -> ApiKeyGrant | None:
        """The key's last known grant while younger than `max_stale` (the database unreachable)."""
        return self._entries[api_key][1] if self._age(api_key) is not None else None

    def put(self, api_key: str, grant: ApiKeyGrant) -> None:
        if self.ttl <= 0:
            return
        now = time.monotonic()
        if len(self._entries) >= self.max_entries:
            self._entries = {k: v for k, v in self._entries.items() if now - v[0] < self.max_stale}
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
        self._entries[api_key] = (now, grant)

    def evict(self, api_key: str) -> None:
        self._entries.pop(api_key, None)

    def due_for_refresh(self, api_key: str) -> bool:
        """Whether the key's entry is past half its life with no refresh under way; a True
        answer marks one under way (end it with `refreshed`)."""
        age = self._age(api_key)
        if age is None or age >= self.ttl or api_key in self._refreshing or age < self.ttl / 2:
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


async def resolve_api_key(ctx: GatewayContext, cache: ApiKeyCache, api_key: str) -> ApiKeyGrant:
    """What an active key may do; raises ApiError(-2015, 401) for an unknown or revoked key.
    While the database is unreachable, a key known within `cache.max_stale` keeps its last grant;
    other keys fail as the lookup does (503 -1001)."""
    found = cache.get(api_key)
    if found is not None:
        if cache.due_for_refresh(api_key):
            cache.keep(asyncio.create_task(_refresh(ctx, cache, api_key)))
        return found
    known = cache.stale(api_key)
    if known is not None and time.monotonic() < cache.database_down_until:
        return known
    try:
        found = await lookup_api_key(ctx.pool, fernet_for(ctx.settings.secret_key), api_key)
    except Exception as exc:
        if known is None or not backend_unreachable(exc):
            raise
        cache.database_down_until = time.monotonic() + DATABASE_RETRY_SECONDS
        log.warning("the database is unreachable (%r); using the last known grant of a key", exc)
        return known
    if found is None:
        cache.evict(api_key)
        raise rejected_key()
    cache.put(api_key, found)
    return found


async def _refresh(ctx: GatewayContext, cache: ApiKeyCache, api_key: str) -> None:
    try:
        found = await lookup_api_key(ctx.pool, fernet_for(ctx.settings.secret_key), api_key)
    except Exception:
        log.warning("refreshing an API key failed; its entry expires as usual", exc_info=True)
        cache.refresh_failed(api_key)
        return
    cache.refreshed(api_key, found)
