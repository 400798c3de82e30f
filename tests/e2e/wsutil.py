"""Helpers for the WebSocket tier's end-to-end tests: the `python -m ws` process next to engines
(or next to a running_stack), and a client that collects what it receives."""

import asyncio
import json
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from exchange_core import store
from exchange_core.keys import Keys
from launcher.stack import free_port
from launcher.supervisor import Supervisor
from tests import services

REDIS_URL = "redis://127.0.0.1:6379/0"


def wait_for_port(port: int, supervisor: Supervisor, name: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        process = supervisor.services[name].process
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{name} exited at start-up")
        time.sleep(0.1)
    raise RuntimeError(f"{name} does not listen on {port}")


def start_ws(supervisor: Supervisor, name: str = "ws", **env: str) -> str:
    """Start `python -m ws` under `supervisor` on a free port; returns its ws:// base URL."""
    port = free_port()
    supervisor.add(name, "ws", PORT=str(port), WS_PORT=str(port), **env)
    supervisor.start(name)
    wait_for_port(port, supervisor, name)
    return f"ws://127.0.0.1:{port}"


@dataclass
class WsEnv:
    prefix: str
    keys: Keys
    ws_url: str
    supervisor: Supervisor
    log_dir: Path
    redis_url: str = REDIS_URL  # the Redis (or redis+cluster://) the processes use

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()[-4000:]}" for p in sorted(self.log_dir.glob("*.log")))


@contextmanager
def ws_with_engines(symbols: list[str], redis_url: str = REDIS_URL, **ws_env: str) -> Iterator[WsEnv]:
    """Engines for `symbols` (no gateway, no settlement: commands go straight to cmd:{SYMBOL})
    and a ws process on `redis_url`, under a key prefix of their own that is deleted afterwards."""
    prefix = services.new_prefix()
    log_dir = Path(tempfile.mkdtemp(prefix="ws-e2e-"))
    supervisor = Supervisor({"REDIS_URL": redis_url, "KEY_PREFIX": prefix, "LOG_LEVEL": "INFO"}, log_dir)
    env = WsEnv(prefix, Keys(prefix), "", supervisor, log_dir, redis_url)
    try:
        for symbol in symbols:
            name = f"engine-{symbol}"
            supervisor.add(name, "engine", SYMBOL=symbol, CONSUMER=name, TRIM_JOURNAL="false")
            supervisor.start(f"engine-{symbol}")
        env.ws_url = start_ws(supervisor, **ws_env)
        yield env
    except BaseException:
        print(env.logs())
        raise
    finally:
        supervisor.stop_all()
        asyncio.run(services.delete_prefix(prefix))


class Collector:
    """A client connection whose every received frame is decoded and kept, in order."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.messages: list[Any] = []
        self.arrived = asyncio.Event()
        self.closed: BaseException | None = None
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> "Collector":
        return cls(await connect(url, max_size=None, **kwargs))

    async def _read(self) -> None:
        try:
            async for raw in self.conn:
                self.messages.append(json.loads(raw))
                self.arrived.set()
        except Exception as exc:  # the connection's end, kept for the test to inspect
            self.closed = exc
        else:
            self.closed = EOFError("closed")
        self.arrived.set()

    async def wait_for(self, predicate: Any, timeout: float = 10.0) -> Any:
        """The first kept message (from the start) for which predicate(message) is true."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for message in self.messages[seen:]:
                if predicate(message):
                    return message
            seen = len(self.messages)
            if self.closed is not None:
                raise AssertionError(f"connection closed ({self.closed!r}) before the expected message")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no expected message within {timeout} s; last: {self.messages[-3:]}")
            self.arrived.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), remaining)

    async def request(self, method: str, params: list[Any] | None, request_id: Any) -> Any:
        """Send a request and return its answer (the message with the same id)."""
        body: dict[str, Any] = {"method": method, "id": request_id}
        if params is not None:
            body["params"] = params
        await self.conn.send(json.dumps(body))
        return await self.wait_for(
            lambda m: isinstance(m, dict) and m.get("id") == request_id and ("result" in m or "error" in m)
        )

    async def close(self) -> None:
        await self.conn.close()
        await self.task


async def wait_subscribed(redis: Any, channel: str, timeout: float = 10.0) -> None:
    """Until some process (the ws tier) is subscribed to `channel` (a shard channel on a cluster)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if store.is_cluster(redis):  # asked of the channel's master: only it knows
            await redis.initialize()
            node = redis.get_node_from_key(channel)
            counts = await redis.execute_command("PUBSUB SHARDNUMSUB", channel, target_nodes=node)
        else:
            counts = await redis.pubsub_numsub(channel)
        if counts and counts[0][1] > 0:
            await asyncio.sleep(0.2)  # the snapshot read that follows the subscription
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"nobody subscribed to {channel}")
