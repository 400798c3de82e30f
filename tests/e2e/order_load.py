"""A light order generator for load tests under faults, in a process of its own so that the
test process's work does not compete with it: raw HTTP/1.1 keep-alive connections (asyncio
streams on uvloop), each posting signed LIMIT GTC orders for one market in a loop and recording
only (client order id, HTTP status, completion time). The caller reconciles the outcomes against
the journals afterwards. Status 0 means the connection failed or the answer did not come within
the timeout: the order's outcome is unknown to the client.

Orders are signed as they are sent (a run outlasts the 60 s recvWindow, so they cannot all be
signed before it starts); HMAC-SHA256 of a ~200-byte query costs a few microseconds, well under
a percent of an order's CPU here."""

import asyncio
import hashlib
import hmac
import multiprocessing
import random
import resource
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from types import TracebackType
from urllib.parse import urlsplit

import uvloop

ORDER_PATH = "/api/v3/order"
ANSWER_TIMEOUT_S = 40.0
STOP_POLL_S = 0.05


class ProtocolError(Exception):
    """An answer this client cannot read: stops the generator (it must not count as status 0)."""


@dataclass(frozen=True)
class LoadPlan:
    """What to send: `connections` connections to the gateway at `url`, connection n posting
    orders for `symbols[n % len(symbols)]` (so a stalled market stalls only its own connections)
    from a key of `keys` (api key, secret) drawn at random per order, at a price drawn from the
    market's `prices` and its `quantities`, on a random side; client order ids "{tag}-{n}-{i}"."""

    url: str
    keys: list[tuple[str, str]]
    symbols: list[str]
    prices: dict[str, list[str]]
    quantities: dict[str, str]
    connections: int
    seed: int = 0
    tag: str = "pf"


@dataclass
class LoadResult:
    """Per client order id, its HTTP status (0: unknown outcome); `done_at`: each answer's
    wall-clock time (time.time()), in completion order; `started_at`: when the first order went;
    `cpu_s`: the generator process's CPU seconds (user + system)."""

    outcomes: dict[str, int] = field(default_factory=dict)
    done_at: list[float] = field(default_factory=list)
    started_at: float = 0.0
    cpu_s: float = 0.0

    def rate(self, start: float, end: float) -> float:
        """Orders answered per second between wall-clock times `start` and `end`."""
        return sum(1 for t in self.done_at if start <= t < end) / max(end - start, 1e-9)


class OrderLoad:
    """The generator process as a context manager: it starts on entry and stops on exit (every
    connection finishes the order it is waiting for); `result` is then set."""

    def __init__(self, plan: LoadPlan) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._receive, self._send = context.Pipe(duplex=False)
        self._process = context.Process(target=_run, args=(plan, self._stop, self._send), name="order-load")
        self.result = LoadResult()

    def __enter__(self) -> "OrderLoad":
        self._process.start()
        self._send.close()  # the child's end: its exit is then seen here as the pipe's end
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        try:
            if not self._receive.poll(ANSWER_TIMEOUT_S + 20):
                raise RuntimeError("the order generator did not report back")
            try:
                answer = self._receive.recv()
            except EOFError:
                answer = "it exited without a report (see its output above)"
            if isinstance(answer, str):
                raise RuntimeError(f"the order generator failed: {answer}")
            self.result = answer
        finally:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._receive.close()


def _run(plan: LoadPlan, stop: Event, report: Connection) -> None:
    """The generator process's body: runs the connections until `stop`, then sends the result (or
    the traceback of what broke it)."""
    result = LoadResult()
    try:
        uvloop.run(_load(plan, stop, result))
    except BaseException:
        report.send(traceback.format_exc())
        raise
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_s = usage.ru_utime + usage.ru_stime
    report.send(result)
    report.close()


async def _load(plan: LoadPlan, stop: Event, result: LoadResult) -> None:
    stopping = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            await asyncio.sleep(STOP_POLL_S)
        stopping.set()

    result.started_at = time.time()
    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(_connection(plan, n, stopping, result) for n in range(plan.connections)))
    await watcher


async def _connection(plan: LoadPlan, n: int, stopping: asyncio.Event, result: LoadResult) -> None:
    """One keep-alive connection posting orders one after another; reconnects after a failure."""
    address = urlsplit(plan.url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    head = (
        f"POST {ORDER_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
    ).encode()
    rng = random.Random(plan.seed * 1_000_003 + n)
    symbol = plan.symbols[n % len(plan.symbols)]
    prices, quantity = plan.prices[symbol], plan.quantities[symbol]
    keys = [(api_key.encode(), secret.encode()) for api_key, secret in plan.keys]
    outcomes, done_at = result.outcomes, result.done_at
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    i = 0
    while not stopping.is_set():
        cid = f"{plan.tag}-{n}-{i}"
        i += 1
        api_key, secret = rng.choice(keys)
        query = (
            f"symbol={symbol}&side={rng.choice(('BUY', 'SELL'))}&type=LIMIT&timeInForce=GTC"
            f"&price={rng.choice(prices)}&quantity={quantity}&newClientOrderId={cid}"
            f"&timestamp={int(time.time() * 1000)}"
        ).encode()
        body = query + b"&signature=" + hmac.new(secret, query, hashlib.sha256).hexdigest().encode()
        request = b"%bX-MBX-APIKEY: %b\r\nContent-Length: %d\r\n\r\n%b" % (head, api_key, len(body), body)
        try:
            if streams is None:
                streams = await asyncio.wait_for(asyncio.open_connection(host, port), ANSWER_TIMEOUT_S)
            status, keep = await asyncio.wait_for(_exchange(*streams, request), ANSWER_TIMEOUT_S)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            status, keep = 0, False
        outcomes[cid] = status
        done_at.append(time.time())
        if not keep and streams is not None:
            streams[1].close()
            streams = None
    if streams is not None:
        streams[1].close()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, bool]:
    """Sends `request`, reads the whole answer (by Content-Length or chunked); returns its status
    and whether the connection stays open. Raises ProtocolError for an answer framed otherwise."""
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).lower()
    status = int(head[9:12])
    start = head.find(b"\r\ncontent-length:")
    if start >= 0:
        await reader.readexactly(int(head[start + 17 : head.index(b"\r\n", start + 2)]))
    elif b"\r\ntransfer-encoding: chunked\r\n" in head:
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")  # no trailers are sent: the CRLF ending the body
    else:
        raise ProtocolError(f"an answer without Content-Length or chunks: {head!r}")
    return status, b"\r\nconnection: close" not in head
