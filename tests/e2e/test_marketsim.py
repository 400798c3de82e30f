"""The market simulation against the real stack (two markets): within two minutes every book holds
at least 200 price levels a side within 5% of the mid, trades happen, each agent trades from its
own account, the report measures the markets from the public API, and SIGTERM withdraws every
resting order."""

import asyncio
import signal
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from launcher.stack import Stack, running_stack
from marketsim.report import main as report_main
from marketsim.report import watch_markets
from tests import services
from tests.client import Trader

SYMBOLS = ["BTCUSDT", "ETHBTC"]
DEADLINE_S = 120.0
MIN_LEVELS = 200
BAND = Decimal("0.05")


@pytest.fixture(scope="module")
def sim_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(
            pg_dsn, prefix, SYMBOLS, with_dbwriter=True, with_marketsim=True, up_seconds=90
        ) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


@pytest.fixture(scope="module")
def http(sim_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim_stack.url, timeout=30) as client:
        yield client


def levels_within_band(book: dict[str, list[list[str]]]) -> tuple[int, int]:
    """(bid, ask) levels within 5% of the mid of a GET /api/v3/depth answer."""
    if not book["bids"] or not book["asks"]:
        return 0, 0
    mid = (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2
    low, high = mid * (1 - BAND), mid * (1 + BAND)
    return (
        sum(1 for p, _ in book["bids"] if Decimal(p) >= low),
        sum(1 for p, _ in book["asks"] if Decimal(p) <= high),
    )


def test_books_hold_200_levels_a_side_within_5_percent(sim_stack: Stack, http: httpx.Client) -> None:
    deadline = time.monotonic() + DEADLINE_S
    counts: dict[str, tuple[int, int]] = {}
    while time.monotonic() < deadline:
        for symbol in SYMBOLS:
            counts[symbol] = levels_within_band(
                http.get("/api/v3/depth", params={"symbol": symbol, "limit": 1000}).json()
            )
        if all(min(c) >= MIN_LEVELS for c in counts.values()):
            break
        time.sleep(1.0)
    assert all(min(c) >= MIN_LEVELS for c in counts.values()), counts
    for symbol in SYMBOLS:
        book = http.get("/api/v3/depth", params={"symbol": symbol, "limit": 5}).json()
        assert Decimal(book["bids"][0][0]) < Decimal(book["asks"][0][0]), symbol


def test_trades_happen_and_each_agent_uses_its_own_account(sim_stack: Stack, http: httpx.Client) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if all(len(http.get("/api/v3/trades", params={"symbol": s}).json()) >= 5 for s in SYMBOLS):
            break
        time.sleep(1.0)
    for symbol in SYMBOLS:
        assert len(http.get("/api/v3/trades", params={"symbol": symbol}).json()) >= 5, symbol
    keys = sim_stack.marketsim_keys
    assert len({key for key, _ in keys.values()}) == len(keys) >= 8
    for agent in ("maker-tight", "depth"):
        api_key, secret = keys[agent]
        trader = Trader(sim_stack.url, 0, api_key, secret, http)
        for symbol in SYMBOLS:
            orders = trader.call("GET", "/api/v3/openOrders", symbol=symbol)
            assert {o["type"] for o in orders} == {"LIMIT_MAKER"}, (agent, symbol)
    noise = Trader(sim_stack.url, 0, *keys["noise"], http)
    assert noise.call("GET", "/api/v3/myTrades", symbol=SYMBOLS[0]), "the noise taker has traded"


def test_the_report_measures_the_markets_from_the_public_api(sim_stack: Stack) -> None:
    results = asyncio.run(watch_markets(sim_stack.url, 20.0, SYMBOLS, [5], 2.0))
    assert set(results) == set(SYMBOLS)
    for symbol, rows in results.items():
        figures = {r.name: r for r in rows}
        assert figures["levels a side within 5% (fewer side)"].value >= MIN_LEVELS, symbol
        assert figures["trades per second"].value > 0, symbol
        assert 0 < figures["median spread (bps)"].value < 50, symbol


def test_the_report_command_writes_its_table(sim_stack: Stack, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    argv = ["--gateway", sim_stack.url, "--minutes", "0.1", "--bar-seconds", "2", "--sample-seconds", "2"]
    assert report_main([*argv, "--symbols", ",".join(SYMBOLS), "--out", str(out)]) in (0, 1)
    text = out.read_text()
    for symbol in SYMBOLS:
        assert f"### {symbol}" in text
    assert text.count("| trades per second |") == len(SYMBOLS)
    assert text.count("| 2s mid return autocorrelation, lag 1 |") == len(SYMBOLS)  # returns of mids
    assert "| >= 200 |" in text


def test_sigterm_withdraws_every_resting_order(sim_stack: Stack, http: httpx.Client) -> None:
    sim_stack.supervisor.kill("marketsim", signal.SIGTERM)
    process = sim_stack.supervisor.services["marketsim"].process
    assert process is not None and process.returncode == 0
    log = (sim_stack.log_dir / "marketsim.log").read_text()
    assert "Traceback" not in log
    for symbol in SYMBOLS:
        book = http.get("/api/v3/depth", params={"symbol": symbol}).json()
        assert book["bids"] == [] and book["asks"] == [], symbol
