"""The market maker against the real stack: two-sided books at least ten levels deep in every
market within 30 s, on the tick and step grids, trades every few seconds, no refused order, and
no quote left behind after SIGTERM."""

import asyncio
import json
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from redis import Redis

from exchange_core.keys import Keys
from exchange_core.markets import Market, load_markets
from exchange_core.protocol import decode_events
from launcher.stack import Stack, running_stack
from matching import Trade
from tests import services
from tests.client import Trader

DEADLINE_S = 30.0
MIN_LEVELS = 10


@pytest.fixture(scope="module")
def mm_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, with_marketmaker=True) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


@pytest.fixture(scope="module")
def deadline(mm_stack: Stack) -> float:
    """DEADLINE_S after the stack answered (module scope: measured once, when it started)."""
    return time.monotonic() + DEADLINE_S


@pytest.fixture(scope="module")
def sync_redis(redis_url: str) -> Iterator["Redis[bytes]"]:
    client: Redis[bytes] = Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def maker(mm_stack: Stack) -> Iterator[Trader]:
    assert mm_stack.marketmaker_key is not None
    api_key, secret = mm_stack.marketmaker_key
    with httpx.Client(timeout=30) as http:
        yield Trader(mm_stack.url, 0, api_key, secret, http)


def depth(redis: "Redis[bytes]", keys: Keys, symbol: str) -> dict[str, Any]:
    raw = redis.get(keys.depth(symbol))
    return json.loads(raw) if raw else {"bids": [], "asks": []}


def trade_times(redis: "Redis[bytes]", keys: Keys, symbol: str) -> list[int]:
    """The time (ms) of every trade in evt:{symbol}."""
    times = []
    for _, fields in redis.xrange(keys.events(symbol)):
        _, events, _ = decode_events(fields[b"e"])
        times.extend(e.ts for e in events if isinstance(e, Trade))
    return times


def wait_for(what: str, check: Callable[[], bool], deadline: float) -> None:
    """Poll `check()` until it is true; fail with `what` once `deadline` (monotonic) has passed."""
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {DEADLINE_S:.0f} s of start-up: {what}")
        time.sleep(0.25)


def on_grid(market: Market, levels: list[list[int]]) -> bool:
    spec = market.spec
    return all(price % spec.tick_units == 0 and qty % spec.step_units == 0 for price, qty in levels)


def test_every_market_has_two_sided_books_ten_levels_deep(
    mm_stack: Stack, deadline: float, sync_redis: "Redis[bytes]", maker: Trader
) -> None:
    keys, markets = Keys(mm_stack.prefix), load_markets()

    def deep_enough() -> bool:
        books = [depth(sync_redis, keys, symbol) for symbol in mm_stack.symbols]
        return all(len(b["bids"]) >= MIN_LEVELS and len(b["asks"]) >= MIN_LEVELS for b in books)

    wait_for(f"{MIN_LEVELS} levels per side in every market", deep_enough, deadline)
    for symbol in mm_stack.symbols:
        book = depth(sync_redis, keys, symbol)
        assert book["bids"][0][0] < book["asks"][0][0], symbol
        assert on_grid(markets[symbol], book["bids"] + book["asks"]), symbol
        mine = maker.call("GET", "/api/v3/openOrders", symbol=symbol)
        sides = [o["side"] for o in mine]
        assert sides.count("BUY") >= MIN_LEVELS and sides.count("SELL") >= MIN_LEVELS, symbol
        assert {o["type"] for o in mine} == {"LIMIT_MAKER"}


def test_trades_happen_every_few_seconds_in_every_market(
    mm_stack: Stack, deadline: float, sync_redis: "Redis[bytes]"
) -> None:
    keys = Keys(mm_stack.prefix)

    def traded() -> bool:
        return all(len(trade_times(sync_redis, keys, s)) >= 3 for s in mm_stack.symbols)

    wait_for("three trades in every market", traded, deadline)
    now_ms = time.time_ns() // 1_000_000
    for symbol in mm_stack.symbols:
        assert now_ms - max(trade_times(sync_redis, keys, symbol)) < 15_000, symbol


def test_no_order_of_the_market_maker_was_refused(mm_stack: Stack) -> None:
    log = (mm_stack.log_dir / "marketmaker.log").read_text()
    assert "quoting " in log
    assert "order rejected" not in log
    assert "Traceback" not in log


def test_sigterm_cancels_every_quote(mm_stack: Stack, sync_redis: "Redis[bytes]", maker: Trader) -> None:
    mm_stack.supervisor.kill("marketmaker", signal.SIGTERM)
    process = mm_stack.supervisor.services["marketmaker"].process
    assert process is not None and process.returncode == 0
    keys = Keys(mm_stack.prefix)
    for symbol in mm_stack.symbols:
        assert maker.call("GET", "/api/v3/openOrders", symbol=symbol) == [], symbol
        book = depth(sync_redis, keys, symbol)
        assert book["bids"] == [] and book["asks"] == [], symbol
