"""`make run` as a user runs it: `python -m launcher` in a subprocess with its own database, key
prefix, ports and run dir. It must print that it is up with addresses that answer; within 60 s
every market has a two-sided book at least ten levels deep, trades every few seconds and 1m
candles in the database; a killed process comes back; Ctrl-C (SIGINT) stops every process, the
market simulation's orders withdrawn first."""

import json
import os
import signal
import socket
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from redis import Redis

from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from exchange_core.protocol import decode_events
from launcher.run import PIDS_FILE
from matching import Trade
from tests.launched import Launched, launch

MARKET_DEADLINE_S = 60.0
MIN_LEVELS = 10


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Launched]:
    with launch(tmp_path_factory.mktemp("run") / ".run", redis_url) as running:
        yield running


@pytest.fixture(scope="module")
def sync_redis(redis_url: str) -> Iterator["Redis[bytes]"]:
    client: Redis[bytes] = Redis.from_url(redis_url)
    yield client
    client.close()


def book(redis: "Redis[bytes]", keys: Keys, symbol: str) -> dict[str, Any]:
    raw = redis.get(keys.depth(symbol))
    return json.loads(raw) if raw else {"bids": [], "asks": []}


def trade_times(redis: "Redis[bytes]", keys: Keys, symbol: str) -> list[int]:
    times = []
    for _, fields in redis.xrange(keys.events(symbol)):
        _, events, _ = decode_events(fields[b"e"])
        times.extend(e.ts for e in events if isinstance(e, Trade))
    return times


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def one_minute_candles(web: str, symbols: list[str]) -> dict[str, int]:
    """How many 1m candles GET /api/v3/klines serves per market (from the DB processor's history)."""
    counts = {}
    for symbol in symbols:
        rows = httpx.get(
            f"{web}/api/v3/klines", params={"symbol": symbol, "interval": "1m"}, timeout=5
        ).json()
        counts[symbol] = len(rows) if isinstance(rows, list) else 0
    return counts


def test_printed_addresses_answer(launched: Launched) -> None:
    web = launched.field("Web page")
    assert web == f"http://127.0.0.1:{launched.env['GATEWAY_PORT']}"
    assert httpx.get(f"{web}/api/v3/ping", timeout=5).json() == {}
    assert httpx.get(f"{web}/docs", timeout=5).status_code == 200
    assert httpx.get(web, timeout=5).status_code < 500
    rest = launched.field("REST").split()[0]
    assert rest == f"{web}/api/v3"
    assert httpx.get(f"{rest}/exchangeInfo", timeout=5).status_code == 200
    ws = launched.field("WebSocket")
    if ws.startswith("ws://"):
        host, port = ws.split()[0].removeprefix("ws://").split(":")
        assert int(port) == int(launched.env["WS_PORT"]) and host == "127.0.0.1"
        with socket.create_connection((host, int(port)), timeout=5):
            pass
    target = launched.field("gRPC").split()[0]
    assert target == f"127.0.0.1:{launched.env['GRPC_PORT']}"
    with grpc.insecure_channel(target) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING
    email, _, password = launched.field("Demo login").partition(" / ")
    with httpx.Client(base_url=web, timeout=10) as web_client:
        login = web_client.post("/api/web/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        balances = {b["asset"]: b["free"] for b in web_client.get("/api/v3/account").json()["balances"]}
    assert Decimal(balances["USDT"]) > 0
    secret = launched.run_dir / "secret.key"
    assert secret.stat().st_mode & 0o777 == 0o600


def test_books_are_deep_and_trades_flow_within_a_minute(
    launched: Launched, sync_redis: "Redis[bytes]"
) -> None:
    keys, symbols = Keys(launched.env["KEY_PREFIX"]), list(load_markets())
    deadline = launched.up_at + MARKET_DEADLINE_S

    def ready() -> bool:
        books = [book(sync_redis, keys, s) for s in symbols]
        deep = all(len(b["bids"]) >= MIN_LEVELS and len(b["asks"]) >= MIN_LEVELS for b in books)
        return deep and all(len(trade_times(sync_redis, keys, s)) >= 3 for s in symbols)

    web = launched.field("Web page")
    while not ready() or not all(one_minute_candles(web, symbols).values()):
        assert time.monotonic() < deadline, "books, trades or 1m candles missing 60 s after start-up"
        time.sleep(0.5)
    now_ms = time.time_ns() // 1_000_000
    for symbol in symbols:
        current = book(sync_redis, keys, symbol)
        assert current["bids"][0][0] < current["asks"][0][0], symbol
        assert now_ms - max(trade_times(sync_redis, keys, symbol)) < 15_000, symbol


def test_a_killed_process_is_restarted(launched: Launched) -> None:
    before = launched.pids()["settlement"]
    os.kill(before, signal.SIGKILL)
    deadline = time.monotonic() + 15
    while launched.pids()["settlement"] == before:
        assert time.monotonic() < deadline, "settlement was not restarted"
        time.sleep(0.2)
    assert alive(launched.pids()["settlement"])
    assert any("settlement exited (code -9); restarting in 0 s" in line for line in launched.output)


def test_sigint_stops_every_process_after_the_quotes_are_withdrawn(
    launched: Launched, sync_redis: "Redis[bytes]"
) -> None:
    pids = launched.pids()
    assert all(alive(pid) for pid in pids.values())
    launched.process.send_signal(signal.SIGINT)
    assert launched.process.wait(timeout=60) == 0
    assert not [name for name, pid in pids.items() if alive(pid)]
    assert not (launched.run_dir / PIDS_FILE).exists()
    keys = Keys(launched.env["KEY_PREFIX"])
    for symbol in load_markets():
        current = book(sync_redis, keys, symbol)
        assert current["bids"] == [] and current["asks"] == [], symbol
