"""Random pauses and kills of owners and standbys of every single-writer kind under load, with
real processes: two markets (`make soak`: all four, PARTITION_MARKETS), each with its engine and
a hot standby engine, two settlement workers and two DB writers (each claiming a stopped peer's
markets). A fault is a SIGSTOP past the lease TTL (then SIGCONT) or a SIGKILL; a process that
exits is started again, as the launcher or Kubernetes does. The orders come from a generator in
a process of its own (tests/e2e/order_load.py: PARTITION_CLIENTS keep-alive connections, each on
one market), which records only each order's status; afterwards, per market: no order
answered 200 or 503 lost or answered twice (an order whose connection failed counts as status 0:
its outcome is unknown to the client), no event duplicated, the event journal equals a
clean replay of the command journal; every balance equals deposits plus events; the database
holds every trade once; and every client succeeds again. CI runs PARTITION_FAULTS=6; `make soak`
40. The test runs on one Redis and on a real local Redis Cluster (the markets spread over its
three masters as in every cluster module; PARTITION_CLUSTER_FAULTS faults, 4 unless given, to
keep it under two minutes)."""

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

from bench.common import cpu_seconds
from exchange_core import store
from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from launcher.stack import Stack, running_stack
from matching import OrderAccepted, OrderRejected, Trade
from tests import services
from tests.client import AsyncTrader, Trader, sign_up
from tests.e2e.journal_check import check_ledger, replay_journal, stream_events
from tests.e2e.order_load import LoadPlan, OrderLoad
from tests.rediscluster import LocalCluster

# Per market: the centre price, the price step orders spread by (30 steps each way), the quantity.
ORDERS = {
    "BTCUSDT": (Decimal("30000"), Decimal("1"), "0.010"),
    "ETHUSDT": (Decimal("2000"), Decimal("1"), "0.010"),
    "SOLUSDT": (Decimal("150"), Decimal("0.1"), "0.100"),
    "ETHBTC": (Decimal("0.05"), Decimal("0.0001"), "0.100"),
}
SYMBOLS = os.environ.get("PARTITION_MARKETS", "BTCUSDT,ETHUSDT").split(",")
FAULTS = int(os.environ.get("PARTITION_FAULTS", "6"))
CLUSTER_FAULTS = int(os.environ.get("PARTITION_CLUSTER_FAULTS", "4"))
# Connections of the order generator, each on one market: 8 per market unless given.
CLIENTS = int(os.environ.get("PARTITION_CLIENTS", str(8 * len(SYMBOLS))))
PAUSE_S = 3.0  # past the 2 s lease TTL
GROUPS = {"cmd": [b"engine"], "evt": [b"settlement", b"dbwriter"]}


@pytest.fixture(scope="module", params=["redis", "cluster"])
def store_url(request: pytest.FixtureRequest, redis_url: str) -> str:
    """The store the stack runs on: the machine's Redis, or the session's local Redis Cluster."""
    if request.param == "redis":
        return redis_url
    cluster: LocalCluster = request.getfixturevalue("redis_cluster")
    return cluster.url


@pytest.fixture(scope="module")
def stack_dsn(store_url: str) -> Iterator[str]:
    """A database of each store's stack (the trade ids of the one-Redis run and the cluster run
    are the same numbers)."""
    services.ensure_postgres()
    dsn = asyncio.run(services.create_test_database())
    yield dsn
    asyncio.run(services.drop_test_database(dsn))


@pytest.fixture(scope="module")
def partitioned_stack(request: pytest.FixtureRequest, stack_dsn: str, store_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    if store.cluster_seed(store_url):
        cluster: LocalCluster = request.getfixturevalue("redis_cluster")
        # As every cluster module: all markets' slots over the three masters (a no-op once done).
        cluster.spread([Keys(prefix).commands(symbol) for symbol in load_markets()])
    env = {
        "REDIS_URL": store_url,
        "TRIM_JOURNAL": "false",
        "ORDER_TIMEOUT_MS": "15000",
        "CLAIM_AFTER_MS": "3000",
        # Enough that no order of a long run is refused for the funds its resting orders hold.
        "DEMO_FUNDS": "USDT=10000000,BTC=10000,ETH=100000,SOL=1000000",
    }
    try:
        with running_stack(
            stack_dsn, prefix, SYMBOLS, with_dbwriter=True, settlement_workers=2, dbwriter_workers=2, **env
        ) as s:
            for symbol in SYMBOLS:
                s.supervisor.add(f"engine-{symbol}-standby", "engine", SYMBOL=symbol, HOT_STANDBY="true")
                s.supervisor.start(f"engine-{symbol}-standby")
            yield s
    finally:
        if not store.cluster_seed(store_url):  # the cluster is the session's, removed with it
            asyncio.run(services.delete_prefix(prefix))


class StackCpu:
    """CPU seconds used by the stack's processes (not Redis: other tests share it) from the first
    sample on. A process's CPU counts up to its last sample: sample before every kill."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.names: dict[int, str] = {}
        self.sample(baseline=True)

    def sample(self, baseline: bool = False) -> None:
        """Reads every process's CPU; one started after the first sample counts from 0."""
        for name, pid in self.stack.supervisor.pids().items():
            used = cpu_seconds(pid)
            if used:  # 0: gone already
                self.first.setdefault(pid, used if baseline else 0.0)
                self.last[pid] = used
                self.names[pid] = name

    def seconds(self) -> dict[str, float]:
        """CPU seconds by kind of process: gateway, engine, standby, settlement, dbwriter."""
        self.sample()
        kinds: dict[str, float] = {}
        for pid, used in self.last.items():
            name = self.names[pid]
            kind = "standby" if name.endswith("-standby") else name.split("-")[0]
            kinds[kind] = kinds.get(kind, 0.0) + used - self.first[pid]
        return kinds


def inject_faults(stack: Stack, count: int, seed: int, cpu: StackCpu) -> list[str]:
    """`count` faults on random single-writer processes; returns what was done."""
    rng = random.Random(seed)
    kinds = [n for n in stack.supervisor.services if n.startswith(("engine-", "settlement", "dbwriter"))]
    done = []
    for _ in range(count):
        cpu.sample()
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


async def quiet(
    redis: Redis, keys: Keys, symbols: list[str], seconds: float = 120.0, with_db: bool = True
) -> None:
    """Until every market's engine, settlement and (`with_db`) DB writer groups have caught up."""
    deadline = time.monotonic() + seconds
    evt_groups = GROUPS["evt"] if with_db else [b"settlement"]
    while time.monotonic() < deadline:
        behind = []
        for symbol in symbols:
            for stream, groups in (
                (keys.commands(symbol), GROUPS["cmd"]),
                (keys.events(symbol), evt_groups),
            ):
                info = {g["name"]: g for g in await redis.xinfo_groups(stream)}
                behind += [
                    (stream, g, info.get(g))
                    for g in groups
                    if g not in info or info[g]["lag"] != 0 or info[g]["pending"]
                ]
        if not behind:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"a consumer did not catch up: {behind}")


