"""Orders per second through the gateway's gRPC API, the twin of the HTTP benchmark
(gateway_bench): the whole order path running (gateway, BTCUSDT engine, settlement), 64
concurrent async clients in one process on the same machine (over 8 HTTP/2 connections),
each placing signed LIMIT orders (half of them crossing) one after another for 10 s.

Figures: orders/s answered OK, latency p50/p90/p99 measured by the clients, failures, the orders
the engine accepted (checked against the answers), and the CPU per order of each process, the
clients included (as the HTTP benchmark prints it, with wrk as its client)."""

from __future__ import annotations

import asyncio
import random
import resource
import time
from decimal import Decimal

import grpc

from bench.common import CpuMeter, delete_prefix, drop_database, fresh_database, new_prefix, redis_server_pid
from bench.gateway_bench import REDIS_URL, SYMBOL, count_accepted
from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from exchange_proto import trading_api_pb2_grpc as tgrpc
from launcher.stack import running_stack
from tests.client import Trader, sign_up
from tests.grpc_client import signed_metadata

CLIENTS = 64
CHANNELS = 8


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return 0.0
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p / 100))]


async def client(
    stub: tgrpc.TradingAsyncStub, trader: Trader, index: int, until: float, latencies: list[float]
) -> int:
    """Place orders until `until` (monotonic); returns the failures."""
    rng = random.Random(index)
    failures = 0
    n = 0
    while time.monotonic() < until:
        n += 1
        side = apb.SIDE_BUY if n % 2 else apb.SIDE_SELL
        price = 30_000 + (rng.randint(-20, 2) if side == apb.SIDE_BUY else rng.randint(-2, 20))
        request = tpb.PlaceOrderRequest(
            symbol=SYMBOL,
            side=side,
            type=apb.ORDER_TYPE_LIMIT,
            time_in_force=apb.TIME_IN_FORCE_GTC,
            price=str(price),
            quantity=str(Decimal("0.0002")),
            new_client_order_id=f"g{index}-{n}",
            new_order_resp_type=tpb.RESPONSE_TYPE_RESULT,
        )
        metadata = signed_metadata(trader.api_key, trader.secret, "PlaceOrder", request, recv_window=60_000)
        started = time.perf_counter()
        try:
            await stub.PlaceOrder(request, metadata=metadata, timeout=10)
        except grpc.aio.AioRpcError:
            failures += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    return failures


async def run_clients(
    target: str, traders: list[Trader], duration_s: float
) -> tuple[list[float], int, float]:
    channels = [grpc.aio.insecure_channel(target) for _ in range(CHANNELS)]
    try:
        stubs = [tgrpc.TradingStub(ch) for ch in channels]
        latencies: list[float] = []
        started = time.monotonic()
        until = started + duration_s
        failures = await asyncio.gather(
            *(client(stubs[i % CHANNELS], t, i, until, latencies) for i, t in enumerate(traders))  # type: ignore[arg-type]
        )
        return latencies, sum(failures), time.monotonic() - started
    finally:
        for ch in channels:
            await ch.close()


def main(duration_s: int = 10) -> dict[str, float]:
    dsn = fresh_database()
    prefix = new_prefix()
    try:
        with running_stack(dsn, prefix, [SYMBOL]) as stack:
            traders = [sign_up(stack.url) for _ in range(CLIENTS)]
            pids = dict(stack.supervisor.pids())
            redis_pid = redis_server_pid()
            if redis_pid is not None:
                pids["redis"] = redis_pid
            meter = CpuMeter(pids)
            meter.start()
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            latencies, failures, seconds = asyncio.run(run_clients(stack.grpc_target, traders, duration_s))
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
        f"== gateway over gRPC: {CLIENTS} async clients on {CHANNELS} channels, {duration_s} s, same machine"
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
