"""The whole order path on one Redis against a local Redis Cluster (3 masters, 3 replicas), and
durable acknowledgements on the cluster, in one invocation.

Configurations, alternated ROUNDS times (single, cluster, cluster durable, single, ...):
- `single`: one private redis-server on a free port (no persistence, no replica);
- `cluster`: tests.rediscluster's six nodes (no persistence), the markets' slots spread over
  the three masters;
- `cluster_durable`: the same cluster with DURABLE_REPLICAS=1 (docs/cluster.md).
Each run: a fresh stack on that store (gateway, one engine per market of markets.toml,
settlement, the DB processor, the ws tier) and database, 64 traders, wrk through
bench/wrk_orders.lua at 64 connections posting pre-signed LIMIT orders spread evenly over the
markets (bench.cluster_orders), and WS_CLIENTS WebSocket clients on every market's trade and
depth streams (bench.ws_counter). CPU is measured from wrk's start until every consumer group of
every stream has caught up (or DRAIN_S passed), for every process and every redis-server, and
for IDLE_S before it with the clients connected and no orders: "marginal" figures subtract each
process's idle CPU over as long a time (what an order adds, without the idle polling of a stack
that runs far below its capacity here).

Prints orders/s and p50/p99 of each run, and CPU ms per answered order of every process per
configuration (the ws tier also per delivered frame); records all of it in results.json under
"measurements" -> "cluster" (read by `python -m bench capacity`). Checks that the engines
accepted at least as many orders as the gateway answered 200, and that the answers were 200.
"""

import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import cast

from bench.capacity import costs_from
from bench.cluster_orders import FUNDS, MARKETS, signed_orders
from bench.common import CpuMeter, drop_database, fresh_database, new_prefix, redis_server_pid
from bench.gateway_bench import CONNECTIONS, ORDERS_PER_S, parse_wrk, rejections, wrk_orders
from bench.results import load_average, record
from exchange_core import store
from exchange_core.keys import Keys
from launcher.stack import free_port, running_stack
from tests.client import sign_up
from tests.rediscluster import LocalCluster, local_cluster

DURATION_S = int(os.environ.get("CLUSTER_BENCH_SECONDS", "8"))
ROUNDS = int(os.environ.get("CLUSTER_BENCH_ROUNDS", "2"))
WS_CLIENTS = 8
DRAIN_S = 30.0
IDLE_S = 3.0  # each process's idle CPU is measured this long before the orders start
CONFIGS = ("single", "cluster", "cluster_durable")
SYMBOLS = [m.symbol for m in MARKETS]
Entries = list[tuple[bytes, dict[bytes, bytes]]]


@dataclass
class Store:
    """A Redis to run the stack on: its URL, every redis-server by label, and how to empty it."""

    url: str
    nodes: dict[str, int]  # label ("redis", "redis-master:PORT", "redis-replica:PORT") -> pid
    masters: list[int]  # ports to FLUSHALL between runs

    def flush(self) -> None:
        for port in self.masters:
            subprocess.run(["redis-cli", "-p", str(port), "FLUSHALL"], check=True, capture_output=True)


@dataclass
class Run:
    config: str
    rate: float
    p50_ms: float
    p99_ms: float
    answered: int
    non_2xx: int
    accepted: int
    frames: int
    caught_up: bool
    cpu_s: dict[str, float] = field(default_factory=dict)  # CPU seconds over the measured window
    idle_cpu_per_s: dict[str, float] = field(default_factory=dict)  # before it, no orders flowing
    window_s: float = 0.0

    def marginal_cpu_s(self) -> dict[str, float]:
        """`cpu_s` less what each process used idle over as long a time (never below 0)."""
        return {
            name: max(0.0, seconds - self.idle_cpu_per_s.get(name, 0.0) * self.window_s)
            for name, seconds in self.cpu_s.items()
        }


