"""Where an order's latency goes on the HTTP order path: `python -m bench.order_latency [SECONDS]`.

The gateway benchmark's stack and wrk load (64 connections, pre-signed LIMIT orders), with a
subscriber on every reply channel of the stack's prefix. After the run, per answered command:
the command's stream id (its append), the id of the engine's events entry that holds it (the
engine's write) and the reply's arrival at the subscriber (as at the gateway), so the engine's
hop (read, match, write) and settlement's (read, Lua, reply) apart from the rest of wrk's
latency (the gateway before the append and after the reply, and the sockets). Also commands per
engine batch, CPU ms per order per process, and Redis commands per order (INFO commandstats:
the whole server's, so other clients of a shared Redis count too). A tool for finding where the
latency goes, not a benchmark with a target: it prints, and asserts nothing. Stream ids have
millisecond resolution.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter

import redis as sync_redis

from bench.common import CpuMeter, delete_prefix, drop_database, fresh_database, new_prefix, redis_server_pid
from bench.gateway_bench import (
    CONNECTIONS,
    FUNDS,
    ORDERS_PER_S,
    REDIS_URL,
    SYMBOL,
    parse_wrk,
    signed_orders,
    wrk_orders,
)
from exchange_core.keys import Keys
from exchange_core.streamids import entry_ms
from exchange_proto import events_pb2 as epb
from launcher.stack import running_stack
from tests.client import sign_up


def percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    values = sorted(values)

    def pick(q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    mean = statistics.fmean(values)
    return f"p50 {pick(0.5):.1f} p90 {pick(0.9):.1f} p99 {pick(0.99):.1f} mean {mean:.1f} ms"


def listen_replies(prefix: str, arrivals: dict[bytes, float], stop: threading.Event) -> None:
    """Record each reply's arrival (epoch ms) by command id, on every reply channel of `prefix`."""
    client = sync_redis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(f"{prefix}reply.*")
    while not stop.is_set():
        message = pubsub.get_message(timeout=0.2)
        if message is None:
            continue
        now = time.time() * 1000
        arrivals[epb.Reply.FromString(message["data"]).batch.command_id.encode()] = now
    pubsub.close()


def commandstats(client: sync_redis.Redis) -> Counter[str]:
    return Counter({name: int(stats["calls"]) for name, stats in client.info("commandstats").items()})


def main(duration_s: int = 8) -> None:
    dsn = fresh_database()
    prefix = new_prefix()
    keys = Keys(prefix)
    try:
        with running_stack(dsn, prefix, [SYMBOL], DEMO_FUNDS=FUNDS) as stack:
            traders = [sign_up(stack.url) for _ in range(CONNECTIONS)]
            lines = signed_orders(traders, ORDERS_PER_S * duration_s + 10_000)
            command, env, orders_file = wrk_orders(lines, duration_s)
            arrivals: dict[bytes, float] = {}
            stop = threading.Event()
            listener = threading.Thread(target=listen_replies, args=(prefix, arrivals, stop))
            listener.start()
            time.sleep(0.5)
            client = sync_redis.Redis.from_url(REDIS_URL)
            pids = dict(stack.supervisor.pids())
            redis_pid = redis_server_pid()
            if redis_pid is not None:
                pids["redis"] = redis_pid
            meter = CpuMeter(pids)
            before = commandstats(client)
            load = os.getloadavg()[0]
            meter.start()
            run = subprocess.run([*command, stack.url], env=env, capture_output=True, text=True, check=True)
            out = run.stdout
            cpu = meter.stop()
            calls = commandstats(client) - before
            time.sleep(0.5)
            stop.set()
            listener.join()
            os.unlink(orders_file)
            xadded = {entry_id: entry_ms(entry_id) for entry_id, _ in client.xrange(keys.commands(SYMBOL))}
            written: dict[bytes, float] = {}
            batch_sizes: list[int] = []
            for entry_id, fields in client.xrange(keys.events(SYMBOL)):
                batch = epb.EventBatch.FromString(fields[b"e"])
                batch_sizes.append(len(batch.commands))
                for ref in batch.commands:
                    written[ref.command_id.encode()] = entry_ms(entry_id)
    finally:
        asyncio.run(delete_prefix(REDIS_URL, prefix))
        drop_database(dsn)
    figures = parse_wrk(out)
    ok = figures["requests"] - figures["non_2xx"]
    print(f"== order latency: {ok / figures['seconds']:,.0f} orders/s, wrk p50 {figures['p50_ms']:.1f} "
          f"p90 {figures['p90_ms']:.1f} p99 {figures['p99_ms']:.1f} ms; load average {load:.2f}")  # fmt: skip
    engine, settle, inside = [], [], []
    for command_id, arrived in arrivals.items():
        if command_id in xadded and command_id in written:
            engine.append(written[command_id] - xadded[command_id])
            settle.append(arrived - written[command_id])
            inside.append(arrived - xadded[command_id])
    print(f"   XADD -> events written (engine):   {percentiles(engine)}")
    print(f"   events written -> reply (settle):  {percentiles(settle)}")
    print(f"   XADD -> reply:                     {percentiles(inside)}")
    sizes = sorted(batch_sizes)
    print(f"   commands per engine batch: mean {statistics.fmean(sizes):.1f}, p50 {sizes[len(sizes) // 2]}, "
          f"max {sizes[-1]}, batches {len(sizes)}")  # fmt: skip
    print("   CPU ms per order: " + ", ".join(f"{n} {s * 1000 / ok:.3f}" for n, s in sorted(cpu.items())))
    print("   Redis calls per order: " + ", ".join(
        f"{name.removeprefix('cmdstat_')} {n / ok:.2f}" for name, n in calls.most_common(14)))  # fmt: skip


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)
