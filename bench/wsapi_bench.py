"""Orders per second through the gateway's WebSocket API (/ws-api/v3), the twin of the HTTP and
gRPC benchmarks (gateway_bench, grpc_bench): the whole order path running (gateway, BTCUSDT
engine, settlement), 64 WebSocket connections from one client process on the same machine, each
a user of its own placing signed LIMIT orders (half of them crossing) one after another for 10 s.

Figures: orders/s answered OK, latency p50/p90/p99 measured by the clients (send to answer),
failures, the orders the engine accepted (checked against the answers), and the CPU per order of
each process, the client process included."""

from __future__ import annotations

import asyncio
import random
import resource
import time

from bench.common import CpuMeter, delete_prefix, drop_database, fresh_database, new_prefix, redis_server_pid
from bench.gateway_bench import REDIS_URL, SYMBOL, count_accepted
from bench.grpc_bench import percentile
from launcher.stack import running_stack
from tests.client import Trader, sign_up
from tests.wsapi_client import WsApiClient, sign

CONNECTIONS = 64


async def client(url: str, trader: Trader, index: int, until: float, latencies: list[float]) -> int:
    """Place orders on one connection until `until` (monotonic); returns the failures."""
    rng = random.Random(index)
    failures = 0
    n = 0
    connection = await WsApiClient.open(url)
    try:
        while time.monotonic() < until:
            n += 1
            side = "BUY" if n % 2 else "SELL"
            price = 30_000 + (rng.randint(-20, 2) if side == "BUY" else rng.randint(-2, 20))
            params = {"symbol": SYMBOL, "side": side, "type": "LIMIT", "timeInForce": "GTC",
                      "price": str(price), "quantity": "0.0002", "newClientOrderId": f"w{index}-{n}",
                      "newOrderRespType": "RESULT", "recvWindow": 60_000}  # fmt: skip
            started = time.perf_counter()
            answer = await connection.call("order.place", sign(trader.api_key, trader.secret, params))
            if answer["status"] != 200:
                failures += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        await connection.close()
    return failures


async def run_clients(url: str, traders: list[Trader], duration_s: float) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    started = time.monotonic()
    until = started + duration_s
    failures = await asyncio.gather(*(client(url, t, i, until, latencies) for i, t in enumerate(traders)))
    return latencies, sum(failures), time.monotonic() - started


def main(duration_s: int = 10) -> dict[str, float]:
    dsn = fresh_database()
    prefix = new_prefix()
    try:
        with running_stack(dsn, prefix, [SYMBOL]) as stack:
            traders = [sign_up(stack.url) for _ in range(CONNECTIONS)]
            url = stack.url.replace("http://", "ws://") + "/ws-api/v3"
            pids = dict(stack.supervisor.pids())
            redis_pid = redis_server_pid()
            if redis_pid is not None:
                pids["redis"] = redis_pid
            meter = CpuMeter(pids)
            meter.start()
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            latencies, failures, seconds = asyncio.run(run_clients(url, traders, duration_s))
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            cpu = meter.stop()
            accepted = asyncio.run(count_accepted(prefix))
    finally:
        asyncio.run(delete_prefix(REDIS_URL, prefix))
        drop_database(dsn)
    cpu["clients"] = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    latencies.sort()
    ok = len(latencies)
    rate = ok / seconds if seconds else 0.0
    p50, p90, p99 = (percentile(latencies, p) for p in (50, 90, 99))
    print(
        f"== gateway over the WebSocket API: {CONNECTIONS} connections from one client process, "
        f"{duration_s} s, same machine"
    )
    print(
        f"   {rate:,.0f} orders/s answered OK; latency p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms; "
        f"{failures} failed; {accepted:,} orders accepted by the engine"
    )
    if ok:
        per_order = ", ".join(f"{name} {used * 1000 / ok:.3f}" for name, used in sorted(cpu.items()))
        print(f"   CPU ms per answered order: {per_order}; total {sum(cpu.values()) * 1000 / ok:.3f}")
    assert ok > 0, "no order was answered"
    assert accepted >= ok, "the engine saw fewer orders than the gateway acknowledged"
    return {"orders_per_s": rate, "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "failures": failures}


if __name__ == "__main__":
    main()
