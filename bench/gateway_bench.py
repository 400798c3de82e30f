"""Orders per second through the gateway over HTTP against its floor: the whole order path
running (gateway, BTCUSDT engine, settlement), 64 connections from wrk on the same machine posting
pre-signed LIMIT orders (half of them crossing). Right before ours, in the same invocation, the
same wrk script at the same connections drives the floor (bench.gateway_floor: the same server
stack checking each order's signature and answering a fixed JSON) with the same signed orders.
Target: ours >= 30% of the floor's requests/s, p99 <= 3x p50."""

import asyncio
import hashlib
import hmac
import json
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from redis.asyncio import Redis

from bench.common import (
    CpuMeter,
    cpu_seconds,
    delete_prefix,
    drop_database,
    fresh_database,
    new_prefix,
    redis_server_pid,
)
from bench.results import Figure, add
from exchange_core.keys import Keys
from launcher.stack import Stack, free_port, running_stack
from tests.client import Trader, sign_up

REDIS_URL = "redis://127.0.0.1:6379/0"
SYMBOL = "BTCUSDT"
CONNECTIONS = 64
THREADS = 2
# Pre-signed orders per second of run: more than the stack can take here, so none is sent twice.
ORDERS_PER_S = 10_000
# Two runs (the floor, then ours) of the same pre-signed orders inside their 60 s recvWindow.
MAX_DURATION_S = 25
# Funds for every bench trader: enough that no order is refused for its balance in a long run.
FUNDS = "USDT=10000000,BTC=10000"


def signed_orders(traders: list[Trader], count: int, seed: int = 5) -> list[str]:
    """`count` lines "apikey body", timestamps now, valid for 60 s."""
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    lines = []
    for i in range(count):
        trader = traders[i % len(traders)]
        side = "BUY" if i % 2 else "SELL"
        price = 30_000 + (rng.randint(-20, 2) if side == "BUY" else rng.randint(-2, 20))
        params = {"symbol": SYMBOL, "side": side, "type": "LIMIT", "timeInForce": "GTC", "price": f"{price}",
                  "quantity": "0.0002", "newClientOrderId": f"b{i}", "newOrderRespType": "RESULT",
                  "recvWindow": "60000", "timestamp": str(now)}  # fmt: skip
        query = urlencode(params)
        signature = hmac.new(trader.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        lines.append(f"{trader.api_key} {query}&signature={signature}")
    return lines


def wrk_orders(lines: list[str], duration_s: int) -> tuple[list[str], dict[str, str], str]:
    """wrk's command line (without the URL) posting the pre-signed `lines` through
    wrk_orders.lua at CONNECTIONS for `duration_s`, its environment, and the orders file (the
    caller removes it)."""
    with tempfile.NamedTemporaryFile("w", suffix=".orders", delete=False) as fh:
        fh.write("\n".join(lines) + "\n")
    script = Path(__file__).with_name("wrk_orders.lua")
    env = {**os.environ, "ORDERS_FILE": fh.name, "THREADS": str(THREADS)}
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration_s}s", "--latency", "-s", str(script)]
    return command, env, fh.name


