"""What a pub/sub bus is asked for (marketdata.bus.Bus on one Redis, marketdata.shardbus.ShardBus
on a cluster): each channel's handler and on-ready callback, and the subscribe and unsubscribe
requests in the order they were made."""

import asyncio
from collections.abc import Callable

Handler = Callable[[bytes], None]


class ChannelHandlers:
    def __init__(self) -> None:
        self.handlers: dict[bytes, Handler] = {}
        self.on_ready: dict[bytes, Callable[[], None]] = {}
        self.commands: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self.joining: dict[bytes, int] = {}  # subscribe requests per channel not yet confirmed

    def subscribe(self, channel: str, handler: Handler, on_ready: Callable[[], None] | None = None) -> None:
        """Deliver `channel`'s messages to `handler`; `on_ready` runs once the subscription is
        confirmed (every message published after that arrives)."""
        key = channel.encode()
        self.handlers[key] = handler
        if on_ready is not None:
            self.on_ready[key] = on_ready
        self.joining[key] = self.joining.get(key, 0) + 1
        self.commands.put_nowait(("subscribe", key))

    def unsubscribe(self, channel: str) -> None:
        key = channel.encode()
        self.handlers.pop(key, None)
        self.on_ready.pop(key, None)
        self.commands.put_nowait(("unsubscribe", key))

    def confirmed(self, channel: bytes) -> None:
        """A subscription to `channel` is confirmed: once the last one asked for is (an earlier
        one's confirmation may arrive before an unsubscribe and a new subscribe take effect), run
        its on-ready callback, once."""
        left = self.joining.pop(channel, 0) - 1
        if left > 0:
            self.joining[channel] = left
            return
        ready = self.on_ready.pop(channel, None)
        if ready is not None and channel in self.handlers:
            ready()
