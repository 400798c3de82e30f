"""API keys looked up through an in-process cache.

A key revoked, or whose permissions or trusted IPs changed, on another gateway process keeps its
old rights there for at most API_KEY_CACHE_SECONDS (5 s); the process that makes the change
evicts it at once. A key in use is looked up again in the background once its entry is half that
old, so busy keys never expire together and stall their requests on the database.
"""

import asyncio
import logging
import time
from functools import lru_cache

from cryptography.fernet import Fernet
from starlette.datastructures import State

from gateway.accounts import lookup_api_key
from gateway.context import GatewayContext
from gateway.keyrules import ApiKeyGrant, rejected_key

log = logging.getLogger("gateway.keycache")

API_KEY_CACHE_SECONDS = 5.0


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
