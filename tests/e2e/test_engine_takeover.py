"""One writer per market, with real processes: a second engine for an owned market is a standby
that writes nothing; SIGSTOP the owner past its lease and the standby takes over; SIGCONT the
former owner and the fence refuses it: it exits (code 3). Afterwards no acknowledged order is
lost, no event duplicated, the event journal equals a clean replay of the command journal, and
every balance equals deposits plus events. Takeover time (owner stopped -> the first order
accepted again) is printed for a hot and a cold standby."""

import asyncio
import re
import signal
import time
from collections.abc import Iterator

import httpx
import pytest
from redis.asyncio import Redis

from exchange_core.keys import Keys
from launcher.stack import Stack, free_port, running_stack
from tests import services
from tests.client import AsyncTrader, Trader, sign_up
from tests.e2e.test_crash import place_orders, verify

SYMBOL = "BTCUSDT"
OWNER = f"engine-{SYMBOL}"
ORDERS_PER_ROUND = 300
LEASE_TTL_S = 2.0
LEASE_LOST_EXIT = 3
# Every trader and order of the module: the ledger check covers all of them (fees of earlier
# rounds sit in the fee account).
TRADERS: list[Trader] = []
OUTCOMES: dict[str, int] = {}


@pytest.fixture(scope="module")
def takeover_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    env = {"TRIM_JOURNAL": "false", "ORDER_TIMEOUT_MS": "10000", "LEASE_TTL_MS": str(int(LEASE_TTL_S * 1000))}
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL], **env) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def wait_until(condition: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"not in {seconds} s: {what}")


def start_standby(stack: Stack, name: str, hot: bool) -> int:
    """Start a second engine of SYMBOL; returns its metrics port once it says it is a standby."""
    port = free_port()
    stack.supervisor.add(name, "engine", SYMBOL=SYMBOL, HOT_STANDBY=str(hot).lower(), METRICS_PORT=str(port))
    stack.supervisor.start(name)
    log = stack.log_dir / f"{name}.log"
    wait_until(lambda: log.exists() and b"standby" in log.read_bytes(), 20, f"{name} standing by")
    return port


def engine_counts(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.findall(r"^exchange_engine_(commands|events)_total\{[^}]*\} (\S+)$", text, re.M)
    return {name: float(value) for name, value in found}


def holder_pid(stack: Stack) -> int:
    async def read() -> bytes | None:
        redis = Redis.from_url("redis://127.0.0.1:6379/0")
        try:
            value: bytes | None = await redis.get(Keys(stack.prefix).lease(SYMBOL, "engine"))
            return value
        finally:
            await redis.aclose()

    value = asyncio.run(read())
    return int(value.split(b"/")[1]) if value else 0


async def first_accept_after(trader: Trader, url: str, cid: str) -> float:
    """Place one resting order now; seconds until it is accepted."""
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        status, body = await AsyncTrader.of(trader, http).call(
            "POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
            price="20000", quantity="0.001", newClientOrderId=cid,
        )  # fmt: skip
    assert status == 200, body
    return time.monotonic() - started


def run_load(stack: Stack, traders: list[Trader], outcomes: dict[str, int], seed: int) -> None:
    async def load() -> None:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=24)) as http:
            await place_orders([AsyncTrader.of(t, http) for t in traders], ORDERS_PER_ROUND, outcomes, seed)

    asyncio.run(load())


@pytest.mark.parametrize("hot", [True, False], ids=["hot-standby", "cold-standby"])
def test_standby_writes_nothing_then_takes_over_and_the_former_owner_is_fenced(
    takeover_stack: Stack, pg_dsn: str, hot: bool
) -> None:
    stack = takeover_stack
    owner = next(n for n, s in stack.supervisor.services.items() if n.startswith(OWNER) and s.process
                 and s.process.poll() is None)  # fmt: skip
    owner_process = stack.supervisor.services[owner].process
    assert owner_process is not None and holder_pid(stack) == owner_process.pid
    standby = f"{OWNER}-standby-{'hot' if hot else 'cold'}"
    port = start_standby(stack, standby, hot)
    traders = [sign_up(stack.url) for _ in range(6)]
    TRADERS.extend(traders)
    outcomes = OUTCOMES
    seed = 20261206 + hot

    run_load(stack, traders, outcomes, seed)  # the owner alone writes
    assert engine_counts(port) == {"commands": 0.0, "events": 0.0}
    assert holder_pid(stack) == owner_process.pid

    stack.supervisor.kill(owner, signal.SIGSTOP)
    try:
        takeover_s = asyncio.run(first_accept_after(traders[0], stack.url, f"takeover-{seed}"))
        standby_process = stack.supervisor.services[standby].process
        assert standby_process is not None and holder_pid(stack) == standby_process.pid
        run_load(stack, traders, outcomes, seed + 100)  # the new owner writes meanwhile
    finally:
        stack.supervisor.kill(owner, signal.SIGCONT)
    assert owner_process.wait(timeout=20) == LEASE_LOST_EXIT
    last_line = (stack.log_dir / f"{owner}.log").read_bytes().strip().rsplit(b"\n", 1)[-1]
    assert b"lease" in last_line and b"exiting" in last_line, last_line
    assert engine_counts(port)["events"] > 0

    asyncio.run(verify(stack, services.REDIS_URL, pg_dsn, [t.user_id for t in TRADERS], outcomes, TRADERS))
    print(
        f"\ntakeover with a {'hot' if hot else 'cold'} standby: {takeover_s:.2f} s "
        f"(lease TTL {LEASE_TTL_S} s)"
    )
