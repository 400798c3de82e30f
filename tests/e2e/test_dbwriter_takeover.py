"""The DB processor under leases, with real processes: a second writer started for the owner's
market writes nothing; SIGSTOP the owner past its lease and the standby takes the market over
(raising the market's row of partition_fences to its token); SIGCONT the owner (stopped past the
lease TTL and the Redis client's socket timeout): its next write is refused by a fence
(partition_fences, or the lease's in Redis) and it leaves the market, writing nothing more, and
stays up as a standby. Afterwards the database holds every trade of the event journal exactly
once. The takeover time (owner stopped -> the standby's first committed round) is printed."""

import asyncio
import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from exchange_core import redisio
from exchange_core.keys import Keys
from launcher.stack import Stack, free_port, running_stack
from matching import OrderAccepted, Trade
from tests import services
from tests.client import AsyncTrader, Trader, sign_up
from tests.e2e.journal_check import stream_events
from tests.e2e.test_crash import place_orders, quiet
from tests.e2e.test_engine_takeover import LEASE_TTL_S, SYMBOL, wait_until

OWNER = "dbwriter"
STANDBY = "dbwriter-standby"
# Past the lease TTL and past the Redis client's socket timeout (5 s): the read in flight when the
# owner was stopped fails once it resumes, and the owner goes on (it used to crash).
PAUSE_S = 6.0
ORDERS_PER_ROUND = 120


def run_load(stack: Stack, traders: list[Trader], outcomes: dict[str, int], seed: int) -> None:
    async def load() -> None:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=24)) as http:
            await place_orders([AsyncTrader.of(t, http) for t in traders], ORDERS_PER_ROUND, outcomes, seed)

    asyncio.run(load())


@pytest.fixture(scope="module")
def writers_stack(own_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    env = {"TRIM_JOURNAL": "false", "ORDER_TIMEOUT_MS": "10000", "LEASE_TTL_MS": str(int(LEASE_TTL_S * 1000)),
           "CLAIM_AFTER_MS": "0"}  # fmt: skip
    try:
        with running_stack(own_dsn, prefix, [SYMBOL], with_dbwriter=True, with_metrics=True, **env) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def writer_metrics(url: str) -> dict[str, float]:
    """The writer's rows and rounds counters and its BTCUSDT dbwriter lease figures."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    found = re.findall(r"^exchange_dbwriter_(rounds|trades_written)_total (\S+)$", text, re.M)
    lease = f'{{partition="{SYMBOL}",role="dbwriter"}}'
    found += re.findall(rf"^exchange_lease_(held|token|lost_total){re.escape(lease)} (\S+)$", text, re.M)
    return {name: float(value) for name, value in found}


async def fence_token(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        token = await conn.fetchval(
            "SELECT token FROM partition_fences WHERE symbol = $1 AND role = 'dbwriter'", SYMBOL
        )
        return int(token or 0)
    finally:
        await conn.close()


async def lease_token(stack: Stack) -> int:
    """The last dbwriter token Redis granted for SYMBOL."""
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        return int(await redis.get(Keys(stack.prefix).lease_token(SYMBOL, "dbwriter")) or 0)
    finally:
        await redis.aclose()


async def assert_every_trade_once(stack: Stack, dsn: str) -> int:
    """Once the engine, settlement and the DB writers have caught up: the trades table holds
    every trade of the event journal exactly once, the orders table every accepted order once.
    Returns the number of trades."""
    keys = Keys(stack.prefix)
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    conn = await asyncpg.connect(dsn)
    try:
        await quiet(redis, keys)
        deadline = time.monotonic() + 60
        while await redisio.group_backlog(redis, keys.events(SYMBOL), "dbwriter"):
            assert time.monotonic() < deadline, "the DB writer did not catch up"
            await asyncio.sleep(0.2)
        events = await stream_events(redis, keys, SYMBOL)
        trades = [e.trade_id for e in events if isinstance(e, Trade)]
        stored = [r["id"] for r in await conn.fetch("SELECT id FROM trades WHERE symbol = $1", SYMBOL)]
        assert len(set(stored)) == len(stored)
        assert sorted(stored) == sorted(trades)
        accepted = sorted(e.order_id for e in events if isinstance(e, OrderAccepted))
        orders = await conn.fetch("SELECT order_id FROM orders WHERE symbol = $1 ORDER BY order_id", SYMBOL)
        assert [r["order_id"] for r in orders] == accepted
        return len(trades)
    finally:
        await conn.close()
        await redis.aclose()


def test_a_standby_writer_writes_nothing_then_takes_over_and_the_paused_writer_is_fenced(
    writers_stack: Stack, own_dsn: str
) -> None:
    stack = writers_stack
    owner_url = stack.probe_urls[OWNER]
    port = free_port()
    stack.supervisor.add(STANDBY, "dbwriter", WORKERS="1", WORKER_INDEX="0", METRICS_PORT=str(port))
    stack.supervisor.start(STANDBY)
    standby_url = f"http://127.0.0.1:{port}"
    log = stack.log_dir / f"{STANDBY}.log"
    wait_until(lambda: log.exists() and b"metrics and probes" in log.read_bytes(), 20, "the standby up")
    traders: list[Trader] = [sign_up(stack.url) for _ in range(6)]
    outcomes: dict[str, int] = {}

    run_load(stack, traders, outcomes, 8001)  # the owner alone writes
    assert asyncio.run(assert_every_trade_once(stack, own_dsn)) > 0
    owner_token = asyncio.run(fence_token(own_dsn))
    assert owner_token == asyncio.run(lease_token(stack)) > 0
    assert writer_metrics(owner_url)["token"] == owner_token
    standby = writer_metrics(standby_url)
    assert standby == {"rounds": 0, "trades_written": 0, "held": 0, "token": 0, "lost_total": 0}

    stack.supervisor.kill(OWNER, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        with ThreadPoolExecutor(1) as pool:  # orders flow; the standby writes their history
            load = pool.submit(run_load, stack, traders, outcomes, 8002)
            raised = lambda: asyncio.run(fence_token(own_dsn)) > owner_token  # noqa: E731
            wait_until(raised, 30, "the standby's first round")
            takeover_s = time.monotonic() - stopped
            load.result()
        assert writer_metrics(standby_url)["rounds"] > 0
        time.sleep(max(0.0, stopped + PAUSE_S - time.monotonic()))
    finally:
        stack.supervisor.kill(OWNER, signal.SIGCONT)
    run_load(stack, traders, outcomes, 8003)  # something for the resumed owner to read
    owner_log = stack.log_dir / f"{OWNER}.log"
    lost = re.compile(rb"lease \S+:dbwriter token %d lost: (.*)" % owner_token)
    wait_until(lambda: lost.search(owner_log.read_bytes()) is not None, 20, "the owner leaving the market")
    why = lost.search(owner_log.read_bytes())
    owner = writer_metrics(owner_url)
    assert (owner["held"], owner["token"], owner["lost_total"]) == (0, 0, 1)

    run_load(stack, traders, outcomes, 8004)  # the former owner writes none of it
    trades = asyncio.run(assert_every_trade_once(stack, own_dsn))
    assert writer_metrics(owner_url) == owner
    owner_process = stack.supervisor.services[OWNER].process
    assert owner_process is not None and owner_process.poll() is None  # a standby now, not crashed
    assert asyncio.run(fence_token(own_dsn)) == writer_metrics(standby_url)["token"] > owner_token
    print(
        f"\ndbwriter takeover: {takeover_s:.2f} s (lease TTL {LEASE_TTL_S} s); {trades} trades once; "
        f"the former owner refused: {why.group(1).decode() if why else '?'}"
    )
