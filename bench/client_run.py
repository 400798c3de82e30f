"""The frame of the order benchmarks whose load is clients in this process (gRPC, the WebSocket
API): a stack with the BTCUSDT engine on a scratch database and key prefix, one user per client,
the CPU of every process (this one as `clients`) measured over the run, and the figures printed
the same way for each."""

import asyncio
import resource
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bench.common import CpuMeter, delete_prefix, drop_database, fresh_database, new_prefix, redis_server_pid
from bench.gateway_bench import REDIS_URL, SYMBOL, count_accepted
from launcher.stack import Stack, running_stack
from tests.client import Trader, sign_up

# Drives the clients for the run: (latencies in ms of the answered orders, failures, seconds).
Drive = Callable[[Stack, list[Trader]], Coroutine[Any, Any, tuple[list[float], int, float]]]


@dataclass
class ClientRun:
    latencies: list[float]  # sorted
    failures: int
    seconds: float
    cpu: dict[str, float]  # CPU seconds by process
    accepted: int  # orders the engine accepted


def percentile(sorted_ms: list[float], p: float) -> float:
    if not sorted_ms:
        return 0.0
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p / 100))]


def run_clients(clients: int, drive: Drive) -> ClientRun:
    dsn = fresh_database()
    prefix = new_prefix()
    try:
        with running_stack(dsn, prefix, [SYMBOL]) as stack:
            traders = [sign_up(stack.url) for _ in range(clients)]
            pids = dict(stack.supervisor.pids())
            redis_pid = redis_server_pid()
            if redis_pid is not None:
                pids["redis"] = redis_pid
            meter = CpuMeter(pids)
            meter.start()
            before = resource.getrusage(resource.RUSAGE_SELF)
            latencies, failures, seconds = asyncio.run(drive(stack, traders))
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu = meter.stop()
            accepted = asyncio.run(count_accepted(prefix))
    finally:
        asyncio.run(delete_prefix(REDIS_URL, prefix))
        drop_database(dsn)
    cpu["clients"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ClientRun(sorted(latencies), failures, seconds, cpu, accepted)


def report(title: str, run: ClientRun) -> dict[str, float]:
    """Print the run's figures under `title`; check that the engine saw every answered order."""
    ok = len(run.latencies)
    rate = ok / run.seconds if run.seconds else 0.0
    p50, p90, p99 = (percentile(run.latencies, p) for p in (50, 90, 99))
    print(f"== {title}")
    print(
        f"   {rate:,.0f} orders/s answered OK; latency p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms; "
        f"{run.failures} failed; {run.accepted:,} orders accepted by the engine"
    )
    if ok:
        per_order = ", ".join(f"{name} {used * 1000 / ok:.3f}" for name, used in sorted(run.cpu.items()))
        print(f"   CPU ms per answered order: {per_order}; total {sum(run.cpu.values()) * 1000 / ok:.3f}")
    assert ok > 0, "no order was answered"
    assert run.accepted >= ok, "the engine saw fewer orders than the gateway acknowledged"
    return {"orders_per_s": rate, "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "failures": run.failures}
