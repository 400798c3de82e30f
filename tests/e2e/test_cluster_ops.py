"""Operations on a real local Redis Cluster (3 masters, 3 replicas, a cluster of the test's own)
while orders flow from tests/e2e/order_load.py over three markets and users spread over every
master:

- resharding: the slots of two markets and of two users move, keys and all, to another master
  (CLUSTER SETSLOT IMPORTING / MIGRATING, MIGRATE, SETSLOT NODE: the steps of `redis-cli --cluster
  reshard`); every order is answered 200 (the services follow ASK, MOVED and TRYAGAIN), none is
  lost or answered twice, the journals replay equal, funds are conserved, and the slots' owners
  changed;
- failover: a master holding a market and users is killed (SIGKILL) while its replica is
  PAUSE_S behind (SIGSTOPped); its replica is promoted and the killed node comes back as a
  replica. With DURABLE_REPLICAS=1 no order answered 200 is
  missing from its market's journal and every check holds; without, the orders answered 200 and
  lost are counted and printed, with the checks that still hold.

A process that exits (a bus whose channel moved, a connection to the dead master) is started
again at once, as Kubernetes restarts a pod; the restarts are counted and printed."""

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from exchange_core import store
from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from launcher.stack import Stack, running_stack
from matching import OrderAccepted, OrderRejected
from tests import services
from tests.client import Trader, sign_up
from tests.e2e.journal_check import check_ledger, replay_journal, stream_events
from tests.e2e.order_load import LoadResult, OrderLoad
from tests.e2e.test_faults import Restarter
from tests.e2e.test_partition_faults import load_plan, quiet, verify
from tests.rediscluster import LocalCluster

SYMBOLS = ["BTCUSDT", "ETHUSDT", "ETHBTC"]
HOLDS = (
    "events contiguous: True, journal = replay: True, duplicated: 0, "
    "ledger = deposits + events (conserved): True"
)
CLIENTS = int(os.environ.get("CLUSTER_OPS_CLIENTS", "9"))
PAUSE_S = 1.5  # the replica's lag before the failover: less than the 3 s node timeout
LOAD_S = float(os.environ.get("CLUSTER_OPS_LOAD_S", "3"))  # load before and after the operation
ENV = {
    "TRIM_JOURNAL": "false",
    "ORDER_TIMEOUT_MS": "15000",
    "DEMO_FUNDS": "USDT=10000000,BTC=10000,ETH=100000,SOL=1000000",
}


@contextmanager
def spread_stack(cluster: LocalCluster, dsn: str, **env: str) -> Iterator[Stack]:
    """The order path on `cluster`, each market of SYMBOLS on a master of its own."""
    prefix = services.new_prefix()
    cluster.spread([Keys(prefix).commands(symbol) for symbol in SYMBOLS])
    with running_stack(dsn, prefix, SYMBOLS, REDIS_URL=cluster.url, **ENV, **env) as stack:
        yield stack


def spread_traders(stack: Stack, cluster: LocalCluster, count: int = 9) -> list[Trader]:
    """`count` or more traders whose ledgers are on every master (asserted)."""
    keys = Keys(stack.prefix)
    traders = [sign_up(stack.url) for _ in range(count)]
    while {cluster.master_of(keys.balances(t.user_id)) for t in traders} != set(cluster.masters()):
        assert len(traders) < 40, "the users' ledgers did not spread over every master"
        traders.append(sign_up(stack.url))
    return traders


def market_masters(cluster: LocalCluster, keys: Keys) -> dict[str, str]:
    return {symbol: cluster.master_of(keys.commands(symbol)) for symbol in SYMBOLS}


def test_resharding_under_load_loses_nothing(own_cluster: LocalCluster, own_dsn: str) -> None:
    cluster = own_cluster
    with spread_stack(cluster, own_dsn) as stack:
        keys = Keys(stack.prefix)
        masters = sorted(cluster.masters())
        assert set(market_masters(cluster, keys).values()) == set(masters)
        traders = spread_traders(stack, cluster)
        moving = [keys.commands(SYMBOLS[0]), keys.commands(SYMBOLS[1])]
        moving += [keys.balances(traders[0].user_id), keys.balances(traders[1].user_id)]
        before = {key: cluster.master_of(key) for key in moving}
        target = {key: masters[(masters.index(owner) + 1) % 3] for key, owner in before.items()}
        restarter = Restarter(stack)
        restarter.start()
        moved_keys = {}
        with OrderLoad(load_plan(stack.url, traders, SYMBOLS, CLIENTS)) as load:
            time.sleep(LOAD_S)
            resharded_from = time.time()
            for key in moving:
                slot = int(cluster.cli("CLUSTER", "KEYSLOT", key))
                moved_keys[key] = cluster.move_slot(slot, target[key])
            resharded_to = time.time()
            time.sleep(LOAD_S)
        restarter.stopping.set()
        restarter.join()
        after = {key: cluster.master_of(key) for key in moving}
        assert after == target and all(after[key] != before[key] for key in moving)
        assert all(moved_keys.values()), moved_keys  # each slot held keys that moved under load
        result = load.result
        statuses = Counter(result.outcomes.values())
        during = sum(1 for t in result.done_at if resharded_from <= t < resharded_to)
        print(
            f"\nresharding: {len(moving)} slots ({sum(moved_keys.values())} keys) moved in "
            f"{resharded_to - resharded_from:.1f} s, {during} orders answered meanwhile; orders "
            f"{dict(statuses)}; restarts {dict(restarter.restarted)}; load average {os.getloadavg()[0]:.1f}"
        )
        assert during > 0, "no order was answered while the slots moved"
        assert set(statuses) == {200}, statuses  # no error reached a client
        assert not restarter.restarted, restarter.restarted  # nor ended a process
        asyncio.run(verify(stack, own_dsn, traders, result.outcomes, cluster.url, SYMBOLS, with_db=False))


