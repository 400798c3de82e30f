"""Settlement workers under leases, with real processes: two workers share the markets, a third
started for worker 0's markets is a standby that settles nothing; SIGSTOP worker 0 past its
lease and the standby takes its markets over; SIGCONT it and it leaves them (its writes are
refused by the fence). Afterwards no acknowledged order is lost, no event duplicated, and every
balance equals deposits plus events. Takeover time (worker stopped -> the first order answered
again) is printed."""

import asyncio
import re
import signal
import time
from collections.abc import Iterator

import httpx
import pytest

from launcher.stack import Stack, free_port, running_stack
from tests import services
from tests.client import Trader, sign_up
from tests.e2e.test_crash import verify
from tests.e2e.test_engine_takeover import LEASE_TTL_S, first_accept_after, run_load, wait_until

SYMBOLS = ["BTCUSDT", "ETHUSDT"]  # worker 0 settles BTCUSDT, worker 1 ETHUSDT
STANDBY = "settlement-standby"


@pytest.fixture(scope="module")
def workers_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    env = {"TRIM_JOURNAL": "false", "ORDER_TIMEOUT_MS": "10000", "LEASE_TTL_MS": str(int(LEASE_TTL_S * 1000)),
           "CLAIM_AFTER_MS": "0"}  # fmt: skip
    try:
        with running_stack(pg_dsn, prefix, SYMBOLS, settlement_workers=2, **env) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def settled_events(port: int) -> dict[str, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.findall(r'^exchange_settlement_events_total\{symbol="(\w+)"\} (\S+)$', text, re.M)
    return {symbol: float(value) for symbol, value in found}


def test_a_standby_worker_settles_nothing_then_takes_over_and_the_paused_worker_steps_back(
    workers_stack: Stack, pg_dsn: str
) -> None:
    stack = workers_stack
    port = free_port()
    stack.supervisor.add(STANDBY, "settlement", WORKERS="2", WORKER_INDEX="0", METRICS_PORT=str(port))
    stack.supervisor.start(STANDBY)
    log = stack.log_dir / f"{STANDBY}.log"
    wait_until(lambda: log.exists() and b"metrics and probes" in log.read_bytes(), 20, "the standby up")
    traders: list[Trader] = [sign_up(stack.url) for _ in range(6)]
    outcomes: dict[str, int] = {}

    run_load(stack, traders, outcomes, 7001)
    assert all(v == 0 for v in settled_events(port).values())
    assert b"settlement of" not in log.read_bytes()

    stack.supervisor.kill("settlement", signal.SIGSTOP)
    try:
        takeover_s = asyncio.run(first_accept_after(traders[0], stack.url, "settlement-takeover"))
        wait_until(lambda: b"settlement of BTCUSDT" in log.read_bytes(), 10, "the standby settling BTCUSDT")
        run_load(stack, traders, outcomes, 7002)
    finally:
        stack.supervisor.kill("settlement", signal.SIGCONT)
    paused_log = stack.log_dir / "settlement.log"
    lost = re.compile(rb"\{BTCUSDT\}:settlement token \d+ lost")
    wait_until(lambda: lost.search(paused_log.read_bytes()) is not None, 20, "worker 0 leaving BTCUSDT")
    assert settled_events(port)["BTCUSDT"] > 0
    time.sleep(1.0)

    asyncio.run(verify(stack, services.REDIS_URL, pg_dsn, [t.user_id for t in traders], outcomes, traders))
    print(f"\nsettlement takeover: {takeover_s:.2f} s (lease TTL {LEASE_TTL_S} s)")
