"""Streams opened with an API key end when the key is revoked.

A gRPC user stream (StreamExecutionReports, StreamAccount) or a WebSocket API user data
subscription is opened with an API key and then runs without another request carrying it, so
the key is checked again while it runs: `KeyWatch.watching` registers the stream's way to end,
`run` looks every watched key up again every CHECK_S through the gateway's key cache (gateway
.keycache: at most API_KEY_CACHE_SECONDS old), and a key that is gone (revoked), or that no
longer trusts the stream's IP, ends its streams with -2015. The process that revokes a key calls
`revoked` at once; other gateway processes end its streams within API_KEY_CACHE_SECONDS + CHECK_S.
A lookup that fails (the database unreachable) ends nothing.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator

from exchange_core.errors import ApiError
from gateway.context import GatewayContext
from gateway.keycache import ApiKeyCache, resolve_api_key
from gateway.keyrules import check_key_use, rejected_key

log = logging.getLogger("gateway.keywatch")

CHECK_S = 1.0

End = Callable[[ApiError], None]


class KeyWatch:
    """The API keys of this process's running streams, each with its streams' (IP, end)."""

    def __init__(self, ctx: GatewayContext, cache: ApiKeyCache, period_s: float = CHECK_S) -> None:
        self.ctx = ctx
        self.cache = cache
        self.period_s = period_s
        self.streams: dict[str, dict[object, tuple[str | None, End]]] = {}

    @contextlib.contextmanager
    def watching(self, api_key: str, ip: str | None, end: End) -> Iterator[None]:
        """While inside, `end(error)` is called (once) when `api_key` is revoked or stops trusting
        `ip` (None: unknown)."""
        token = object()
        self.streams.setdefault(api_key, {})[token] = (ip, end)
        try:
            yield
        finally:
            entries = self.streams.get(api_key)
            if entries is not None:
                entries.pop(token, None)
                if not entries:
                    del self.streams[api_key]

    def revoked(self, api_key: str, error: ApiError | None = None) -> int:
        """End every stream of `api_key` now; returns how many."""
        entries = self.streams.pop(api_key, {})
        for _, end in entries.values():
            end(error or rejected_key())
        return len(entries)

    async def run(self) -> None:
        """Check the watched keys every period_s, until cancelled."""
        while True:
            await asyncio.sleep(self.period_s)
            await self.check()

    async def check(self) -> None:
        """Look each watched key up again; end the streams of one revoked or no longer trusting
        their IP."""
        failed: Exception | None = None
        for api_key in list(self.streams):
            try:
                grant = await resolve_api_key(self.ctx, self.cache, api_key)
            except ApiError as refused:
                self.revoked(api_key, refused)
                continue
            except Exception as exc:
                failed = exc
                continue
            entries = self.streams.get(api_key, {})
            for token, (ip, end) in list(entries.items()):
                try:
                    check_key_use(grant, ip, trading=False)
                except ApiError as refused:
                    entries.pop(token, None)
                    end(refused)
        if failed is not None:
            log.warning("API key lookups failed; their streams go on: %r", failed)
