"""User data stream subscriptions of one WebSocket API connection (Binance's
`userDataStream.subscribe.signature`, `userDataStream.unsubscribe`, `session.subscriptions`).

A subscription forwards the user's payloads (settlement's executionReports, outboundAccountPositions
and listStatus events, from gateway.feeds) as `{"subscriptionId": N, "event": payload}` frames on
the connection, in the order settlement published them. Ids count from 0 per connection. One that
falls too far behind (gateway.feeds.MAX_PENDING) or loses its source (Redis lost) ends with an
`eventStreamTerminated` event, as Binance ends a stream; the client subscribes again. All of a
connection's subscriptions end with it.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from exchange_core.clock import now_ms
from exchange_core.errors import TOO_MANY_REQUESTS, ApiError
from gateway.feeds import MarketFeeds
from gateway.keywatch import KeyWatch

Send = Callable[[str], Awaitable[None]]

MAX_ACTIVE = 1_000
MAX_LIFETIME = 65_535
SUBSCRIPTION_ACTIVE = -2035


def as_is(payload: dict[str, Any]) -> dict[str, Any]:
    """The converter of a subscription's payloads: one function, so that every subscription of a
    user shares one conversion (gateway.feeds.StreamHub groups sinks by converter)."""
    return payload


def event_frame(subscription_id: int, payload: dict[str, Any]) -> str:
    return orjson.dumps({"subscriptionId": subscription_id, "event": payload}).decode()


class UserDataSubscriptions:
    """The subscriptions of one connection, whose client is at `ip` (None: unknown)."""

    def __init__(self, feeds: MarketFeeds, send: Send, watch: KeyWatch, ip: str | None) -> None:
        self.feeds = feeds
        self.send = send
        self.watch = watch
        self.ip = ip
        self.next_id = 0
        self.running: dict[int, asyncio.Task[None]] = {}
        self.user_of: dict[int, int] = {}

    async def subscribe(self, user_id: int, api_key: str) -> int:
        """A new subscription to the user's events, opened with `api_key` (it ends when the key is
        revoked), live (the channel subscribed) when this returns. Raises -2035 when the user
        has one on this connection already, -1003 beyond MAX_ACTIVE or MAX_LIFETIME."""
        if user_id in self.user_of.values():
            raise ApiError(SUBSCRIPTION_ACTIVE, "User Data Stream subscription already active.")
        if len(self.running) >= MAX_ACTIVE:
            raise ApiError(
                TOO_MANY_REQUESTS, f"Too many active subscriptions; the limit per connection is {MAX_ACTIVE}."
            )
        if self.next_id >= MAX_LIFETIME:
            raise ApiError(
                TOO_MANY_REQUESTS,
                f"This connection has had {MAX_LIFETIME} subscriptions, the most it may; open another.",
            )
        subscription_id = self.next_id
        self.next_id += 1
        live = asyncio.Event()
        task = asyncio.create_task(self._forward(subscription_id, user_id, api_key, live))
        self.running[subscription_id] = task
        self.user_of[subscription_id] = user_id
        task.add_done_callback(lambda _: self._ended(subscription_id))
        waiting = asyncio.ensure_future(live.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        return subscription_id

    def _ended(self, subscription_id: int) -> None:
        self.running.pop(subscription_id, None)
        self.user_of.pop(subscription_id, None)

    def ids(self) -> list[int]:
        return sorted(self.running)

    async def unsubscribe(self, subscription_id: int | None) -> list[int]:
        """End one subscription (None: all); returns the ids ended."""
        chosen = self.ids() if subscription_id is None else [subscription_id]
        ended = []
        for sid in chosen:
            task = self.running.pop(sid, None)
            self.user_of.pop(sid, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                ended.append(sid)
        return ended

    async def close(self) -> None:
        await self.unsubscribe(None)

    async def _forward(self, subscription_id: int, user_id: int, api_key: str, live: asyncio.Event) -> None:
        async with self.feeds.user_data_stream(user_id, as_is) as sink:
            with self.watch.watching(api_key, self.ip, sink.cut_off):
                live.set()
                async for payload in sink:
                    await self.send(event_frame(subscription_id, payload))
        # The sink was cut off: too far behind, the source was lost, or the key revoked.
        terminated = {"e": "eventStreamTerminated", "E": now_ms()}
        await self.send(event_frame(subscription_id, terminated))
