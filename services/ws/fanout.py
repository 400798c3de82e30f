"""Fan-out: who is subscribed to what, and writing one serialized message to all of them.

A message is serialized once per process, and framed at most twice (raw and combined
`{"stream": name, "data": payload}`); the same frame bytes go to every subscriber's transport
without awaiting anything, so no client can slow the others. A client whose unsent bytes pass
`max_pending_bytes` is a slow consumer: it is disconnected at once (its transport aborted), never
buffered without bound. Server-to-client frames are unmasked, so one frame suits every client.
"""

import asyncio
import logging
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from marketdata.publisher import FeedCounters

log = logging.getLogger("ws.fanout")

_OPEN = State.OPEN


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked WebSocket text frame holding `payload` (RFC 6455, section 5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


@dataclass
class Counters(FeedCounters):
    """Plain integer counters of the process (exported as metrics by ws.telemetry)."""

    clients: int = 0
    connections: int = 0
    rejected_connections: int = 0
    messages: int = 0
    bytes: int = 0
    slow_consumer_drops: int = 0
    closed_by_server: int = 0
    requests: int = 0
    request_errors: int = 0
    user_messages: int = 0


class Client:
    """One WebSocket connection. `combined` wraps payloads as Binance's combined streams do;
    `streams` holds its subscriptions in subscription order."""

    __slots__ = (
        "combined",
        "conn",
        "connected_at",
        "dropped",
        "id",
        "last_request",
        "protocol",
        "streams",
        "token_time",
        "tokens",
        "transport",
    )

    def __init__(self, client_id: int, conn: ServerConnection, combined: bool, burst: int) -> None:
        self.id = client_id
        self.conn = conn
        self.transport: asyncio.Transport = conn.transport
        self.protocol = conn.protocol
        self.combined = combined
        self.streams: dict[str, None] = {}
        now = time.monotonic()
        self.connected_at = now
        self.last_request = now
        self.tokens = float(burst)
        self.token_time = now
        self.dropped = False

    def allow_request(self, rate: float, burst: int) -> bool:
        """Take one token of the incoming-message bucket; False when it is empty."""
        now = time.monotonic()
        self.tokens = min(float(burst), self.tokens + (now - self.token_time) * rate)
        self.token_time = now
        self.last_request = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def __hash__(self) -> int:
        return self.id

    def __eq__(self, other: object) -> bool:
        return self is other


class Hub:
    """Subscriptions by stream name. `on_first(name)` runs when a stream gets its first
    subscriber, `on_last(name)` when it loses its last one."""

    def __init__(
        self,
        max_pending_bytes: int,
        counters: Counters,
        on_first: Callable[[str], None],
        on_last: Callable[[str], None],
    ) -> None:
        self.max_pending_bytes = max_pending_bytes
        self.counters = counters
        self.on_first = on_first
        self.on_last = on_last
        self.subscribers: dict[str, dict[Client, None]] = {}

    def has(self, name: str) -> bool:
        return name in self.subscribers

    def add(self, client: Client, names: Iterable[str]) -> None:
        for name in names:
            if name in client.streams:
                continue
            client.streams[name] = None
            clients = self.subscribers.get(name)
            if clients is None:
                self.subscribers[name] = {client: None}
                self.on_first(name)
            else:
                clients[client] = None

    def remove(self, client: Client, names: Iterable[str]) -> None:
        for name in names:
            if name not in client.streams:
                continue
            del client.streams[name]
            clients = self.subscribers.get(name)
            if clients is None:
                continue
            clients.pop(client, None)
            if not clients:
                del self.subscribers[name]
                self.on_last(name)

    def remove_all(self, client: Client) -> None:
        self.remove(client, list(client.streams))

    def publish(self, name: str, payload: bytes) -> None:
        """Write `payload` (a JSON document) to every subscriber of `name`."""
        clients = self.subscribers.get(name)
        if not clients:
            return
        raw = combined = b""
        limit = self.max_pending_bytes
        slow: list[Client] = []
        sent = written = 0
        for client in clients:
            if client.protocol.state is not _OPEN:
                continue
            if client.combined:
                if not combined:
                    combined = text_frame(b'{"stream":"%s","data":%s}' % (name.encode(), payload))
                frame = combined
            else:
                if not raw:
                    raw = text_frame(payload)
                frame = raw
            transport = client.transport
            transport.write(frame)
            sent += 1
            written += len(frame)
            if transport.get_write_buffer_size() > limit:
                slow.append(client)
        counters = self.counters
        counters.messages += sent
        counters.bytes += written
        for client in slow:
            self.drop_slow(client)

    def send(self, client: Client, payload: bytes) -> None:
        """Write `payload` to one client (a request's answer), with the same slow-consumer rule."""
        if client.dropped or client.protocol.state is not _OPEN:
            return
        frame = text_frame(payload)
        client.transport.write(frame)
        self.counters.messages += 1
        self.counters.bytes += len(frame)
        if client.transport.get_write_buffer_size() > self.max_pending_bytes:
            self.drop_slow(client)

    def drop_slow(self, client: Client) -> None:
        """Disconnect a client that does not keep up: no more writes, its buffer discarded."""
        if client.dropped:
            return
        client.dropped = True
        self.counters.slow_consumer_drops += 1
        log.info("client %d dropped: slow consumer (%d bytes pending)", client.id,
                 client.transport.get_write_buffer_size())  # fmt: skip
        self.remove_all(client)
        client.transport.abort()
