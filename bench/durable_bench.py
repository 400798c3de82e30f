"""The cost of durable acknowledgements (DURABLE_REPLICAS=1, docs/cluster.md): the gateway
benchmark's order path (gateway, BTCUSDT engine, settlement; wrk, 64 connections, pre-signed
LIMIT orders) on a Redis master with one replica, alternating DURABLE_REPLICAS=0 and 1 (two runs
each, same invocation, same replica attached in both): orders/s and p50/p99 of each, and durable
as a share of the default."""

import os
import subprocess

from bench.common import drop_database, fresh_database, new_prefix
from bench.gateway_bench import CONNECTIONS, FUNDS, ORDERS_PER_S, SYMBOL, parse_wrk, signed_orders, wrk_orders
from launcher.stack import running_stack
from tests.client import sign_up
from tests.e2e.private_redis import ReplicatedRedis

DURATION_S = 8


def one_run(redis: ReplicatedRedis, replicas: int) -> dict[str, float]:
    """wrk against a fresh stack on `redis` with DURABLE_REPLICAS=`replicas`."""
    dsn = fresh_database()
    try:
        env = {"REDIS_URL": redis.url, "DEMO_FUNDS": FUNDS, "DURABLE_REPLICAS": str(replicas)}
        with running_stack(dsn, new_prefix(), [SYMBOL], **env) as stack:
            traders = [sign_up(stack.url) for _ in range(CONNECTIONS)]
            lines = signed_orders(traders, ORDERS_PER_S * DURATION_S)
            command, wrk_env, orders_file = wrk_orders(lines, DURATION_S)
            out = subprocess.run(
                [*command, stack.url], env=wrk_env, capture_output=True, text=True, check=True
            )
            os.unlink(orders_file)
    finally:
        drop_database(dsn)
    figures = parse_wrk(out.stdout)
    ok = figures["requests"] - figures["non_2xx"]
    return {**figures, "rate": ok / figures["seconds"] if figures["seconds"] else 0.0}


def main() -> dict[str, float]:
    redis = ReplicatedRedis()
    redis.start()
    runs: dict[int, list[dict[str, float]]] = {0: [], 1: []}
    try:
        for replicas in (0, 1, 0, 1):
            runs[replicas].append(one_run(redis, replicas))
    finally:
        redis.stop()
    print(
        f"== durable acknowledgements: the order path on a master with one replica, {CONNECTIONS} connections"
    )
    best = {}
    for replicas, name in ((0, "default (no WAIT)"), (1, "DURABLE_REPLICAS=1")):
        for run in runs[replicas]:
            print(
                f"   {name}: {run['rate']:,.0f} orders/s, p50 {run['p50_ms']:.1f} ms, "
                f"p99 {run['p99_ms']:.1f} ms, {int(run['non_2xx'])} non-2xx"
            )
        best[replicas] = max(runs[replicas], key=lambda r: r["rate"])
    share = best[1]["rate"] / best[0]["rate"] if best[0]["rate"] else 0.0
    print(
        f"   durable / default (best of 2 each): {share:.0%} of the orders/s; p50 "
        f"{best[1]['p50_ms']:.1f} vs {best[0]['p50_ms']:.1f} ms"
    )
    return {"default": best[0]["rate"], "durable": best[1]["rate"], "share": share}