@contextmanager
def single_redis() -> Iterator[Store]:
    """One redis-server as the cluster's nodes are configured (no persistence), on a free port."""
    port = free_port()
    home = tempfile.mkdtemp(prefix="bench-redis-")
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", home],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while (
            subprocess.run(
                ["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True
            ).stdout.strip()
            != "PONG"
        ):
            assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        yield Store(f"redis://127.0.0.1:{port}/0", {"redis": process.pid}, [port])
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(home, ignore_errors=True)


def cluster_store(cluster: LocalCluster) -> Store:
    """The cluster with the markets' slots on every master; its nodes labelled by role."""
    cluster.spread([f"{{{symbol}}}" for symbol in SYMBOLS])
    holders = {cluster.master_of(f"{{{symbol}}}") for symbol in SYMBOLS}
    assert holders == set(cluster.masters()), f"the markets are on {holders} only"
    masters = [int(address.rpartition(":")[2]) for address in cluster.masters()]
    nodes = {}
    for port in cluster.ports:
        pid = redis_server_pid(port)
        assert pid is not None, f"no redis-server found for port {port}"
        nodes[f"redis-{'master' if port in masters else 'replica'}:{port}"] = pid
    return Store(cluster.url, nodes, masters)


def ws_path() -> str:
    streams = "/".join(f"{s.lower()}@trade/{s.lower()}@depth@100ms" for s in SYMBOLS)
    return f"/stream?streams={streams}"


