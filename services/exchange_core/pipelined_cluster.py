"""PipelinedRedis on a Redis Cluster: one auto-pipelined connection per master, each command sent
to the master of its key's slot.

The slot map comes from CLUSTER SLOTS (asked of the seed node, then of any known master) on first
use and again after a MOVED reply or a lost connection. A MOVED reply re-sends the command to the
node it names (and updates that slot); ASK sends it there once, preceded by ASKING, on the same
connection. A TRYAGAIN reply (a multi-key command whose keys are split by a slot's migration),
a CLUSTERDOWN reply, or a refused connection (a master that died, until its replica is promoted)
means Redis did not run the command: it is sent again to the slot's master, as a reloaded map
says, for at most RETRY_S. The caller sees none of these: its future gets the reply from the node
that holds the key. A connection lost with commands in flight fails them (whether they ran is
unknown) and the map is reloaded for the next command.

Order: commands to one master keep the order of the `execute` calls (one connection); commands to
different masters have none, so a caller that needs one write to land before another in a
different slot awaits the first (`ordered_across_slots` is False). PUBLISH becomes SPUBLISH: a
channel's messages go through its slot's shard (docs/cluster.md).
"""

import asyncio
from typing import Any

from redis.crc import key_slot

from exchange_core.pipelined import PipelinedRedis, ReplyError

SLOTS = 16384
# How long a command that Redis did not run (TRYAGAIN, CLUSTERDOWN, a refused connection) is sent
# again: past a failover (node timeout + election) and a slot's migration.
RETRY_S = 20.0
RETRY_PAUSE_S = 0.05
_SCRIPT_CALLS = {b"EVALSHA", b"EVAL", b"FCALL", b"EVALSHA_RO", b"EVAL_RO", b"FCALL_RO"}


def routing_key(args: tuple[str | bytes | int, ...]) -> bytes | None:
    """The key (or shard channel) whose slot a command goes to; None for a command without one."""
    name = _bytes(args[0]).upper()
    if name in _SCRIPT_CALLS:
        return _bytes(args[3]) if int(args[2]) > 0 else None
    return _bytes(args[1]) if len(args) > 1 else None


def _bytes(word: str | bytes | int) -> bytes:
    return word if isinstance(word, bytes) else str(word).encode()


