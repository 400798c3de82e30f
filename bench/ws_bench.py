"""Fan-out of the WebSocket tier: 1,000 clients on one ws process, each subscribed to
`btcusdt@depth@100ms` and `btcusdt@trade` on a combined stream, receiving 50 messages/s (40
trades/s, each in its own md.{BTCUSDT} message, and 10 depth diffs/s). The md messages are
synthetic, published straight to Redis at that rate with their publish time as the trade time.

Figures: trade latency from publish (trade time T) to the client's receipt, depth-diff latency
from the diff's event time E (when the ws process emitted it) to receipt, p50/p99/max; messages
delivered against expected, slow-consumer disconnections, the ws process's CPU. Target: p99 <=
100 ms with nothing dropped. The clients run in a process of their own (a minimal WebSocket
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


async def drive(ws_url: str, keys: Keys, ws_pid: int) -> dict[str, float]:
    redis = Redis.from_url(REDIS_URL)
    channel = keys.market_data(SYMBOL)
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
        _, seq, trade_id = await publish(redis, channel, 3.0, 1, 1)  # warm-up: the feed is live
        await tell(procs, f"{trade_id}\n")
        cpu0, t0 = cpu_seconds(ws_pid), time.perf_counter()
        published, seq, trade_id = await publish(redis, channel, DURATION_S, seq, trade_id)
        cpu = (cpu_seconds(ws_pid) - cpu0) / (time.perf_counter() - t0)
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
    await redis.aclose()
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


def main() -> dict[str, float]:
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
        figures = asyncio.run(drive(f"ws://127.0.0.1:{port}", Keys(prefix), process.pid))
    finally:
        supervisor.stop_all()
        asyncio.run(delete_prefix(REDIS_URL, prefix))
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
    assert figures["dropped"] == 0 and figures["disconnected"] == 0, figures
    assert figures["depth_diffs_delivered"] >= CLIENTS * DURATION_S * 9, figures
    return figures


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "clients":
        import uvloop

        uvloop.run(run_clients(sys.argv[2], int(sys.argv[3])))
    else:
        main()