@pytest.mark.parametrize("durable", [True, False], ids=["durable", "async-replication"])
def test_failover_under_load(own_cluster: LocalCluster, own_dsn: str, durable: bool) -> None:
    cluster = own_cluster
    # Orphaned reservations (an order whose command died with the master: answered 503, status
    # unknown) are released within seconds, not a minute, so that the ledger can be checked.
    env = {"ORPHAN_AFTER_MS": "2000", "SWEEP_EVERY_MS": "1000"}
    if durable:
        env |= {"DURABLE_REPLICAS": "1", "DURABLE_TIMEOUT_MS": "1000"}
    with spread_stack(cluster, own_dsn, **env) as stack:
        keys = Keys(stack.prefix)
        traders = spread_traders(stack, cluster)
        seed = f"127.0.0.1:{cluster.ports[0]}"  # REDIS_URL names it: a restarted process needs it
        victim = next(m for m in market_masters(cluster, keys).values() if m != seed)
        replica = cluster.replica_of(victim)
        restarter = Restarter(stack)
        restarter.start()
        with OrderLoad(load_plan(stack.url, traders, SYMBOLS, CLIENTS)) as load:
            time.sleep(LOAD_S)
            # The replica falls behind (SIGSTOP) for PAUSE_S, then its master dies: what was
            # acknowledged meanwhile is on no replica.
            replica_pid = cluster.pid(replica)
            os.kill(replica_pid, signal.SIGSTOP)
            time.sleep(PAUSE_S)
            killed_at = time.time()
            cluster.kill(victim)
            os.kill(replica_pid, signal.SIGCONT)
            promoted = wait_for(lambda: replica in cluster.masters(), 60)
            promoted_at = time.time()
            cluster.start_again(victim)
            assert wait_for(lambda: victim in cluster.replicas_of(replica), 60)
            time.sleep(LOAD_S)
        restarter.stopping.set()
        restarter.join()
        assert promoted, f"{replica} was not promoted"
        assert victim not in cluster.masters()
        result = load.result
        lost, held = asyncio.run(check_acknowledged(stack, cluster, result, own_dsn, traders))
        statuses = Counter(result.outcomes.values())
        after = sum(1 for t in result.done_at if t > promoted_at)
        print(
            f"\nfailover ({'DURABLE_REPLICAS=1' if durable else 'asynchronous replication'}): "
            f"{victim} killed, {replica} promoted after {promoted_at - killed_at:.1f} s; orders "
            f"{dict(statuses)}; answered 200 and lost: {len(lost)}; {held}; restarts "
            f"{dict(restarter.restarted)}; load average {os.getloadavg()[0]:.1f}"
        )
        assert statuses[200] > 0 and after > 0, "the exchange did not carry on"
        if durable:
            assert not lost, sorted(lost)[:10]
            assert held == HOLDS, held


def wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


async def check_acknowledged(
    stack: Stack, cluster: LocalCluster, result: LoadResult, dsn: str, traders: list[Trader]
) -> tuple[set[str], str]:
    """The orders answered 200 whose command is not in their market's journal (the engine's
    events name each one's client order id), and which other checks hold (as a sentence)."""
    keys = Keys(stack.prefix)
    markets = {s: load_markets()[s] for s in SYMBOLS}
    redis = store.connect(cluster.url)
    try:
        await quiet(redis, keys, SYMBOLS, with_db=False)
        answered: Counter[str] = Counter()
        contiguous = replayed = True
        for symbol in SYMBOLS:
            events = await stream_events(redis, keys, symbol)
            contiguous &= [e.seq for e in events] == list(range(1, len(events) + 1))
            replayed &= await replay_journal(redis, keys, markets[symbol]) == events
            answered.update(e.client_order_id for e in events if isinstance(e, OrderAccepted | OrderRejected))
        lost = {cid for cid, status in result.outcomes.items() if status == 200 and answered[cid] == 0}
        duplicated = sum(1 for n in answered.values() if n > 1)
        conserved = False
        for _ in range(60):  # the orphans' sweep
            try:
                await check_ledger(redis, keys, dsn, markets, [t.user_id for t in traders])
                conserved = True
                break
            except AssertionError:
                await asyncio.sleep(0.5)
        held = (
            f"events contiguous: {contiguous}, journal = replay: {replayed}, duplicated: {duplicated}, "
            f"ledger = deposits + events (conserved): {conserved}"
        )
        return lost, held
    finally:
        await redis.aclose()
