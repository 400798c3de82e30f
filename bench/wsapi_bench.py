"""Orders per second through the gateway's WebSocket API (/ws-api/v3), the twin of the HTTP and
gRPC benchmarks (gateway_bench, grpc_bench): the whole order path running (gateway, BTCUSDT
engine, settlement), 64 WebSocket connections from one client process on the same machine, each
a user of its own placing signed LIMIT orders (half of them crossing) one after another for 10 s.
The same clients drive the floor (bench.wsapi_floor: `websockets` checking each request's signature
and answering with the gateway's fields) and ours in turn, 3 rounds each (bench.client_run); each
side's median round counts. Target: ours >= 30% of the floor's requests/s.

Figures: orders/s answered OK, latency p50/p90/p99 measured by the clients (send to answer),
failures, the orders the engine accepted (checked against the answers), and the CPU per order of
each process, the client process included."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Coroutine
from typing import Any

from bench import client_run
from bench.client_run import Floor, report
from bench.gateway_bench import SYMBOL
from launcher.stack import Stack
from tests.client import Trader
from tests.wsapi_client import WsApiClient, sign

CONNECTIONS = 64
RUNS = itertools.count()  # the rounds driven by this process


async def client(
    url: str, trader: Trader, index: int, until: float, latencies: list[float], run: int = 0
) -> int:
    """Place orders on one connection until `until` (monotonic); returns the failures. Client
    order ids are unique to the `run` (a round's orders are never duplicates of an earlier's)."""
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
                      "price": str(price), "quantity": "0.0002", "newClientOrderId": f"w{run}-{index}-{n}",
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
    run = next(RUNS)
    started = time.monotonic()
    until = started + duration_s
    failures = await asyncio.gather(
        *(client(url, t, i, until, latencies, run) for i, t in enumerate(traders))
    )
    return latencies, sum(failures), time.monotonic() - started


def main(duration_s: int = 10) -> dict[str, float]:
    def drive(stack: Stack, traders: list[Trader]) -> Coroutine[Any, Any, tuple[list[float], int, float]]:
        return run_clients(stack.url.replace("http://", "ws://") + "/ws-api/v3", traders, duration_s)

    def drive_floor(port: int, traders: list[Trader]) -> Coroutine[Any, Any, tuple[list[float], int, float]]:
        return run_clients(f"ws://127.0.0.1:{port}/ws-api/v3", traders, duration_s)

    label = (
        "websockets on uvloop, parsing each request and checking its signature, answers of the same fields"
    )
    ours, floor = client_run.run_clients(CONNECTIONS, drive, Floor("bench.wsapi_floor", drive_floor, label))
    return report(
        f"gateway over the WebSocket API: {CONNECTIONS} connections from one client process, "
        f"{duration_s} s, same machine",
        ours,
        floor,
        "gateway_wsapi",
        label,
    )


if __name__ == "__main__":
    main()