def one_run(config: str, redis: Store) -> Run:
    """A fresh stack on `redis`, the wrk run and the WS clients, measured (module docstring)."""
    dsn = fresh_database()
    prefix = new_prefix()
    durable = "1" if config.endswith("durable") else "0"
    try:
        with running_stack(
            dsn,
            prefix,
            SYMBOLS,
            with_ws=True,
            with_dbwriter=True,
            REDIS_URL=redis.url,
            DEMO_FUNDS=FUNDS,
            DURABLE_REPLICAS=durable,
        ) as stack:
            with ThreadPoolExecutor(8) as pool:
                traders = list(pool.map(sign_up, [stack.url] * CONNECTIONS))
            lines = signed_orders(traders, MARKETS, ORDERS_PER_S * DURATION_S + 10_000)
            command, wrk_env, orders_file = wrk_orders(lines, DURATION_S)
            clients = subprocess.Popen(
                [sys.executable, "-m", "bench.ws_counter", stack.ws_url, ws_path(), str(WS_CLIENTS)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert clients.stdin is not None and clients.stdout is not None
            assert clients.stdout.readline().strip() == "ready", "the WebSocket clients did not connect"
            meter = CpuMeter({**stack.supervisor.pids(), **redis.nodes, "ws-clients": clients.pid})
            meter.start()
            time.sleep(IDLE_S)
            idle_cpu_per_s = {name: seconds / IDLE_S for name, seconds in meter.stop().items()}
            meter.start()
            started = time.monotonic()
            clients.stdin.write("start\n")
            clients.stdin.flush()
            wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                [*command, stack.url], env=wrk_env, capture_output=True, text=True, check=True
            ).stdout
            wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            caught_up = asyncio.run(drain(redis.url, prefix))
            cpu = meter.stop()
            window_s = time.monotonic() - started
            cpu["wrk"] = sum(getattr(wrk_after, f) - getattr(wrk_before, f) for f in ("ru_utime", "ru_stime"))
            clients.stdin.write("stop\n")
            clients.stdin.flush()
            counted = json.loads(clients.stdout.readline())
            clients.wait(10)
            os.unlink(orders_file)
            accepted = asyncio.run(count_accepted(redis.url, prefix))
    finally:
        drop_database(dsn)
        redis.flush()
    figures = parse_wrk(out)
    answered = int(figures["requests"] - figures["non_2xx"])
    assert not figures["non_2xx"], f"{config}: answers other than 200: {rejections(out)}"
    assert accepted >= answered, f"{config}: the engines accepted {accepted} orders, {answered} were answered"
    assert counted["connected"] == WS_CLIENTS and not counted["closed_early"], (
        f"{config}: WS clients {counted}"
    )
    return Run(
        config,
        answered / figures["seconds"] if figures["seconds"] else 0.0,
        figures["p50_ms"],
        figures["p99_ms"],
        answered,
        int(figures["non_2xx"]),
        accepted,
        int(counted["frames"]),
        caught_up,
        cpu,
        idle_cpu_per_s,
        window_s,
    )


async def drain(url: str, prefix: str) -> bool:
    """Wait (up to DRAIN_S) until every consumer group of every market's command and event
    stream has read every entry and has none pending; whether they did."""
    keys = Keys(prefix)
    client = store.connect(url)
    deadline = time.monotonic() + DRAIN_S
    try:
        while True:
            behind = 0
            for symbol in SYMBOLS:
                for stream in (keys.commands(symbol), keys.events(symbol)):
                    for group in await client.xinfo_groups(stream):
                        lag = group.get("lag")
                        behind += int(group.get("pending") or 0) + (1 if lag is None else int(lag))
            if not behind:
                return True
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
    finally:
        await client.aclose()


async def count_accepted(url: str, prefix: str) -> int:
    from exchange_core.protocol import decode_events
    from matching import OrderAccepted

    client = store.connect(url)
    try:
        count = 0
        for symbol in SYMBOLS:
            entries = cast(Entries, await client.xrange(Keys(prefix).events(symbol)))
            for _, fields in entries:
                count += sum(isinstance(e, OrderAccepted) for e in decode_events(fields[b"e"])[1])
        return count
    finally:
        await client.aclose()


def cpu_per_order(runs: list[Run], marginal: bool = False) -> dict[str, float]:
    """CPU ms per answered order of every process over `runs` (total CPU / total orders); with
    `marginal`, less each process's idle CPU over the same time."""
    answered = sum(r.answered for r in runs)
    cpu: dict[str, float] = {}
    for run in runs:
        for name, seconds in (run.marginal_cpu_s() if marginal else run.cpu_s).items():
            cpu[name] = cpu.get(name, 0.0) + seconds
    return {name: s * 1000 / answered for name, s in sorted(cpu.items())} if answered else {}


def ws_per_frame(runs: list[Run], marginal: bool = False) -> float | None:
    """The ws tier's CPU ms per frame delivered to the clients over `runs` (with `marginal`, less
    its idle CPU)."""
    frames = sum(r.frames for r in runs)
    cpu = sum((r.marginal_cpu_s() if marginal else r.cpu_s).get("ws", 0.0) for r in runs)
    return cpu * 1000 / frames if frames else None


def components(per_process: dict[str, float], per_frame: float | None) -> dict[str, float]:
    """CPU ms per order by component (bench.capacity's grouping) and of the whole order path."""
    costs = costs_from(per_process, per_frame or 0.0)
    grouped = {
        "gateway": costs.gateway,
        "engines (all)": costs.engine,
        "settlement": costs.settlement,
        "DB processor": costs.dbwriter,
        "ws tier": per_process.get("ws", 0.0),
        "Redis masters (all)": costs.redis_masters,
        "Redis replicas (all)": costs.redis_replicas,
    }
    return {**grouped, "order path total": sum(grouped.values())}


def summary(runs: list[Run]) -> dict[str, object]:
    """One configuration's figures: each run's rate and latency, CPU ms per answered order of every
    process and component, the ws tier per delivered frame."""
    answered = sum(r.answered for r in runs)
    per_process, per_frame = cpu_per_order(runs), ws_per_frame(runs)
    marginal, marginal_per_frame = cpu_per_order(runs, marginal=True), ws_per_frame(runs, marginal=True)
    idle = {name: sum(r.idle_cpu_per_s.get(name, 0.0) for r in runs) / len(runs) for name in per_process}
    return {
        "runs": [
            {
                "orders_per_s": round(r.rate, 1),
                "p50_ms": r.p50_ms,
                "p99_ms": r.p99_ms,
                "answered": r.answered,
                "accepted": r.accepted,
                "ws_frames": r.frames,
                "drained": r.caught_up,
            }
            for r in runs
        ],
        "cpu_ms_per_order": {name: round(ms, 4) for name, ms in per_process.items()},
        "cpu_ms_per_order_by_component": {
            name: round(ms, 4) for name, ms in components(per_process, per_frame).items()
        },
        "cpu_ms_per_order_marginal": {name: round(ms, 4) for name, ms in marginal.items()},
        "cpu_ms_per_order_marginal_by_component": {
            name: round(ms, 4) for name, ms in components(marginal, marginal_per_frame).items()
        },
        "ws_cpu_ms_per_frame_marginal": round(marginal_per_frame, 4)
        if marginal_per_frame is not None
        else None,
        "idle_cpu_ms_per_s": {name: round(v * 1000, 2) for name, v in idle.items()},
        "ws_cpu_ms_per_frame": round(per_frame, 4) if per_frame is not None else None,
        "ws_frames_per_order": round(sum(r.frames for r in runs) / answered, 3) if answered else None,
    }


def print_table(runs: list[Run]) -> None:
    heads = f"{'orders/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'answered':>10}{'frames':>9}"
    print(f"   {'run':<4}{'config':<17}{heads}  drained")
    for i, r in enumerate(runs, 1):
        print(f"   {i:<4}{r.config:<17}{r.rate:>9,.0f}{r.p50_ms:>8.1f}{r.p99_ms:>8.1f}{r.answered:>10,}"
              f"{r.frames:>9,}  {'yes' if r.caught_up else 'NO'}")  # fmt: skip
    chosen = {c: [r for r in runs if r.config == c] for c in CONFIGS}
    per_process = {c: cpu_per_order(rs) for c, rs in chosen.items()}
    marginal = {c: cpu_per_order(rs, marginal=True) for c, rs in chosen.items()}
    per_frame = {c: ws_per_frame(rs) for c, rs in chosen.items()}
    tables = (
        ("CPU ms per answered order", per_process),
        ("by component", {c: components(per_process[c], per_frame[c]) for c in CONFIGS}),
        ("less idle, by component", {c: components(marginal[c], per_frame[c]) for c in CONFIGS}),
    )
    for title, table in tables:
        print(f"   {title:<27}{''.join(f'{c:>17}' for c in CONFIGS)}")
        for name in dict.fromkeys(n for c in CONFIGS for n in table[c]):
            cells = "".join(f"{table[c][name]:>17.4f}" if name in table[c] else f"{'-':>17}" for c in CONFIGS)
            print(f"   {name:<27}{cells}")
    cells = "".join(f"{per_frame[c] or 0.0:>17.4f}" for c in CONFIGS)
    print(f"   {'ws tier per frame':<27}{cells}")


def main() -> dict[str, object]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for the cluster benchmark: apt-get install -y wrk")
    load_start = load_average()
    runs: list[Run] = []
    with single_redis() as single, local_cluster() as cluster:
        stores = {"single": single, "cluster": cluster_store(cluster)}
        stores["cluster_durable"] = stores["cluster"]
        for _ in range(ROUNDS):
            for config in CONFIGS:
                runs.append(one_run(config, stores[config]))
        roles = {label: label.split(":")[0].removeprefix("redis-") for label in stores["cluster"].nodes}
    summaries = {c: summary([r for r in runs if r.config == c]) for c in CONFIGS}
    load_end = load_average()
    print(
        f"== Redis: one vs a cluster (3 masters, 3 replicas) and durable acknowledgements on it; "
        f"{len(SYMBOLS)} markets, {CONNECTIONS} connections, {DURATION_S} s per run, "
        f"{WS_CLIENTS} WS clients; load average {load_start:.1f} -> {load_end:.1f}"
    )
    print_table(runs)
    doc = {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "load_average": [round(load_start, 2), round(load_end, 2)],
        "markets": SYMBOLS,
        "connections": CONNECTIONS,
        "duration_s": DURATION_S,
        "ws_clients": WS_CLIENTS,
        "cluster_roles": roles,
        "configs": summaries,
    }
    record("cluster", doc)
    return doc
