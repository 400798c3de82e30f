"""Random pauses and kills of owners and standbys of every single-writer kind under load, with
real processes: two markets (`make soak`: all four, PARTITION_MARKETS), each with its engine and
a hot standby engine, two settlement workers and two DB writers (each claiming a stopped peer's
markets). A fault is a SIGSTOP past the lease TTL (then SIGCONT) or a SIGKILL; a process that
exits is started again, as the launcher or Kubernetes does. Afterwards, per market: no order
answered 200 or 503 lost or answered twice (an order whose connection failed counts as status 0:
its outcome is unknown to the client), no event duplicated, the event journal equals a
clean replay of the command journal; every balance equals deposits plus events; the database
holds every trade once; and every client succeeds again. CI runs PARTITION_FAULTS=6; `make soak`
40."""

import asyncio
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from launcher.stack import Stack, running_stack
from matching import OrderAccepted, OrderRejected, Trade
from tests import services
from tests.client import AsyncTrader, Trader, sign_up
from tests.e2e.journal_check import check_ledger, replay_journal, stream_events

# Per market: the centre price, the price step orders spread by (30 steps each way), the quantity.
ORDERS = {
    "BTCUSDT": (Decimal("30000"), Decimal("1"), "0.010"),
    "ETHUSDT": (Decimal("2000"), Decimal("1"), "0.010"),
    "SOLUSDT": (Decimal("150"), Decimal("0.1"), "0.100"),
    "ETHBTC": (Decimal("0.05"), Decimal("0.0001"), "0.100"),
}
SYMBOLS = os.environ.get("PARTITION_MARKETS", "BTCUSDT,ETHUSDT").split(",")
FAULTS = int(os.environ.get("PARTITION_FAULTS", "6"))
CLIENTS = int(os.environ.get("PARTITION_CLIENTS", "8"))  # concurrent order loops
PAUSE_S = 3.0  # past the 2 s lease TTL
GROUPS = {"cmd": [b"engine"], "evt": [b"settlement", b"dbwriter"]}


