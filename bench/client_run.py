"""The frame of the order benchmarks whose load is clients in this process (gRPC, the WebSocket
API): a stack with the BTCUSDT engine on a scratch database and key prefix, one user per client,
the CPU of every process (this one as `clients`) measured over the run, and the figures printed
the same way for each.

Right before ours, in the same invocation, the same clients drive the benchmark's floor (a server
process of its own, `python -m MODULE PORT KEYS`, doing only the unavoidable part of an order:
bench.grpc_floor, bench.wsapi_floor) with the same users; `report` prints both and their ratio."""

import asyncio
import resource
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bench.common import (
    CpuMeter,
    cpu_seconds,
    delete_prefix,
    drop_database,
    fresh_database,
    new_prefix,
    redis_server_pid,
)
from bench.gateway_bench import REDIS_URL, SYMBOL, count_accepted, floor_server
from bench.results import Figure, add
from launcher.stack import Stack, running_stack
from tests.client import Trader, sign_up

Outcome = tuple[list[float], int, float]
# Drives the clients for the run: (latencies in ms of the answered orders, failures, seconds).
Drive = Callable[[Stack, list[Trader]], Coroutine[Any, Any, Outcome]]
# Drives the same clients against the floor server listening on the port given.
FloorDrive = Callable[[int, list[Trader]], Coroutine[Any, Any, Outcome]]


@dataclass
class Floor:
    """A benchmark's floor: the server's module and how the clients reach it."""

    module: str
    drive: FloorDrive
    label: str  # what the floor is, as printed


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


def run_floor(floor: Floor, traders: list[Trader]) -> ClientRun:
    """The clients' run against `floor`'s server (its CPU as `floor`, this process's as `clients`)."""
    with floor_server(floor.module, traders) as (port, pid):
        server_cpu = cpu_seconds(pid)
        before = resource.getrusage(resource.RUSAGE_SELF)
        latencies, failures, seconds = asyncio.run(floor.drive(port, traders))
        after = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = cpu_seconds(pid) - server_cpu
    clients_cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ClientRun(sorted(latencies), failures, seconds, {"floor": server_cpu, "clients": clients_cpu}, 0)


def run_clients(clients: int, drive: Drive, floor: Floor | None = None) -> tuple[ClientRun, ClientRun | None]:
    """Ours (and right before it `floor`'s run, if given) with `clients` users."""
    dsn = fresh_database()
    prefix = new_prefix()
    floor_run = None
    try:
        with running_stack(dsn, prefix, [SYMBOL]) as stack:
            traders = [sign_up(stack.url) for _ in range(clients)]
            if floor is not None:
                floor_run = run_floor(floor, traders)
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
    return ClientRun(sorted(latencies), failures, seconds, cpu, accepted), floor_run


def report(
    title: str, run: ClientRun, floor: ClientRun | None = None, name: str = "", label: str = ""
) -> dict[str, float]:
    """Print the run's figures under `title`; check that the engine saw every answered order.
    With the `floor`'s run (the floor server's `label`), also print it and record the Figure
    `name` (target: ours >= 30% of the floor's orders/s)."""
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
    if floor is not None:
        add_floor_figure(name, label, rate, (p50, p99), run.cpu, ok, floor)
    return {"orders_per_s": rate, "p50_ms": p50, "p90_ms": p90, "p99_ms": p99, "failures": run.failures}


def add_floor_figure(
    name: str,
    label: str,
    rate: float,
    latency: tuple[float, float],
    cpu: dict[str, float],
    ok: int,
    floor: ClientRun,
) -> Figure:
    """Print the floor's figures and record ours against it as the Figure `name`."""
    answered = len(floor.latencies)
    assert answered and not floor.failures, f"the floor refused {floor.failures} of its requests"
    floor_rate = answered / floor.seconds
    f50, f99 = percentile(floor.latencies, 50), percentile(floor.latencies, 99)
    per_request = ", ".join(f"{n} {used * 1000 / answered:.3f}" for n, used in sorted(floor.cpu.items()))
    print(
        f"   floor ({label}): {floor_rate:,.0f} requests/s, p50 {f50:.1f} ms, p99 {f99:.1f} ms; "
        f"CPU ms per request: {per_request}"
    )
    return add(
        Figure(
            name,
            "orders",
            rate,
            floor_rate,
            0.30,
            latency_ms={"ours": {"p50": latency[0], "p99": latency[1]}, "floor": {"p50": f50, "p99": f99}},
            cpu_ms_per_unit={
                "ours": {n: used * 1000 / ok for n, used in sorted(cpu.items())},
                "floor": {n: used * 1000 / answered for n, used in sorted(floor.cpu.items())},
            },
        )
    )