def parse_wrk(output: str) -> dict[str, float]:
    def number(pattern: str) -> float:
        m = re.search(pattern, output)
        return float(m.group(1)) if m else 0.0

    def latency_ms(label: str) -> float:
        m = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", output)
        if not m:
            return 0.0
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    m = re.search(r"requests in ([\d.]+)(ms|s|m)\b", output)
    seconds = float(m.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[m.group(2)] if m else 0.0
    return {
        "requests": number(r"(\d+) requests in"),
        "seconds": seconds,
        "non_2xx": number(r"Non-2xx or 3xx responses: (\d+)"),
        "p50_ms": latency_ms("50"),
        "p90_ms": latency_ms("90"),
        "p99_ms": latency_ms("99"),
    }


def rejections(output: str) -> str:
    """The wrk script's count of answers other than 200 ("<status> <Binance code> <count>")."""
    found = re.findall(r"^rejected (\d+) (\S+) (\d+)$", output, re.M)
    return ", ".join(f"{int(n):,} x HTTP {status} code {code}" for status, code, n in found)


def wait_listening(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def stack_cpu_meter(stack: Stack) -> CpuMeter:
    """A started meter of the CPU of the stack's processes and of the Redis server (as `redis`)."""
    pids = dict(stack.supervisor.pids())
    redis_pid = redis_server_pid()
    if redis_pid is not None:
        pids["redis"] = redis_pid
    meter = CpuMeter(pids)
    meter.start()
    return meter


@contextmanager
def floor_server(module: str, traders: list[Trader]) -> Iterator[tuple[int, int]]:
    """(port, pid) of a floor server, `python -m MODULE PORT KEYS` with the `traders`' keys and
    secrets in KEYS (a JSON file), listening until the block ends."""
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".json") as keys:
        json.dump({t.api_key: t.secret for t in traders}, keys)
        keys.flush()
        server = subprocess.Popen([sys.executable, "-m", module, str(port), keys.name])
        try:
            wait_listening(port)
            yield port, server.pid
        finally:
            server.terminate()
            server.wait(timeout=10)


def run_floor(
    traders: list[Trader], command: list[str], env: dict[str, str]
) -> tuple[dict[str, float], float]:
    """The wrk run against the floor server; its figures and the floor process's CPU seconds."""
    with floor_server("bench.gateway_floor", traders) as (port, pid):
        cpu = cpu_seconds(pid)
        out = subprocess.run(
            [*command, f"http://127.0.0.1:{port}"], env=env, capture_output=True, text=True, check=True
        ).stdout
        cpu = cpu_seconds(pid) - cpu
    figures = parse_wrk(out)
    assert figures["requests"] and not figures["non_2xx"], f"the floor refused orders: {rejections(out)}"
    return figures, cpu


def main(duration_s: int = 10) -> dict[str, float]:
    # Orders are signed before the run with Binance's longest recvWindow (60 s).
    assert duration_s <= MAX_DURATION_S, f"at most {MAX_DURATION_S} s: pre-signed orders expire after 60 s"
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the gateway benchmark: apt-get install -y wrk")
    dsn = fresh_database()
    prefix = new_prefix()
    try:
        with running_stack(dsn, prefix, [SYMBOL], DEMO_FUNDS=FUNDS) as stack:
            traders = [sign_up(stack.url) for _ in range(CONNECTIONS)]
            lines = signed_orders(traders, ORDERS_PER_S * duration_s + 10_000)
            command, env, orders_file = wrk_orders(lines, duration_s)
            floor, floor_cpu = run_floor(traders, command, env)
            meter = stack_cpu_meter(stack)
            wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                [*command, stack.url], env=env, capture_output=True, text=True, check=True
            ).stdout
            wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = meter.stop()
            cpu["wrk"] = sum(getattr(wrk_after, f) - getattr(wrk_before, f) for f in ("ru_utime", "ru_stime"))
            os.unlink(orders_file)
            figures = parse_wrk(out)
            accepted = asyncio.run(count_accepted(prefix))
    finally:
        asyncio.run(delete_prefix(REDIS_URL, prefix))
        drop_database(dsn)
    ok = figures["requests"] - figures["non_2xx"]
    rate = ok / figures["seconds"] if figures["seconds"] else 0.0
    print(f"== gateway over HTTP: {CONNECTIONS} connections, {duration_s} s, wrk on the same machine")
    print(
        f"   {rate:,.0f} orders/s answered 200; latency p50 {figures['p50_ms']:.1f} ms, "
        f"p90 {figures['p90_ms']:.1f} ms, p99 {figures['p99_ms']:.1f} ms; "
        f"{int(figures['non_2xx'])} non-2xx; {accepted:,} orders accepted by the engine"
    )
    if figures["non_2xx"]:
        print(f"   not 200: {rejections(out)}")
    if ok:
        per_order = ", ".join(f"{name} {seconds * 1000 / ok:.3f}" for name, seconds in sorted(cpu.items()))
        print(f"   CPU ms per answered order: {per_order}; "
              f"total {sum(cpu.values()) * 1000 / ok:.3f} (2 cores allow 1.0 at 2,000/s)")  # fmt: skip
    assert accepted >= ok, "the engine saw fewer orders than the gateway acknowledged"
    floor_rate = floor["requests"] / floor["seconds"]
    print(
        f"   floor (uvicorn + uvloop + httptools, raw ASGI app checking the HMAC, fixed JSON): "
        f"{floor_rate:,.0f} requests/s, p50 {floor['p50_ms']:.1f} ms, p99 {floor['p99_ms']:.1f} ms; "
        f"CPU ms per request {floor_cpu * 1000 / floor['requests']:.3f}"
    )
    tail = figures["p99_ms"] / figures["p50_ms"] if figures["p50_ms"] else 0.0
    add(
        Figure(
            "gateway_http",
            "orders",
            rate,
            floor_rate,
            0.30,
            latency_ms={
                "ours": {"p50": figures["p50_ms"], "p99": figures["p99_ms"]},
                "floor": {"p50": floor["p50_ms"], "p99": floor["p99_ms"]},
            },
            cpu_ms_per_unit={
                "ours": {name: seconds * 1000 / ok for name, seconds in sorted(cpu.items())} if ok else {},
                "floor": {"floor": floor_cpu * 1000 / floor["requests"]},
            },
        )
    )
    print(f"   ours p99 / p50 = {tail:.1f} ({'meets' if tail <= 3 else 'ABOVE'} the target <= 3)")
    return {**figures, "orders_per_s": rate, "accepted": accepted}


async def count_accepted(prefix: str) -> int:
    from exchange_core.protocol import decode_events
    from matching import OrderAccepted

    redis = Redis.from_url(REDIS_URL)
    try:
        count = 0
        for _, fields in await redis.xrange(Keys(prefix).events(SYMBOL)):
            count += sum(1 for e in decode_events(fields[b"e"])[1] if isinstance(e, OrderAccepted))
        return count
    finally:
        await redis.aclose()
