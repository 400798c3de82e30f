"""The Redis pub/sub side: one connection per process, subscribed only to the channels some
client needs (md.{SYMBOL}, user.{uid}) plus a control channel of its own so that it is never
empty. Subscribe and unsubscribe commands go out in the order they were asked for."""

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis

from exchange_core import store
from marketdata.channels import ChannelHandlers
from marketdata.shardbus import ShardBus

log = logging.getLogger("marketdata.bus")

Handler = Callable[[bytes], None]


def connect_bus(redis: Redis, control_channel: str) -> "Bus | ShardBus":
    """A Bus on one Redis; on a Redis Cluster a ShardBus (shard channels, per master)."""
    return ShardBus(redis) if store.is_cluster(redis) else Bus(redis, control_channel)


class Bus(ChannelHandlers):
    def __init__(self, redis: Redis, control_channel: str) -> None:
        super().__init__()
        self.pubsub = redis.pubsub()
        self.control = control_channel.encode()

    async def run(self) -> None:
        """Read and dispatch messages, and send queued (un)subscriptions, until cancelled.
        A lost Redis connection ends it with the error (the process restarts)."""
        await self.pubsub.subscribe(self.control)
        writer = asyncio.create_task(self._send_commands())
        try:
            await self._read()
        finally:
            writer.cancel()
            await self.pubsub.aclose()

    async def _send_commands(self) -> None:
        while True:
            op, channel = await self.commands.get()
            if op == "subscribe":
                await self.pubsub.subscribe(channel)
            else:
                await self.pubsub.unsubscribe(channel)

    async def _read(self) -> None:
        pubsub = self.pubsub
        handlers = self.handlers
        while True:
            message: dict[str, Any] | None = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            kind = message["type"]
            channel = message["channel"]
            if kind == "message":
                handler = handlers.get(channel)
                if handler is not None:
                    handler(message["data"])
            elif kind == "subscribe":
                self.confirmed(channel)
