"""The frame of the order benchmarks whose load is clients in this process (gRPC, the WebSocket
API): a stack with the BTCUSDT engine on a scratch database and key prefix, one user per client,
the CPU of every process (this one as `clients`) measured over the run, and the figures printed
the same way for each.

In the same invocation the same clients, as the same users, drive the benchmark's floor (a server
process of its own, `python -m MODULE PORT KEYS`, doing only the unavoidable part of an order:
bench.grpc_floor, bench.wsapi_floor) and ours in turn, CLIENT_BENCH_ROUNDS times (3 by default:
floor, ours, floor, ours, ...); each side's median round is its figure, so that a slow spell of
the host lowers one round of each side rather than one side's only run. `report` prints every
round and the two figures' ratio."""

import asyncio
import os
import resource
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from bench.common import (
    cpu_seconds,
    delete_prefix,
    drop_database,
    fresh_database,
    new_prefix,
)
from bench.gateway_bench import REDIS_URL, SYMBOL, count_accepted, floor_server, stack_cpu_meter
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
    failures: int  # (over all rounds, once `median_run` has chosen)
    seconds: float
    cpu: dict[str, float]  # CPU seconds by process
    accepted: int  # orders the engine accepted over all rounds (0 for the floor)
    answered: int = 0  # orders answered OK over all rounds
    rounds: tuple[float, ...] = ()  # every round's answered per second, in order

    @property
    def rate(self) -> float:
        """This run's answered per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def rounds() -> int:
    """How many rounds of the floor and ours `run_clients` alternates (CLIENT_BENCH_ROUNDS)."""
    return max(1, int(os.environ.get("CLIENT_BENCH_ROUNDS", "3")))


def median_run(runs: list[ClientRun], accepted: int) -> ClientRun:
    """The run of median rate among `runs` (the lower middle of an even number), carrying every
    round's rate, the answers and failures of all and the engine's `accepted`."""
    middle = sorted(runs, key=lambda r: r.rate)[(len(runs) - 1) // 2]
    middle.rounds = tuple(r.rate for r in runs)
    middle.answered = sum(len(r.latencies) for r in runs)
    middle.failures = sum(r.failures for r in runs)
    middle.accepted = accepted
    return middle


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


def run_ours(stack: Stack, traders: list[Trader], drive: Drive) -> ClientRun:
    """One round of the clients against the stack, the CPU of its processes and this one's."""
    meter = stack_cpu_meter(stack)
    before = resource.getrusage(resource.RUSAGE_SELF)
    latencies, failures, seconds = asyncio.run(drive(stack, traders))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = meter.stop()
    cpu["clients"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return ClientRun(sorted(latencies), failures, seconds, cpu, 0)


def run_clients(clients: int, drive: Drive, floor: Floor | None = None) -> tuple[ClientRun, ClientRun | None]:
    """Ours (and right before each of its rounds, `floor`'s, if given) with `clients` users, in
    `rounds()` rounds; each side's median round (`median_run`)."""
    dsn = fresh_database()
    prefix = new_prefix()
    ours: list[ClientRun] = []
    floors: list[ClientRun] = []
    try:
        with running_stack(dsn, prefix, [SYMBOL]) as stack:
            traders = [sign_up(stack.url) for _ in range(clients)]
            for _ in range(rounds()):
                if floor is not None:
                    floors.append(run_floor(floor, traders))
                ours.append(run_ours(stack, traders, drive))
            accepted = asyncio.run(count_accepted(prefix))
    finally:
        asyncio.run(delete_prefix(REDIS_URL, prefix))
        drop_database(dsn)
    return median_run(ours, accepted), median_run(floors, 0) if floors else None


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
    if floor is not None and len(run.rounds) > 1:
        each = ", ".join(
            f"{o:,.0f}/{f:,.0f} ({o / f:.0%})" for o, f in zip(run.rounds, floor.rounds, strict=True)
        )
        print(f"   rounds, ours/floor per second: {each}; each side's median round below")
    print(
        f"   {rate:,.0f} orders/s answered OK; latency p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms; "
        f"{run.failures} failed and {run.accepted:,} orders accepted by the engine in all rounds"
    )
    if ok:
        per_order = ", ".join(f"{name} {used * 1000 / ok:.3f}" for name, used in sorted(run.cpu.items()))
        print(f"   CPU ms per answered order: {per_order}; total {sum(run.cpu.values()) * 1000 / ok:.3f}")
    assert ok > 0, "no order was answered"
    assert run.accepted >= run.answered, "the engine saw fewer orders than the gateway acknowledged"
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