@pytest.fixture(scope="module")
def partitioned_stack(own_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    env = {"TRIM_JOURNAL": "false", "ORDER_TIMEOUT_MS": "15000", "CLAIM_AFTER_MS": "3000"}
    try:
        with running_stack(
            own_dsn, prefix, SYMBOLS, with_dbwriter=True, settlement_workers=2, dbwriter_workers=2, **env
        ) as s:
            for symbol in SYMBOLS:
                s.supervisor.add(f"engine-{symbol}-standby", "engine", SYMBOL=symbol, HOT_STANDBY="true")
                s.supervisor.start(f"engine-{symbol}-standby")
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


async def place_orders(traders: list[AsyncTrader], stop: asyncio.Event, outcomes: dict[str, int]) -> None:
    async def worker(n: int) -> None:
        rng, i = random.Random(n), 0
        while not stop.is_set():
            trader, symbol = rng.choice(traders), rng.choice(SYMBOLS)
            cid = f"pf-{n}-{i}"
            i += 1
            side = rng.choice(["BUY", "SELL"])
            centre, step, quantity = ORDERS[symbol]
            price = centre + step * rng.randint(-30, 30)
            try:
                status, _ = await trader.call(
                    "POST", "/api/v3/order", symbol=symbol, side=side, type="LIMIT", timeInForce="GTC",
                    price=str(price), quantity=quantity, newClientOrderId=cid,
                )  # fmt: skip
            except httpx.TransportError:
                # A connection that failed mid-request: the order's outcome is unknown, as after
                # a 5xx (verify() holds every order to what reached the journal either way).
                status = 0
            outcomes[cid] = status

    await asyncio.gather(*(worker(n) for n in range(CLIENTS)))


def inject_faults(stack: Stack, count: int, seed: int) -> list[str]:
    """`count` faults on random single-writer processes; returns what was done."""
    rng = random.Random(seed)
    kinds = [n for n in stack.supervisor.services if n.startswith(("engine-", "settlement", "dbwriter"))]
    done = []
    for _ in range(count):
        name = rng.choice(kinds)
        if rng.random() < 0.5:
            stack.supervisor.kill(name, signal.SIGSTOP)
            time.sleep(PAUSE_S)
            stack.supervisor.kill(name, signal.SIGCONT)
            done.append(f"pause {name}")
        else:
            stack.supervisor.kill(name, signal.SIGKILL)
            done.append(f"kill {name}")
        time.sleep(rng.uniform(0.5, 1.5))
        stack.supervisor.restart_dead()
    return done


async def quiet(redis: Redis, keys: Keys, seconds: float = 120.0) -> None:
    """Until every market's engine, settlement and DB writer groups have caught up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        behind = 0
        for symbol in SYMBOLS:
            for stream, groups in (
                (keys.commands(symbol), GROUPS["cmd"]),
                (keys.events(symbol), GROUPS["evt"]),
            ):
                info = {g["name"]: g for g in await redis.xinfo_groups(stream)}
                behind += sum(1 for g in groups if g not in info or info[g]["lag"] != 0 or info[g]["pending"])
        if not behind:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("a consumer did not catch up")


def test_random_pauses_and_kills_of_owners_and_standbys_lose_nothing(
    partitioned_stack: Stack, own_dsn: str
) -> None:
    stack = partitioned_stack
    traders: list[Trader] = [sign_up(stack.url) for _ in range(8)]
    outcomes: dict[str, int] = {}

    async def scenario() -> list[str]:
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=40, limits=httpx.Limits(max_connections=2 * CLIENTS)) as http:
            load = asyncio.create_task(
                place_orders([AsyncTrader.of(t, http) for t in traders], stop, outcomes)
            )
            done = await asyncio.to_thread(inject_faults, stack, FAULTS, 20261206)
            await asyncio.sleep(3.0)
            stop.set()
            await load
        return done

    started = time.monotonic()
    faults = asyncio.run(scenario())
    load_s = time.monotonic() - started
    for _ in range(100):  # every process is up again (a paused engine exits once resumed)
        if not stack.supervisor.restart_dead():
            break
        time.sleep(0.5)
    asyncio.run(verify(stack, own_dsn, traders, outcomes))
    print(
        f"\npartition faults: {faults}; orders {dict(Counter(outcomes.values()))} in {load_s:.0f} s "
        f"({len(outcomes) / load_s:.0f}/s)"
    )


async def verify(stack: Stack, dsn: str, traders: list[Trader], outcomes: dict[str, int]) -> None:
    keys = Keys(stack.prefix)
    markets = {s: load_markets()[s] for s in SYMBOLS}
    redis = Redis.from_url("redis://127.0.0.1:6379/0")
    conn = await asyncpg.connect(dsn)
    try:
        await quiet(redis, keys)
        answered: Counter[str] = Counter()
        for symbol in SYMBOLS:
            events = await stream_events(redis, keys, symbol)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert await replay_journal(redis, keys, markets[symbol]) == events
            answered.update(e.client_order_id for e in events if isinstance(e, OrderAccepted | OrderRejected))
            trades = [e.trade_id for e in events if isinstance(e, Trade)]
            stored = [r["id"] for r in await conn.fetch("SELECT id FROM trades WHERE symbol = $1", symbol)]
            assert sorted(stored) == sorted(trades) and len(set(stored)) == len(stored)
        for cid, status in outcomes.items():
            if status in (200, 503):
                assert answered[cid] == 1, (cid, status)
        await check_ledger(redis, keys, dsn, markets, [t.user_id for t in traders])
        async with httpx.AsyncClient(timeout=30) as http:
            for t in traders:  # every client succeeds again (its resting orders released first)
                client = AsyncTrader.of(t, http)
                for symbol in SYMBOLS:
                    status, body = await client.call("DELETE", "/api/v3/openOrders", symbol=symbol)
                    assert status in (200, 400), body  # 400: none open
                status, body = await client.call(
                    "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
                    price="20000", quantity="0.001",
                )  # fmt: skip
                assert status == 200, body
    finally:
        await conn.close()
        await redis.aclose()
