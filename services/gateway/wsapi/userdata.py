"""User data stream subscriptions of one WebSocket API connection (Binance's
`userDataStream.subscribe.signature`, `userDataStream.unsubscribe`, `session.subscriptions`).

A subscription forwards the user's payloads (settlement's executionReports and
outboundAccountPositions, from gateway.feeds) as `{"subscriptionId": N, "event": payload}`
frames on the connection, in the order settlement published them. Ids count from 0 per
connection. One that falls too far behind (gateway.feeds.MAX_PENDING) or loses its source (Redis
lost) ends with an `eventStreamTerminated` event, as Binance ends a stream; the client
subscribes again. All of a connection's subscriptions end with it.
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from exchange_core.clock import now_ms
from gateway.feeds import MarketFeeds

Send = Callable[[str], Awaitable[None]]


def event_frame(subscription_id: int, payload: dict[str, Any]) -> str:
    return orjson.dumps({"subscriptionId": subscription_id, "event": payload}).decode()


class UserDataSubscriptions:
    def __init__(self, feeds: MarketFeeds, send: Send) -> None:
        self.feeds = feeds
        self.send = send
        self.next_id = 0
        self.running: dict[int, asyncio.Task[None]] = {}

    async def subscribe(self, user_id: int) -> int:
        """A new subscription to the user's events, live (the channel subscribed) when this returns."""
        subscription_id = self.next_id
        self.next_id += 1
        live = asyncio.Event()
        task = asyncio.create_task(self._forward(subscription_id, user_id, live))
        self.running[subscription_id] = task
        task.add_done_callback(lambda _: self.running.pop(subscription_id, None))
        waiting = asyncio.ensure_future(live.wait())
        await asyncio.wait({task, waiting}, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        return subscription_id

    def ids(self) -> list[int]:
        return sorted(self.running)

    async def unsubscribe(self, subscription_id: int | None) -> list[int]:
        """End one subscription (None: all); returns the ids ended."""
        chosen = self.ids() if subscription_id is None else [subscription_id]
        ended = []
        for sid in chosen:
            task = self.running.pop(sid, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                ended.append(sid)
        return ended

    async def close(self) -> None:
        await self.unsubscribe(None)

    async def _forward(self, subscription_id: int, user_id: int, live: asyncio.Event) -> None:
        async with self.feeds.account_stream(user_id, lambda payload: payload) as sink:
            live.set()
            async for payload in sink:
                await self.send(event_frame(subscription_id, payload))
        # The sink was cut off: too far behind, or the source was lost.
        terminated = {"e": "eventStreamTerminated", "E": now_ms()}
        await self.send(event_frame(subscription_id, terminated))
