"""The fault tests' order generators against the gateway's floor (bench.gateway_floor: signature
checked, a fixed JSON answered), so that the figures are the clients' own: orders/s and client
CPU ms per order of (a) 16 httpx AsyncTrader loops inside the calling process (an async
Python load loop of the usual kind), and (b) tests/e2e/order_load.py,
16 raw HTTP/1.1 keep-alive connections on uvloop in a process of its own (its CPU includes its
start-up). Both sign every order with a real key. No target: it shows how much of the machine
each generator takes from the stack it loads."""

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time

import httpx

from bench.gateway_bench import wait_listening
from launcher.stack import free_port
from tests.client import AsyncTrader
from tests.e2e.order_load import LoadPlan, OrderLoad

CONNECTIONS = 16
KEYS = [(f"loadgen-key-{i}", f"loadgen-secret-{i}") for i in range(8)]


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def httpx_loops(url: str, seconds: float) -> int:
    """Orders answered by CONNECTIONS AsyncTrader loops in `seconds`."""
    answered = 0
    stop = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=40, limits=httpx.Limits(max_connections=2 * CONNECTIONS)) as http:
        traders = [AsyncTrader(url, 0, key, secret, http) for key, secret in KEYS]

        async def loop(n: int) -> None:
            nonlocal answered
            i = 0
            while time.monotonic() < stop:
                status, body = await traders[i % len(traders)].call(
                    "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    price="30000", quantity="0.010", newClientOrderId=f"h-{n}-{i}",
                )  # fmt: skip
                assert status == 200, body
                i += 1
                answered += 1

        await asyncio.gather(*(loop(n) for n in range(CONNECTIONS)))
    return answered


def main(seconds: float = 8.0) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    figures: dict[str, float] = {}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as keys:
        json.dump(dict(KEYS), keys)
        keys.flush()
        floor = subprocess.Popen([sys.executable, "-m", "bench.gateway_floor", str(port), keys.name])
        try:
            wait_listening(port)
            cpu, started = own_cpu_s(), time.monotonic()
            answered = asyncio.run(httpx_loops(url, seconds))
            figures["httpx_orders_per_s"] = answered / (time.monotonic() - started)
            figures["httpx_cpu_ms_per_order"] = 1000 * (own_cpu_s() - cpu) / answered
            plan = LoadPlan(url, KEYS, ["BTCUSDT"], {"BTCUSDT": ["30000"]}, {"BTCUSDT": "0.010"}, CONNECTIONS)
            with OrderLoad(plan) as load:
                time.sleep(seconds)
            result = load.result
            assert set(result.outcomes.values()) == {200}, set(result.outcomes.values())
            figures["order_load_orders_per_s"] = result.rate(result.started_at, result.done_at[-1])
            figures["order_load_cpu_ms_per_order"] = 1000 * result.cpu_s / len(result.outcomes)
        finally:
            floor.terminate()
            floor.wait(timeout=10)
    print(f"== order generators against the gateway floor, {CONNECTIONS} connections, {seconds:.0f} s each")
    print(
        f"httpx AsyncTrader loops in-process: {figures['httpx_orders_per_s']:,.0f} orders/s, "
        f"{figures['httpx_cpu_ms_per_order']:.3f} ms client CPU per order"
    )
    print(
        f"tests/e2e/order_load.py process:    {figures['order_load_orders_per_s']:,.0f} orders/s, "
        f"{figures['order_load_cpu_ms_per_order']:.3f} ms client CPU per order"
    )
    return figures
