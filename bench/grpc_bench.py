"""Orders per second through the gateway's gRPC API, the twin of the HTTP benchmark
(gateway_bench): the whole order path running (gateway, BTCUSDT engine, settlement), 64
concurrent async clients in one process on the same machine (over 8 HTTP/2 connections),
each placing signed LIMIT orders (half of them crossing) one after another for 10 s. The same
clients drive the floor (bench.grpc_floor: grpc.aio checking each call's signature and answering
a fixed response) and ours in turn, 3 rounds each (bench.client_run); each side's median round
counts. Target: ours >= 30% of the floor's calls/s.

Figures: orders/s answered OK, latency p50/p90/p99 measured by the clients, failures, the orders
the engine accepted (checked against the answers), and the CPU per order of each process, the
clients included (as the HTTP benchmark prints it, with wrk as its client)."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Coroutine
from decimal import Decimal
from typing import Any

import grpc

from bench import client_run
from bench.client_run import Floor, report
from bench.gateway_bench import SYMBOL
from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from exchange_proto import trading_api_pb2_grpc as tgrpc
from launcher.stack import Stack
from tests.client import Trader
from tests.grpc_client import signed_metadata

CLIENTS = 64
CHANNELS = 8
RUNS = itertools.count()  # the rounds driven by this process


async def client(
    stub: tgrpc.TradingAsyncStub,
    trader: Trader,
    index: int,
    until: float,
    latencies: list[float],
    run: int = 0,
) -> int:
    """Place orders until `until` (monotonic); returns the failures. Client order ids are unique
    to the `run` (a round's orders are never duplicates of an earlier's)."""
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
            new_client_order_id=f"g{run}-{index}-{n}",
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
        run = next(RUNS)
        started = time.monotonic()
        until = started + duration_s
        failures = await asyncio.gather(
            *(client(stubs[i % CHANNELS], t, i, until, latencies, run) for i, t in enumerate(traders))  # type: ignore[arg-type]
        )
        return latencies, sum(failures), time.monotonic() - started
    finally:
        for ch in channels:
            await ch.close()


def main(duration_s: int = 10) -> dict[str, float]:
    def drive(stack: Stack, traders: list[Trader]) -> Coroutine[Any, Any, tuple[list[float], int, float]]:
        return run_clients(stack.grpc_target, traders, duration_s)

    def drive_floor(port: int, traders: list[Trader]) -> Coroutine[Any, Any, tuple[list[float], int, float]]:
        return run_clients(f"127.0.0.1:{port}", traders, duration_s)

    label = "grpc.aio on uvloop, generic handler checking the signature, fixed answer"
    ours, floor = client_run.run_clients(CLIENTS, drive, Floor("bench.grpc_floor", drive_floor, label))
    return report(
        f"gateway over gRPC: {CLIENTS} async clients on {CHANNELS} channels, {duration_s} s, same machine",
        ours,
        floor,
        "gateway_grpc",
        label,
    )


if __name__ == "__main__":
    main()
