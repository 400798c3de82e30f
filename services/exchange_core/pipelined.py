"""One Redis connection shared by every coroutine of a process, pipelined automatically; and a
lean channel subscriber (`listen`).

Commands are queued as they are issued and written together once per event-loop iteration;
Redis answers in order, so replies resolve the waiting futures first in, first out. For the short
commands of the order path (reserve, XADD, INCRBY) this costs a fraction of a pooled client's
per-call checkout, timeout context and parsing layers, and many concurrent requests share one
write and one read.

Replies are hiredis's: bytes, int, list, None. An error reply raises ReplyError. A lost
connection fails every command in flight with ConnectionError (whether those ran is unknown to
the caller, as with any client); the next command reconnects.
"""

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import unquote, urlparse

import hiredis
from redis.asyncio import Redis

from exchange_core import store

log = logging.getLogger("exchange_core.pipelined")


def _pack(command: tuple[str | bytes | int, ...]) -> bytes:
    # hiredis's stub annotates a 1-tuple; it packs a command of any length.
    packed: bytes = hiredis.pack_command(command)  # type: ignore[arg-type]
    return packed


class ReplyError(Exception):
    """Redis answered the command with an error (the message is Redis's)."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.reader = hiredis.Reader()
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.out: list[bytes] = []
        self.flush_scheduled = False
        self.barrier: tuple[asyncio.Future[Any], bytes] | None = None  # a WAIT for the next write

    def send(self, loop: asyncio.AbstractEventLoop, command: bytes) -> "asyncio.Future[Any]":
        """Queue `command` for this loop iteration's write; the future gets its reply."""
        future: asyncio.Future[Any] = loop.create_future()
        self.waiting.append(future)
        self.out.append(command)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            loop.call_soon(self.flush)
        return future

    def replicated(
        self, loop: asyncio.AbstractEventLoop, replicas: int, timeout_ms: int
    ) -> "asyncio.Future[Any]":
        """WAIT `replicas` `timeout_ms` at the end of this loop iteration's write: its reply (the
        replicas that have every write sent before it) is shared by every caller of the iteration."""
        if self.barrier is None:
            self.barrier = (loop.create_future(), _pack(("WAIT", replicas, timeout_ms)))
            if not self.flush_scheduled:
                self.flush_scheduled = True
                loop.call_soon(self.flush)
        return self.barrier[0]

    def flush(self) -> None:
        self.flush_scheduled = False
        if self.barrier is not None:
            future, command = self.barrier
            self.barrier = None
            self.waiting.append(future)
            self.out.append(command)
        out, self.out = self.out, []
        if self.transport is not None and not self.lost:
            self.transport.write(b"".join(out))

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            future = self.waiting.popleft()
            if future.done():  # its caller went away
                continue
            if isinstance(reply, hiredis.ReplyError):
                future.set_exception(ReplyError(str(reply)))
            else:
                future.set_result(reply)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        while self.waiting:
            future = self.waiting.popleft()
            if not future.done():
                future.set_exception(ConnectionError(f"connection to Redis lost: {exc}"))


