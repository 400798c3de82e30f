"""The pub/sub side on a Redis Cluster: Bus's contract with shard channels (SSUBSCRIBE).

A shard channel is served by the master of its slot only, so this keeps one connection in
subscribe mode per master that holds a wanted channel, and sends each SSUBSCRIBE / SUNSUBSCRIBE
to the connection of the channel's master, in the order they were asked for. redis-py's
ClusterPubSub polls the nodes' connections in turn (a message waits for its node's turn); here
every connection delivers as its data arrives. As with Bus, a lost connection, or a channel whose
slot moved to another master (Redis unsubscribes it), ends `run` with the error and the process
restarts. docs/cluster.md.
"""

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

import hiredis
from redis.asyncio import Redis

from exchange_core.pipelined import PipelinedRedis
from marketdata.channels import ChannelHandlers

log = logging.getLogger("marketdata.shardbus")

Handler = Callable[[bytes], None]


def _pack(command: tuple[str | bytes, ...]) -> bytes:
    packed: bytes = hiredis.pack_command(command)  # type: ignore[arg-type]
    return packed


class _NodeSubscriptions(asyncio.Protocol):
    """One master's connection in subscribe mode."""

    def __init__(self, bus: "ShardBus") -> None:
        self.bus = bus
        self.reader = hiredis.Reader()
        self.transport: asyncio.Transport | None = None
        self.leaving: dict[bytes, int] = {}  # SUNSUBSCRIBEs sent on this connection, not yet answered

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        bus = self.bus
        while (reply := self.reader.gets()) is not False:
            kind = reply[0] if isinstance(reply, list) else None
            if kind == b"smessage":
                handler = bus.handlers.get(reply[1])
                if handler is not None:
                    handler(reply[2])
            elif kind == b"ssubscribe":
                bus.confirmed(reply[1])
            elif kind == b"sunsubscribe":
                if self.leaving.get(reply[1], 0):
                    self.leaving[reply[1]] -= 1  # the answer to one we sent
                elif bus.subscribed_at.get(reply[1]) is self:  # not asked for: its slot moved
                    bus.fail(ConnectionError(f"shard channel {reply[1]!r} moved to another master"))
            elif isinstance(reply, hiredis.ReplyError):
                bus.fail(ConnectionError(f"Redis refused a shard subscription: {reply}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.bus.fail(ConnectionError(f"shard pub/sub connection lost: {exc}"))


class ShardBus(ChannelHandlers):
    """subscribe / unsubscribe / run, as marketdata.bus.Bus, on a Redis Cluster client."""

    def __init__(self, redis: Redis) -> None:
        super().__init__()
        self.redis = redis
        self.subscribed_at: dict[bytes, _NodeSubscriptions] = {}
        self._nodes: dict[tuple[str, int], _NodeSubscriptions] = {}
        self._failed: asyncio.Future[None] | None = None

    def fail(self, exc: Exception) -> None:
        if self._failed is not None and not self._failed.done():
            self._failed.set_exception(exc)

    async def run(self) -> None:
        """Send queued (un)subscriptions and deliver messages until cancelled; a lost connection
        ends it with the error."""
        self._failed = asyncio.get_running_loop().create_future()
        cluster = PipelinedRedis.like(self.redis)
        writer = asyncio.create_task(self._send_commands(cluster))
        try:
            await asyncio.wait({writer, self._failed}, return_when=asyncio.FIRST_COMPLETED)
            if writer.done():
                writer.result()
            self._failed.result()
        finally:
            writer.cancel()
            if not self._failed.done():
                self._failed.cancel()  # closing the connections below is no failure
            for node in list(self._nodes.values()):
                if node.transport is not None:
                    node.transport.close()
            self._nodes.clear()
            await cluster.aclose()

    async def _send_commands(self, cluster: PipelinedRedis) -> None:
        while True:
            op, channel = await self.commands.get()
            if op == "unsubscribe":
                node = self.subscribed_at.pop(channel, None)
            else:
                host, port, _ = await cluster.subscriber_address(channel.decode())
                node = await self._node(cluster, host, port)
                self.subscribed_at[channel] = node
            if node is not None and node.transport is not None:
                if op == "unsubscribe":
                    node.leaving[channel] = node.leaving.get(channel, 0) + 1
                node.transport.write(_pack(("SSUBSCRIBE" if op == "subscribe" else "SUNSUBSCRIBE", channel)))

    async def _node(self, cluster: PipelinedRedis, host: str, port: int) -> _NodeSubscriptions:
        node = self._nodes.get((host, port))
        if node is None:
            loop = asyncio.get_running_loop()
            _, node = await loop.create_connection(lambda: _NodeSubscriptions(self), host, port)
            if cluster.password is not None:
                auth: tuple[Any, ...] = (
                    (cluster.username, cluster.password) if cluster.username else (cluster.password,)
                )
                assert node.transport is not None
                node.transport.write(_pack(("AUTH", *auth)))
            self._nodes[(host, port)] = node
        return node
