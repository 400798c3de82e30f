"""Fan-out of the WebSocket tier: 1,000 clients on one ws process, each subscribed to
`btcusdt@depth@100ms` and `btcusdt@trade` on a combined stream, receiving 50 messages/s (40
trades/s, each in its own md.{BTCUSDT} message, and 10 depth diffs/s). The md messages are
synthetic, published straight to Redis at that rate with their publish time as the trade time.

Figures: trade latency from publish (trade time T) to the client's receipt, depth-diff latency
from the diff's event time E (when the ws process emitted it) to receipt, p50/p99/max; messages
delivered against expected, slow-consumer disconnections, the ws process's CPU. Target: p99 <=
100 ms with nothing dropped. Right before ours, the same clients are served by the floor
(bench.ws_floor: `websockets` broadcasting frames serialized once, at the same rates); the
Figure compares the delivered messages per CPU second of the serving process (target: ours >= 30%
of the floor's). The clients run in a process of their own (a minimal WebSocket
client on asyncio: framing and the T/E fields only); 2 cores for everything.

`python -m bench.ws_bench` runs it alone; with `clients URL N` it is the client process.
"""

import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

from redis.asyncio import Redis

from bench.common import delete_prefix, new_prefix
from bench.results import Figure, add
from exchange_core.keys import Keys
from exchange_core.wire import encode_event, encode_market_data
from launcher.stack import free_port
from launcher.supervisor import Supervisor
from matching import Side, Trade

REDIS_URL = "redis://127.0.0.1:6379/0"
SYMBOL = "BTCUSDT"
CLIENTS = int(os.environ.get("WS_BENCH_CLIENTS", "1000"))
CLIENT_PROCESSES = int(os.environ.get("WS_BENCH_CLIENT_PROCESSES", "2"))
TRADES_PER_S = 40
DURATION_S = float(os.environ.get("WS_BENCH_SECONDS", "20"))
STREAMS = "/stream?streams=btcusdt@depth@100ms/btcusdt@trade"
BUCKETS_PER_MS = 10
MAX_MS = 10_000
# The load is fixed (50 messages/s to each client): ours and the floor are compared by the messages
# delivered per CPU second of the serving process (the inverse of its CPU per message).
FANOUT_TARGET = 0.30


# ---------------------------------------------------------------------------- client process


class Stats:
    """Latency histograms (0.1 ms buckets) and counts of one client process."""

    def __init__(self) -> None:
        self.trade_hist = [0] * (MAX_MS * BUCKETS_PER_MS + 1)
        self.depth_hist = [0] * (MAX_MS * BUCKETS_PER_MS + 1)
        self.trades = 0
        self.depths = 0
        self.first_trade_id = 1 << 62  # nothing is counted before the measurement starts
        self.measuring = False
        self.connected = 0
        self.closed = 0

    def on_text(self, payload: bytes, now_ms: float) -> None:
        if payload.startswith(b'{"stream":"btcusdt@trade"'):
            trade_id = _int_field(payload, b'"t":')
            if trade_id < self.first_trade_id:
                return
            self.trades += 1
            _count(self.trade_hist, now_ms - _int_field(payload, b'"T":'))
        elif self.measuring:
            self.depths += 1
            _count(self.depth_hist, now_ms - _int_field(payload, b'"E":'))


def _int_field(payload: bytes, key: bytes) -> int:
    start = payload.index(key) + len(key)
    return int(payload[start : payload.index(b",", start)])


def _count(hist: list[int], latency_ms: float) -> None:
    hist[min(max(int(latency_ms * BUCKETS_PER_MS), 0), MAX_MS * BUCKETS_PER_MS)] += 1