class PipelinedRedis:
    """execute(*args) -> reply, on one auto-pipelined connection to `url` (redis://[:pw@]host:port/db)."""

    # Whether commands on different slots are applied in the order of the execute calls (one
    # connection: yes; a cluster's masters: no, see pipelined_cluster).
    ordered_across_slots = True

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 6379
        self.password = unquote(parsed.password) if parsed.password else None
        self.username = unquote(parsed.username) if parsed.username else None
        self.db = int(parsed.path.lstrip("/") or 0)
        self._conn: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Lock | None = None
        self.scripts: dict[bytes, bytes] = {}  # sha1 -> body of the scripts sent by EVALSHA

    @classmethod
    def like(cls, client: Redis) -> "PipelinedRedis":
        """A pipelined connection to the server and database that `client` uses; on a Redis
        Cluster client, a pipelined_cluster.ClusterPipelined to its masters."""
        if store.is_cluster(client):
            from exchange_core.pipelined_cluster import ClusterPipelined

            host, port, options = store.cluster_seed_node(client)
            cluster = ClusterPipelined(f"redis://{host}:{port}/0")
            cluster.username, cluster.password = options.get("username"), options.get("password")
            return cluster
        kw = client.connection_pool.connection_kwargs
        pipelined = cls(f"redis://{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{kw.get('db', 0)}")
        pipelined.username = kw.get("username")
        pipelined.password = kw.get("password")
        return pipelined

    def execute(self, *args: str | bytes | int) -> "asyncio.Future[Any]":
        """Queue one command now (commands are sent in the order of these calls); await the result
        for its reply (raises ReplyError, ConnectionError)."""
        command = _pack(args)
        conn, loop = self._conn, self._loop
        if conn is not None and not conn.lost and loop is asyncio.get_running_loop():
            return conn.send(loop, command)
        return asyncio.ensure_future(self._connect_and_send(command))  # tasks start in call order

    async def connect(self) -> None:
        """Open the connection now, if it is not open (`execute` opens it on first use, and the
        commands issued meanwhile wait for the connection's round trips)."""
        await self._connect()

    def remember_script(self, sha: str, body: str) -> None:
        """The body of a script that callers send with EVALSHA `sha`: on a cluster, a master
        that answers NOSCRIPT (a replica promoted after a failover starts without scripts) is
        sent it with SCRIPT LOAD and the call again."""
        self.scripts[sha.encode()] = body.encode()

    @property
    def connected(self) -> bool:
        return self._conn is not None and not self._conn.lost

    async def replicated(self, key: str | bytes, replicas: int, timeout_ms: int) -> int:
        """How many replicas have every write this connection sent so far (`key` names the slot on
        a cluster; one Redis has one connection): Redis's WAIT, at most `timeout_ms`, one WAIT per
        loop iteration shared by its callers. Durable acknowledgements (docs/cluster.md)."""
        conn, loop = self._conn, self._loop
        if conn is None or conn.lost or loop is not asyncio.get_running_loop():
            conn, loop = await self._connect(), asyncio.get_running_loop()
        return int(await asyncio.shield(conn.replicated(loop, replicas, timeout_ms)))

    async def replicated_everywhere(self, replicas: int, timeout_ms: int) -> int:
        """The least number of replicas that have this process's writes, over every master it
        wrote to (one Redis: `replicated`)."""
        return await self.replicated(b"", replicas, timeout_ms)

    async def _connect_and_send(self, command: bytes) -> Any:
        conn = await self._connect()
        assert self._loop is not None
        return await conn.send(self._loop, command)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): forget the old one's connection
            self._loop, self._conn, self._connecting = loop, None, asyncio.Lock()
        assert self._connecting is not None
        async with self._connecting:
            if self._conn is not None and not self._conn.lost:
                return self._conn
            _, conn = await loop.create_connection(_Connection, self.host, self.port)
            hello: list[tuple[str | bytes | int, ...]] = []
            if self.password is not None:
                auth = (self.username, self.password) if self.username else (self.password,)
                hello.append(("AUTH", *auth))
            if self.db:
                hello.append(("SELECT", self.db))
            for command in hello:
                await conn.send(loop, _pack(command))
            self._conn = conn
            return conn

    async def subscriber_address(self, channel: str) -> tuple[str, int, str]:
        """Where `listen` subscribes to `channel`: host, port and the subscribe command."""
        return self.host, self.port, "SUBSCRIBE"

    async def aclose(self) -> None:
        if self._conn is not None and self._conn.transport is not None:
            self._conn.transport.close()
        self._conn = None


class _Subscription(asyncio.Protocol):
    """A connection in subscribe mode: each published payload goes to `on_message`."""

    def __init__(self, on_message: Callable[[bytes], None]) -> None:
        self.reader = hiredis.Reader()
        self.on_message = on_message
        loop = asyncio.get_running_loop()
        self.subscribed: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        while (reply := self.reader.gets()) is not False:
            kind = reply[0] if isinstance(reply, list) else None
            if kind == b"message" or kind == b"smessage":
                self.on_message(reply[2])
            elif kind == b"subscribe" or kind == b"ssubscribe":
                if not self.subscribed.done():
                    self.subscribed.set_result(None)
            elif kind == b"sunsubscribe" and self.transport is not None:  # its slot moved
                self.transport.close()
            elif isinstance(reply, hiredis.ReplyError):  # AUTH refused, say
                log.error("Redis refused the subscription: %s", reply)
                if self.transport is not None:
                    self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)
        if not self.subscribed.done():
            self.subscribed.set_exception(ConnectionError(f"connection to Redis lost: {exc}"))


async def listen(
    server: PipelinedRedis,
    channel: str,
    on_message: Callable[[bytes], None],
    ready: asyncio.Event,
    name: str = "",
) -> None:
    """Deliver every message published on `channel` to `on_message`, resubscribing after a lost
    connection (messages published meanwhile are missed); sets `ready` once subscribed. `name`
    (no spaces) names the connection in CLIENT LIST. Runs until cancelled."""
    loop = asyncio.get_running_loop()
    while True:
        sub: _Subscription | None = None
        try:
            host, port, subscribe = await server.subscriber_address(channel)
            _, sub = await loop.create_connection(lambda: _Subscription(on_message), host, port)
            hello: list[tuple[str | bytes | int, ...]] = []
            if server.password is not None:
                hello.append(("AUTH", *((server.username,) if server.username else ()), server.password))
            if name:
                hello.append(("CLIENT", "SETNAME", name))
            hello.append((subscribe, channel))
            assert sub.transport is not None
            sub.transport.write(b"".join(_pack(command) for command in hello))
            await sub.subscribed
            ready.set()
            await sub.closed
            log.warning("subscription to %s lost; subscribing again", channel)
        except (OSError, ConnectionError) as exc:
            log.warning("cannot subscribe to %s (%s); retrying", channel, exc)
        finally:
            if sub is not None and sub.transport is not None:
                sub.transport.close()
        await asyncio.sleep(0.5)
