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
        self._masters: set[PipelinedRedis] = set()  # the masters of the map
        # Where a redirected or resent command landed, and when: a WAIT covers these too.
        self._landed: dict[PipelinedRedis, float] = {}
        self._redirecting: set[asyncio.Future[Any]] = set()

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

    async def connect(self) -> None:
        """Load the slot map and open the connection to each of its masters."""
        await self.refresh()
        for master in list(self._masters):
            await master.connect()

    async def replicated(self, key: str | bytes, replicas: int, timeout_ms: int) -> int:
        """The least number of replicas that have the writes sent so far to `key`'s master, and to
        every master a command was redirected or resent to within RETRY_S (once those commands
        have landed). A node that refuses WAIT (a master turned replica) or cannot be reached
        counts 0: the caller answers "status unknown", and the map is loaded again."""
        await self._redirects_landed()
        try:
            nodes = {await self.node_for(_bytes(key)), *self._recent_landings()}
        except ConnectionError:
            return 0
        return await self._wait_on(nodes, replicas, timeout_ms)

    async def replicated_everywhere(self, replicas: int, timeout_ms: int) -> int:
        """`replicated` over every master of the map (and recent landings)."""
        await self._redirects_landed()
        if not self._masters:
            try:
                await self.refresh()
            except ConnectionError:
                return 0
        nodes = {node for node in self._masters if node.connected} | self._recent_landings()
        return await self._wait_on(nodes, replicas, timeout_ms)

    async def _wait_on(self, nodes: set[PipelinedRedis], replicas: int, timeout_ms: int) -> int:
        counts = await asyncio.gather(
            *(node.replicated(b"", replicas, timeout_ms) for node in nodes), return_exceptions=True
        )
        if any(isinstance(count, BaseException) for count in counts):
            self._forget_map()
            return 0
        return min((int(count) for count in counts if not isinstance(count, BaseException)), default=replicas)

    async def _redirects_landed(self) -> None:
        if self._redirecting:
            await asyncio.wait(list(self._redirecting))

    def _recent_landings(self) -> set[PipelinedRedis]:
        if not self._landed:
            return set()
        since = asyncio.get_running_loop().time() - RETRY_S
        for node in [node for node, at in self._landed.items() if at < since]:
            del self._landed[node]
        return set(self._landed)

    def _any(self) -> PipelinedRedis | None:
        return next((conn for conn in self._slots if conn is not None), None)

    async def _send_when_mapped(self, key: bytes | None, args: tuple[str | bytes | int, ...]) -> Any:
        _, sent = await self._route(args)  # not a redirect: the map names the node
        return await self._redirected(sent, args)

    def _settle(
        self, outer: "asyncio.Future[Any]", inner: "asyncio.Future[Any]", args: tuple[Any, ...]
    ) -> None:
        exc = None if inner.cancelled() else inner.exception()
        if _unsent(exc, args) and not outer.done():
            task = asyncio.ensure_future(self._redirected(inner, args))
            self._redirecting.add(task)
            task.add_done_callback(self._redirecting.discard)
            task.add_done_callback(lambda done: _copy(done, outer))
            return
        if isinstance(exc, ConnectionError):
            self._forget_map()
        _copy(inner, outer)

    async def _redirected(
        self,
        sent: "asyncio.Future[Any]",
        args: tuple[str | bytes | int, ...],
        landing: PipelinedRedis | None = None,
    ) -> Any:
        """The reply to `args`, following MOVED and ASK replies, and sending it again (to the
        slot's master as the map then says) after a TRYAGAIN or CLUSTERDOWN reply or a refused
        connection, for at most RETRY_S, and after NOSCRIPT with the script loaded first (if its
        body is known): in each of these cases Redis did not run the command."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RETRY_S
        while True:
            try:
                reply = await sent
                if landing is not None:
                    self._landed[landing] = loop.time()
                return reply
            except ReplyError as exc:
                words = str(exc).split()
                if not _before(deadline):
                    raise
                if words[0] in ("TRYAGAIN", "CLUSTERDOWN"):
                    await asyncio.sleep(RETRY_PAUSE_S)
                    landing, sent = await self._route(args)
                elif words[0] == "NOSCRIPT" and _bytes(args[1]) in self.scripts:
                    landing, sent = await self._route(args, ("SCRIPT", "LOAD", self.scripts[_bytes(args[1])]))
                elif words[0] in ("MOVED", "ASK"):
                    host, _, port = words[2].rpartition(":")
                    target = self.node(host or self.host, int(port))
                    if words[0] == "MOVED":
                        self._slots[int(words[1])] = target
                        self._masters.add(target)
                        self._refresh_soon()
                    else:
                        target.execute("ASKING")
                    landing, sent = target, target.execute(*args)
                else:
                    raise
            except ConnectionRefusedError:
                self._forget_map()
                if not _before(deadline):
                    raise
                await asyncio.sleep(RETRY_PAUSE_S)
                landing, sent = await self._route(args)
            except ConnectionError:
                self._forget_map()
                raise

    async def _route(
        self, args: tuple[str | bytes | int, ...], before: tuple[str | bytes | int, ...] | None = None
    ) -> tuple[PipelinedRedis, "asyncio.Future[Any]"]:
        """`args` sent to the master of its key's slot (the map loaded again if need be), after
        `before` on the same connection when given: that connection and the reply's future."""
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
        if before is not None:
            conn.execute(*before)
        return conn, conn.execute(*args)

    def _refresh_soon(self) -> None:
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(self._load())

    def _forget_map(self) -> None:
        self._slots = [None] * SLOTS
        self._masters = set()

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
            self._masters = {conn for conn in slots if conn is not None}
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


def _unsent(exc: BaseException | None, args: tuple[Any, ...]) -> bool:
    """Whether `exc` says the command must go elsewhere or again: Redis did not run it."""
    if isinstance(exc, ConnectionRefusedError):
        return True
    if not isinstance(exc, ReplyError):
        return False
    return str(exc).startswith(("MOVED ", "ASK ", "TRYAGAIN", "CLUSTERDOWN")) or (
        str(exc).startswith("NOSCRIPT") and _bytes(args[0]).upper() == b"EVALSHA"
    )


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