class BenchClient(asyncio.Protocol):
    """A WebSocket client reduced to what the benchmark needs: the upgrade, unmasked server
    frames, text payloads to Stats, pongs for pings."""

    def __init__(self, host: str, path: str, stats: Stats, ready: asyncio.Future[None]) -> None:
        self.host, self.path, self.stats, self.ready = host, path, stats, ready
        self.buf = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            (f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
        )  # fmt: skip

    def data_received(self, data: bytes) -> None:
        now_ms = time.time() * 1000
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(bytes(buf[:200]).decode(errors="replace")))
                return
            del buf[: end + 4]
            self.upgraded = True
            self.stats.connected += 1
            self.ready.set_result(None)
        pos, n = 0, len(buf)
        stats = self.stats
        while n - pos >= 2:
            length = buf[pos + 1] & 0x7F
            header = 2
            if length == 126:
                if n - pos < 4:
                    break
                length, header = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if n - pos < 10:
                    break
                length, header = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if n - pos < header + length:
                break
            opcode = buf[pos] & 0x0F
            payload = bytes(buf[pos + header : pos + header + length])
            pos += header + length
            if opcode == 1:
                stats.on_text(payload, now_ms)
            elif opcode == 9 and self.transport is not None and length < 126:
                self.transport.write(bytes((0x8A, 0x80 | length)) + b"\0\0\0\0" + payload)
        del buf[:pos]

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.closed += 1


async def run_clients(url: str, count: int) -> None:
    """Connect `count` clients, print "ready", then on a line "FIRST_TRADE_ID" start counting from
    that trade id; on "stop" print the Stats as JSON."""
    host = url.removeprefix("ws://")
    address, port = host.split(":")
    loop = asyncio.get_running_loop()
    stats = Stats()
    gate = asyncio.Semaphore(100)

    async def one() -> asyncio.Transport:
        async with gate:
            ready: asyncio.Future[None] = loop.create_future()
            transport, _ = await loop.create_connection(lambda: BenchClient(host, STREAMS, stats, ready),
                                                        address, int(port))  # fmt: skip
            await ready
            return transport

    transports = await asyncio.gather(*(one() for _ in range(count)))
    print("ready", flush=True)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    stats.first_trade_id = int((await reader.readline()).decode())
    stats.measuring = True
    cpu0, t0 = time.process_time(), time.perf_counter()
    await reader.readline()
    stats.measuring = False
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - t0)
    for transport in transports:
        transport.close()
    result = {
        "cpu": cpu,
        "trades": stats.trades,
        "depths": stats.depths,
        "connected": stats.connected,
        "closed_early": stats.closed,
        "trade_hist": stats.trade_hist,
        "depth_hist": stats.depth_hist,
    }
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------------------- load and figures


def synthetic_md(seq: int, trade_id: int, now_ms: int, step: int) -> bytes:
    """One trade and one changed level per side: update ids seq (trade) and seq + 1 (delta)."""
    price = 3_000_000_000_000 + (step % 50) * 1_000_000
    trade = Trade(seq, now_ms, trade_id, price, 100_000, price // 1000, Side.BUY if step % 2 else Side.SELL,
                  1, 1, 2, 2, 0, 0, 0, 0, 0, 0)  # fmt: skip
    bids = ((price - 1_000_000, 100_000 * (1 + step % 7)),)
    asks = ((price + 1_000_000, 100_000 * (1 + step % 5)),)
    return encode_market_data(SYMBOL, seq, seq + 1, now_ms, [encode_event(trade)], bids, asks)