def test_random_pauses_and_kills_of_owners_and_standbys_lose_nothing(
    partitioned_stack: Stack, stack_dsn: str, store_url: str
) -> None:
    stack = partitioned_stack
    traders: list[Trader] = [sign_up(stack.url) for _ in range(8)]
    with OrderLoad(load_plan(stack.url, traders)) as load:
        cpu = StackCpu(stack)
        faults_from = time.time()
        count = CLUSTER_FAULTS if store.cluster_seed(store_url) else FAULTS
        faults = inject_faults(stack, count, 20261206, cpu)
        faults_to = time.time()
        time.sleep(3.0)
        stack_cpu_s = cpu.seconds()
        cpu_to = time.time()
    stopped = time.time()
    result = load.result
    for _ in range(100):  # every process is up again (a paused engine exits once resumed)
        if not stack.supervisor.restart_dead():
            break
        time.sleep(0.5)
    asyncio.run(verify(stack, stack_dsn, traders, result.outcomes, store_url, SYMBOLS))
    orders = max(len(result.outcomes), 1)
    metered = max(sum(1 for t in result.done_at if faults_from <= t < cpu_to), 1)
    print(
        f"\npartition faults on {store_url}: {faults}; orders {dict(Counter(result.outcomes.values()))} in "
        f"{stopped - result.started_at:.0f} s over {CLIENTS} connections: "
        f"{result.rate(result.started_at, stopped):.0f}/s over the whole run, "
        f"{result.rate(faults_from, faults_to):.0f}/s during the faults; CPU per order: stack "
        f"(without Redis) >= {1000 * sum(stack_cpu_s.values()) / metered:.2f} ms ("
        + ", ".join(f"{kind} {1000 * cpu_s / metered:.2f}" for kind, cpu_s in sorted(stack_cpu_s.items()))
        + f"), generator {1000 * result.cpu_s / orders:.3f} ms; load average {os.getloadavg()[0]:.1f}"
    )


def load_plan(
    url: str, traders: list[Trader], symbols: list[str] = SYMBOLS, clients: int = CLIENTS
) -> LoadPlan:
    """Every market's orders spread 30 price steps each way around its centre."""
    prices = {s: [str(ORDERS[s][0] + ORDERS[s][1] * k) for k in range(-30, 31)] for s in symbols}
    return LoadPlan(
        url,
        [(t.api_key, t.secret) for t in traders],
        symbols,
        prices,
        {s: ORDERS[s][2] for s in symbols},
        clients,
        seed=20261206,
    )


async def verify(
    stack: Stack,
    dsn: str,
    traders: list[Trader],
    outcomes: dict[str, int],
    redis_url: str,
    symbols: list[str],
    with_db: bool = True,
) -> None:
    """Per market of `symbols`, on the store at `redis_url`: no order answered 200 or 503 lost or
    answered twice, no event duplicated, the journal equals its replay, the ledger equals deposits
    plus events (conservation), `with_db`: the database holds every trade once; then every trader
    succeeds again."""
    keys = Keys(stack.prefix)
    markets = {s: load_markets()[s] for s in symbols}
    redis = store.connect(redis_url)
    conn = await asyncpg.connect(dsn)
    try:
        await quiet(redis, keys, symbols, with_db=with_db)
        answered: Counter[str] = Counter()
        for symbol in symbols:
            events = await stream_events(redis, keys, symbol)
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert await replay_journal(redis, keys, markets[symbol]) == events
            answered.update(e.client_order_id for e in events if isinstance(e, OrderAccepted | OrderRejected))
            if not with_db:
                continue
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
                for symbol in symbols:
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
