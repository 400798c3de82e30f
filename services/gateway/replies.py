"""One reply channel per gateway process: futures keyed by correlation id, bounded waits."""

import asyncio
import contextlib
import logging

from google.protobuf.message import DecodeError
from redis.asyncio import Redis

from exchange_core.pipelined import PipelinedRedis, listen
from exchange_proto import events_pb2 as epb

log = logging.getLogger("gateway.replies")


class ReplyListener:
    """Subscribes to this gateway's reply channel and hands each Reply to whoever waits for it."""

    def __init__(self, redis: Redis, channel: str) -> None:
        self.redis = redis
        self.channel = channel
        self._waiting: dict[str, asyncio.Future[epb.EventBatch | None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        # The loop `start` ran on (Python 3.11's get_running_loop makes a getpid() system call).
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._listen())
        await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def expect(self, correlation_id: str) -> "asyncio.Future[epb.EventBatch | None]":
        """Register interest before sending the command, so a fast answer is not missed."""
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[epb.EventBatch | None] = loop.create_future()
        self._waiting[correlation_id] = future
        return future

    def forget(self, correlation_id: str) -> None:
        self._waiting.pop(correlation_id, None)

    async def wait(
        self, correlation_id: str, future: "asyncio.Future[epb.EventBatch | None]", timeout_s: float
    ) -> epb.EventBatch | None:
        """The answer, or None when none came within `timeout_s`."""
        # A timer that resolves the future with None: cheaper than wait_for's task per request.
        timer = future.get_loop().call_later(timeout_s, _resolve_none, future)
        try:
            return await future
        finally:
            timer.cancel()
            self._waiting.pop(correlation_id, None)

    async def _listen(self) -> None:
        server = PipelinedRedis.like(self.redis)
        await listen(server, self.channel, self._deliver, self._ready, name=f"replies:{self.channel}")

    def _deliver(self, data: bytes) -> None:
        try:
            reply = epb.Reply.FromString(data)
        except DecodeError:
            log.error("undecodable reply on %s (%d bytes)", self.channel, len(data))
            return
        future = self._waiting.pop(reply.correlation_id, None)
        if future is not None and not future.done():
            future.set_result(reply.batch)


def _resolve_none(future: "asyncio.Future[epb.EventBatch | None]") -> None:
    if not future.done():
        future.set_result(None)