async def publish(
    redis: Redis, channel: str, seconds: float, seq: int, trade_id: int
) -> tuple[int, int, int]:
    """md messages at TRADES_PER_S for `seconds`; returns (published, next seq, next trade id)."""
    interval = 1 / TRADES_PER_S
    start = time.perf_counter()
    sent = 0
    while time.perf_counter() - start < seconds:
        due = start + sent * interval
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await redis.publish(channel, synthetic_md(seq, trade_id, time.time_ns() // 1_000_000, sent))
        seq, trade_id, sent = seq + 2, trade_id + 1, sent + 1
    return sent, seq, trade_id


def percentile(hist: list[int], q: float) -> float:
    total = sum(hist)
    if not total:
        return float("nan")
    rank = q * total
    seen = 0
    for bucket, count in enumerate(hist):
        seen += count
        if seen >= rank:
            return (bucket + 1) / BUCKETS_PER_MS
    return MAX_MS


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RedisFeed:
    """Ours: synthetic md messages published to the market's Redis channel (see publish)."""

    def __init__(self, keys: Keys) -> None:
        self.redis = Redis.from_url(REDIS_URL)
        self.channel = keys.market_data(SYMBOL)
        self.seq, self.trade_id = 1, 1

    async def warm_up(self) -> int:
        """3 s of messages (the feed is live); the first trade id of the measurement."""
        _, self.seq, self.trade_id = await publish(self.redis, self.channel, 3.0, self.seq, self.trade_id)
        return self.trade_id

    async def run(self, seconds: float) -> int:
        """Messages for `seconds`; how many trades were published."""
        published, self.seq, self.trade_id = await publish(
            self.redis, self.channel, seconds, self.seq, self.trade_id
        )
        return published

    async def close(self) -> None:
        await self.redis.aclose()


class FloorFeed:
    """The floor: bench.ws_floor's process sends the frames itself, started and stopped here."""

    def __init__(self, process: "subprocess.Popen[bytes]") -> None:
        self.process = process

    def _ask(self, line: bytes) -> int:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + b"\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    async def warm_up(self) -> int:
        """3 s of frames, then trades pause; the first trade id of the measurement."""
        await asyncio.sleep(3.0)
        return self._ask(b"stop")

    async def run(self, seconds: float) -> int:
        first = self._ask(b"start")
        await asyncio.sleep(seconds)
        return self._ask(b"stop") - first

    async def close(self) -> None:
        return None


async def drive(ws_url: str, feed: RedisFeed | FloorFeed, server_pid: int) -> dict[str, float]:
    shares = [CLIENTS // CLIENT_PROCESSES + (i < CLIENTS % CLIENT_PROCESSES) for i in range(CLIENT_PROCESSES)]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.ws_bench",
            "clients",
            ws_url,
            str(share),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            limit=1 << 26,
        )
        for share in shares
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 120)
            assert line.strip() == b"ready", line
        await tell(procs, f"{await feed.warm_up()}\n")
        cpu0, t0 = cpu_seconds(server_pid), time.perf_counter()
        published = await feed.run(DURATION_S)
        cpu = (cpu_seconds(server_pid) - cpu0) / (time.perf_counter() - t0)
        await asyncio.sleep(1.0)
        await tell(procs, "stop\n")
        results = []
        for proc in procs:
            assert proc.stdout is not None
            results.append(json.loads(await asyncio.wait_for(proc.stdout.readline(), 60)))
            await proc.wait()
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
        await feed.close()
    trades = sum(r["trades"] for r in results)
    depths = sum(r["depths"] for r in results)
    trade_hist = [sum(col) for col in zip(*(r["trade_hist"] for r in results), strict=True)]
    depth_hist = [sum(col) for col in zip(*(r["depth_hist"] for r in results), strict=True)]
    expected = published * CLIENTS
    return {
        "clients": CLIENTS,
        "seconds": DURATION_S,
        "messages_per_client_per_s": (trades + depths) / CLIENTS / DURATION_S,
        "trades_expected": expected,
        "trades_delivered": trades,
        "dropped": expected - trades,
        "disconnected": sum(r["closed_early"] for r in results),
        "depth_diffs_delivered": depths,
        "trade_p50_ms": percentile(trade_hist, 0.50),
        "trade_p99_ms": percentile(trade_hist, 0.99),
        "trade_max_ms": percentile(trade_hist, 1.0),
        "depth_p50_ms": percentile(depth_hist, 0.50),
        "depth_p99_ms": percentile(depth_hist, 0.99),
        "ws_cpu": cpu,
        "clients_cpu": sum(r["cpu"] for r in results),
    }


async def tell(procs: list[asyncio.subprocess.Process], line: str) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(line.encode())
        await proc.stdin.drain()


def run_floor() -> dict[str, float]:
    """The fan-out benchmark's clients and figures against bench.ws_floor."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.ws_floor", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        from bench.gateway_bench import wait_listening

        wait_listening(port)
        return asyncio.run(drive(f"ws://127.0.0.1:{port}", FloorFeed(server), server.pid))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.terminate()
        server.wait(timeout=10)


def run_ours() -> dict[str, float]:
    """The fan-out benchmark's clients and figures against a ws process of the exchange."""
    prefix = new_prefix()
    log_dir = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    port = free_port()
    supervisor = Supervisor({"REDIS_URL": REDIS_URL, "KEY_PREFIX": prefix, "LOG_LEVEL": "WARNING",
                             "PORT": str(port), "WS_PORT": str(port)}, log_dir)  # fmt: skip
    supervisor.add("ws", "ws")
    supervisor.start_all()
    try:
        from tests.e2e.wsutil import wait_for_port

        wait_for_port(port, supervisor, "ws")
        process = supervisor.services["ws"].process
        assert process is not None
        return asyncio.run(drive(f"ws://127.0.0.1:{port}", RedisFeed(Keys(prefix)), process.pid))
    finally:
        supervisor.stop_all()
        asyncio.run(delete_prefix(REDIS_URL, prefix))


def delivered_per_cpu_s(figures: dict[str, float]) -> float:
    """Messages delivered per CPU second of the server process."""
    per_s = figures["messages_per_client_per_s"] * figures["clients"]
    return per_s / figures["ws_cpu"] if figures["ws_cpu"] else 0.0


def main() -> dict[str, float]:
    floor = run_floor()
    figures = run_ours()
    print(
        f"== ws fan-out: {CLIENTS} clients x {figures['messages_per_client_per_s']:.1f} messages/s "
        f"(btcusdt@trade + btcusdt@depth@100ms), {DURATION_S:.0f} s, clients in {CLIENT_PROCESSES} processes"
    )
    print(
        f"   trade latency (publish -> client) p50 {figures['trade_p50_ms']:.1f} ms, p99 "
        f"{figures['trade_p99_ms']:.1f} ms (target <= 100), max {figures['trade_max_ms']:.1f} ms; depth diff "
        f"(emitted -> client) p50 {figures['depth_p50_ms']:.1f} ms, p99 {figures['depth_p99_ms']:.1f} ms"
    )
    print(
        f"   {figures['trades_delivered']:,} of {figures['trades_expected']:,} trade messages delivered, "
        f"{figures['dropped']:,} dropped, {figures['disconnected']} clients disconnected; ws process CPU "
        f"{figures['ws_cpu']:.0%}, client processes {figures['clients_cpu']:.0%}"
    )
    print(
        f"   floor (websockets broadcast of frames serialized once): trade latency p50 "
        f"{floor['trade_p50_ms']:.1f} ms, p99 {floor['trade_p99_ms']:.1f} ms; {floor['dropped']:,} dropped; "
        f"server CPU {floor['ws_cpu']:.0%}"
    )
    assert figures["dropped"] == 0 and figures["disconnected"] == 0, figures
    assert figures["depth_diffs_delivered"] >= CLIENTS * DURATION_S * 9, figures
    assert floor["dropped"] == 0 and floor["disconnected"] == 0, floor
    ours_rate, floor_rate = delivered_per_cpu_s(figures), delivered_per_cpu_s(floor)
    print(
        f"   CPU ms per 1,000 delivered messages: ws {1e6 / ours_rate if ours_rate else 0:.2f}, "
        f"floor {1e6 / floor_rate if floor_rate else 0:.2f} (same clients, same rate)"
    )
    add(
        Figure(
            "ws_fanout",
            "messages/CPU",  # per CPU second of the serving process
            ours_rate,
            floor_rate,
            FANOUT_TARGET,
            latency_ms={
                "ours": {"p50": figures["trade_p50_ms"], "p99": figures["trade_p99_ms"]},
                "floor": {"p50": floor["trade_p50_ms"], "p99": floor["trade_p99_ms"]},
            },
            cpu_ms_per_unit={
                "ours": {"ws": 1000 / ours_rate if ours_rate else 0.0},
                "floor": {"floor": 1000 / floor_rate if floor_rate else 0.0},
            },
        )
    )
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "clients":
        import uvloop

        uvloop.run(run_clients(sys.argv[2], int(sys.argv[3])))
    else:
        main()