class ClusterPipelined(PipelinedRedis):
    """PipelinedRedis's execute/aclose on a cluster reached through `url`'s node."""

    ordered_across_slots = False

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._nodes: dict[tuple[str, int], PipelinedRedis] = {}
        self._slots: list[PipelinedRedis | None] = [None] * SLOTS
        self._loading: asyncio.Task[None] | None = None

    def node(self, host: str, port: int) -> PipelinedRedis:
        """The pipelined connection to the node at host:port (made once)."""
        address = (host, port)
        conn = self._nodes.get(address)
        if conn is None:
            conn = PipelinedRedis(f"redis://{host}:{port}/0")
            conn.username, conn.password = self.username, self.password
            self._nodes[address] = conn
        return conn

    async def node_for(self, key: bytes) -> PipelinedRedis:
        """The connection to the master of `key`'s slot (loading the slot map when needed)."""
        conn = self._slots[key_slot(key)]
        if conn is None:
            await self.refresh()
            conn = self._slots[key_slot(key)]
            if conn is None:
                raise ConnectionError(f"no Redis Cluster master serves the slot of {key!r}")
        return conn

    def execute(self, *args: str | bytes | int) -> "asyncio.Future[Any]":
        if args[0] in ("PUBLISH", b"PUBLISH"):
            args = ("SPUBLISH", *args[1:])
        key = routing_key(args)
        conn = self._slots[key_slot(key)] if key is not None else self._any()
        loop = asyncio.get_running_loop()
        if conn is None:
            return asyncio.ensure_future(self._send_when_mapped(key, args))
        outer: asyncio.Future[Any] = loop.create_future()
        conn.execute(*args).add_done_callback(lambda inner: self._settle(outer, inner, args))
        return outer

    async def replicated(self, key: str | bytes, replicas: int, timeout_ms: int) -> int:
        node = await self.node_for(_bytes(key))
        return await node.replicated(key, replicas, timeout_ms)

    async def replicated_everywhere(self, replicas: int, timeout_ms: int) -> int:
        nodes = [node for node in self._nodes.values() if node.connected]
        counts = await asyncio.gather(*(node.replicated(b"", replicas, timeout_ms) for node in nodes))
        return min(counts, default=replicas)

    def _any(self) -> PipelinedRedis | None:
        return next((conn for conn in self._slots if conn is not None), None)

    async def _send_when_mapped(self, key: bytes | None, args: tuple[str | bytes | int, ...]) -> Any:
        return await self._redirected(await self._route(args), args)

    def _settle(
        self, outer: "asyncio.Future[Any]", inner: "asyncio.Future[Any]", args: tuple[Any, ...]
    ) -> None:
        exc = None if inner.cancelled() else inner.exception()
        if _unsent(exc) and not outer.done():
            task = asyncio.ensure_future(self._redirected(inner, args))
            task.add_done_callback(lambda done: _copy(done, outer))
            return
        if isinstance(exc, ConnectionError):
            self._forget_map()
        _copy(inner, outer)

    async def _redirected(self, sent: "asyncio.Future[Any]", args: tuple[str | bytes | int, ...]) -> Any:
        """The reply to `args`, following MOVED and ASK replies, and sending it again (to the
        slot's master as the map then says) after a TRYAGAIN or CLUSTERDOWN reply or a refused
        connection, for at most RETRY_S: in each of these cases Redis did not run the command."""
        deadline = asyncio.get_running_loop().time() + RETRY_S
        while True:
            try:
                return await sent
            except ReplyError as exc:
                words = str(exc).split()
                if words[0] in ("TRYAGAIN", "CLUSTERDOWN") and _before(deadline):
                    await asyncio.sleep(RETRY_PAUSE_S)
                    sent = await self._route(args)
                    continue
                if words[0] not in ("MOVED", "ASK") or not _before(deadline):
                    raise
                host, _, port = words[2].rpartition(":")
                target = self.node(host or self.host, int(port))
                if words[0] == "MOVED":
                    self._slots[int(words[1])] = target
                    self._refresh_soon()
                    sent = target.execute(*args)
                else:
                    target.execute("ASKING")
                    sent = target.execute(*args)
            except ConnectionRefusedError:
                self._forget_map()
                if not _before(deadline):
                    raise
                await asyncio.sleep(RETRY_PAUSE_S)
                sent = await self._route(args)
            except ConnectionError:
                self._forget_map()
                raise

    async def _route(self, args: tuple[str | bytes | int, ...]) -> "asyncio.Future[Any]":
        """`args` sent to the master of its key's slot (the map loaded again if need be)."""
        key = routing_key(args)
        try:
            if key is None:
                await self.refresh()
                conn = self._any()
                if conn is None:
                    raise ConnectionRefusedError("no Redis Cluster master known")
            else:
                conn = await self.node_for(key)
        except ConnectionError as exc:  # no node answered: nothing was sent
            raise ConnectionRefusedError(str(exc)) from exc
        return conn.execute(*args)

    def _refresh_soon(self) -> None:
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(self._load())

    def _forget_map(self) -> None:
        self._slots = [None] * SLOTS

    async def refresh(self) -> None:
        """Load the slot map now (one load at a time)."""
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(self._load())
        await asyncio.shield(self._loading)

    async def _load(self) -> None:
        seeds = [self.node(self.host, self.port), *self._nodes.values()]
        error: Exception | None = None
        for seed in seeds:
            try:
                ranges = await seed.execute("CLUSTER", "SLOTS")
            except (ConnectionError, OSError, ReplyError) as exc:
                error = exc
                continue
            slots: list[PipelinedRedis | None] = [None] * SLOTS
            for first, last, master, *_ in ranges:
                host = master[0].decode() if master[0] else self.host
                conn = self.node(host, int(master[1]))
                for slot in range(int(first), int(last) + 1):
                    slots[slot] = conn
            self._slots = slots
            return
        raise ConnectionError(f"no Redis Cluster node answered CLUSTER SLOTS: {error}")

    async def subscriber_address(self, channel: str) -> tuple[str, int, str]:
        """Shard channels are subscribed at the master of their slot, with SSUBSCRIBE."""
        await self.refresh()
        conn = await self.node_for(channel.encode())
        return conn.host, conn.port, "SSUBSCRIBE"

    async def aclose(self) -> None:
        for conn in self._nodes.values():
            await conn.aclose()
        self._nodes.clear()
        self._forget_map()


def _unsent(exc: BaseException | None) -> bool:
    """Whether `exc` says the command must go elsewhere or again: Redis did not run it."""
    if isinstance(exc, ConnectionRefusedError):
        return True
    return isinstance(exc, ReplyError) and str(exc).startswith(("MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN"))


def _before(deadline: float) -> bool:
    return asyncio.get_running_loop().time() < deadline


def _copy(done: "asyncio.Future[Any]", outer: "asyncio.Future[Any]") -> None:
    if outer.done():
        return
    if done.cancelled():
        outer.cancel()
        return
    exc = done.exception()
    if exc is None:
        outer.set_result(done.result())
    else:
        outer.set_exception(exc)
