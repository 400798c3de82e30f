"""The capacity model of docs/scaling.md, computed from a results file of the cluster benchmark.

`python -m bench capacity [RESULTS_JSON] [CONFIG]` reads "measurements" -> "cluster" of
build/bench/results.json (written by `python -m bench cluster`), takes the CPU ms per order of each
component in CONFIG (default "cluster"; "single" and "cluster_durable" are the others), and prints
how many cores, pods and Redis shards serve 10k, 100k and 1M orders/s over 1,000 markets, with the
arithmetic, and which partition reaches one core first. Pure arithmetic apart from reading the file.

The model: a component's cores = orders/s x its CPU ms per order / 1000; its pods = cores /
UTILISATION rounded up (a pod is one process on one core, run at most at UTILISATION at the target
rate). A partitioned component cannot spread one partition over two cores: the hottest market
(HOTTEST_SHARE of all orders) must fit one core at UTILISATION in its engine, its settlement
worker, its DB processor and its Redis shard, or that is the ceiling.
"""

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.results import RESULTS_PATH


@dataclass(frozen=True)
class Assumptions:
    """What the model takes as given (docs/scaling.md says why)."""

    markets: int = 1_000
    utilisation: float = 0.6  # of one core, per pod or Redis node, at the target rate
    hottest_share: float = 0.10  # of all orders, in the busiest market
    ws_frames_per_order: float = 10.0  # WebSocket frames delivered per order (fan-out)


@dataclass(frozen=True)
class Costs:
    """CPU ms per order of each component (the ws tier: per delivered frame), all its processes
    together: every engine, every Redis master, every Redis replica."""

    gateway: float
    engine: float
    settlement: float
    dbwriter: float
    redis_masters: float
    redis_replicas: float
    ws_per_frame: float


@dataclass(frozen=True)
class Row:
    """One component at one rate: its cores, its pods (Redis: masters) and what it is split by."""

    component: str
    partitioned_by: str
    cores: float
    pods: int
    arithmetic: str


@dataclass(frozen=True)
class Ceiling:
    """A single partition's need at the hottest market's rate against one core at UTILISATION."""

    what: str
    cores: float
    fits: bool
    max_orders_per_s: float  # of the hottest market, at UTILISATION of one core


def costs_from(per_process: dict[str, float], ws_per_frame: float) -> Costs:
    """Group a benchmark's CPU ms per order by process name: "gateway", "engine-SYM",
    "settlement[-i]", "dbwriter[-i]", "redis" (one Redis: a master), "redis-master:PORT",
    "redis-replica:PORT"; "ws" is taken per frame from `ws_per_frame`. Other names (load
    generators) are left out."""

    def total(*prefixes: str) -> float:
        return sum(ms for name, ms in per_process.items() if name.startswith(prefixes))

    return Costs(
        gateway=total("gateway"),
        engine=total("engine-"),
        settlement=total("settlement"),
        dbwriter=total("dbwriter"),
        redis_masters=total("redis-master:") + per_process.get("redis", 0.0),
        redis_replicas=total("redis-replica:"),
        ws_per_frame=ws_per_frame,
    )


def costs_from_results(doc: dict[str, object], config: str = "cluster") -> Costs:
    """The Costs of `config` in a results.json document with the cluster benchmark's measurements:
    its marginal figures (idle CPU subtracted) where it has them, else the gross ones."""
    measurements = doc.get("measurements")
    if not isinstance(measurements, dict) or "cluster" not in measurements:
        raise ValueError("no cluster measurements in the results: run `python -m bench cluster` first")
    figures = measurements["cluster"]["configs"][config]
    if "cpu_ms_per_order_marginal" in figures:
        return costs_from(
            figures["cpu_ms_per_order_marginal"], figures["ws_cpu_ms_per_frame_marginal"] or 0.0
        )
    return costs_from(figures["cpu_ms_per_order"], figures["ws_cpu_ms_per_frame"] or 0.0)


def pods(cores: float, utilisation: float) -> int:
    """Processes of one core each, each at most at `utilisation`, for `cores` of work (at least 1)."""
    return max(1, math.ceil(round(cores / utilisation, 9)))


def plan(costs: Costs, orders_per_s: float, a: Assumptions) -> list[Row]:
    """Every component's cores and pods at `orders_per_s` spread over `a.markets` markets."""
    rate = f"{orders_per_s:,.0f}/s"

    def scaled(component: str, by: str, ms: float, cap: int = 0, cost: str = "") -> Row:
        """As many pods as the work needs at the utilisation (at most `cap`, when given); `cost`
        says how `ms` per order is made, when it is a product."""
        cores = orders_per_s * ms / 1000
        count = min(pods(cores, a.utilisation), cap) if cap else pods(cores, a.utilisation)
        text = f"{rate} x {cost or f'{ms:.4f} ms'} = {cores:,.2f} cores"
        return Row(component, by, cores, count, f"{text}; / {a.utilisation:.0%} = {count:,}")

    def fixed(component: str, by: str, ms: float, count: int, why: str) -> Row:
        """`count` pods whatever the work, which is shared among them."""
        cores = orders_per_s * ms / 1000
        text = f"{why}: {count:,}; {rate} x {ms:.4f} ms = {cores:,.2f} cores in all"
        return Row(component, by, cores, count, text)

    masters = scaled("Redis masters", "slot: {SYMBOL} market keys, {uid} user keys", costs.redis_masters)
    per_frame = f"{a.ws_frames_per_order:g} frames x {costs.ws_per_frame:.4f} ms"
    return [
        scaled("gateway", "nothing (stateless)", costs.gateway),
        fixed("engine", "market (one per market)", costs.engine, a.markets, "one per market"),
        scaled("settlement", "market (a worker holds several)", costs.settlement, cap=a.markets),
        scaled("DB processor", "market (a worker holds several)", costs.dbwriter, cap=a.markets),
        masters,
        fixed("Redis replicas", "one per master", costs.redis_replicas, masters.pods, "one per master"),
        scaled("ws tier", "nothing (stateless)", a.ws_frames_per_order * costs.ws_per_frame, cost=per_frame),
    ]


def batched_from_results(doc: dict[str, object]) -> dict[str, float]:
    """CPU ms per order of one partition's process when its market is busy (full batches), where
    results.json has the benchmark: "engine" from `service` (per command), "settlement" from
    `settlement` (one worker, its own CPU). Missing ones are left out."""
    benchmarks = doc.get("benchmarks")
    out: dict[str, float] = {}
    if not isinstance(benchmarks, dict):
        return out
    engine = benchmarks.get("engine_service", {}).get("cpu_ms_per_unit", {}).get("ours", {}).get("engine")
    if engine:
        out["engine"] = float(engine)
    worker = benchmarks.get("settlement_one_worker", {}).get("cpu_ms_per_unit", {}).get("ours", {})
    settlement = sum(ms for name, ms in worker.items() if name.startswith("settlement"))
    if settlement:
        out["settlement"] = float(settlement)
    return out


def ceilings(
    costs: Costs, orders_per_s: float, a: Assumptions, batched: dict[str, float] | None = None
) -> list[Ceiling]:
    """The hottest market's partitions (one process or one Redis slot each) at `orders_per_s`,
    costed at `batched` (a busy market's CPU per order) where given, else at `costs`."""
    batched = batched or {}
    hot = orders_per_s * a.hottest_share
    out = []
    for what, ms in (
        ("engine of the hottest market", batched.get("engine", costs.engine)),
        ("settlement of the hottest market", batched.get("settlement", costs.settlement)),
        ("DB processor of the hottest market", costs.dbwriter),
        (
            "Redis shard of the hottest market (all Redis work counted there: an upper bound)",
            costs.redis_masters,
        ),
    ):
        cores = hot * ms / 1000
        limit = a.utilisation * 1000 / ms if ms else math.inf
        out.append(Ceiling(what, cores, cores <= a.utilisation, limit))
    return out


def report(
    costs: Costs,
    a: Assumptions,
    batched: dict[str, float] | None = None,
    rates: tuple[float, ...] = (10_000, 100_000, 1_000_000),
) -> str:
    """The model as text: the costs, then per rate every component's arithmetic and the ceilings."""
    lines = [
        f"CPU ms per order: gateway {costs.gateway:.4f}, engines {costs.engine:.4f}, settlement "
        f"{costs.settlement:.4f}, DB processor {costs.dbwriter:.4f}, Redis masters "
        f"{costs.redis_masters:.4f}, replicas {costs.redis_replicas:.4f}; "
        f"ws {costs.ws_per_frame:.4f} per frame",
        f"assumptions: {a.markets:,} markets, {a.utilisation:.0%} of a core per pod, hottest market "
        f"{a.hottest_share:.0%} of orders, {a.ws_frames_per_order:g} ws frames per order",
        "a busy market's CPU ms per order (full batches): "
        + (", ".join(f"{name} {ms:.4f}" for name, ms in sorted((batched or {}).items())) or "not measured")
        + " (the rest at the costs above)",
    ]
    for rate in rates:
        rows = plan(costs, rate, a)
        work, processes = sum(r.cores for r in rows), sum(r.pods for r in rows)
        lines.append(f"== {rate:,.0f} orders/s: {work:,.1f} cores of work, {processes:,} processes")
        lines += [f"   {r.component:<15} by {r.partitioned_by}: {r.arithmetic}" for r in rows]
        for c in ceilings(costs, rate, a, batched):
            verdict = "fits" if c.fits else "CEILING"
            lines.append(
                f"   {verdict:<8} {c.what}: {rate * a.hottest_share:,.0f}/s needs {c.cores:,.2f} cores "
                f"(one core at {a.utilisation:.0%} takes {c.max_orders_per_s:,.0f}/s)"
            )
    return "\n".join(lines)


def main(args: list[str]) -> str:
    path = Path(args[0]) if args else RESULTS_PATH
    config = args[1] if len(args) > 1 else "cluster"
    doc = json.loads(path.read_text())
    cluster = doc["measurements"]["cluster"] if "cluster" in doc.get("measurements", {}) else {}
    when = f"{cluster.get('date')}, load average {cluster.get('load_average')}"
    head = f"capacity model from {path} ({config}, {when})"
    text = head + "\n" + report(costs_from_results(doc, config), Assumptions(), batched_from_results(doc))
    print(text)
    return text


if __name__ == "__main__":
    main(sys.argv[1:])
