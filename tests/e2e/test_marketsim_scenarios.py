"""Scenarios through the admin API, applied by the running market simulation, as clients see them
(one market, a small agent mix so that its book is up within seconds):

- a flash crash: ccxt's last trade price falls by at least 70% of the crash within its window,
  then comes back;
- a liquidity drought: the depth within 50 bps of the mid drops, then recovers;
- a volatile regime: the realised volatility of the mid a client samples rises;
- a scenario file halting then resuming the market: ccxt sees it inactive and gets
  ccxt.MarketClosed ({-1013, "Market is closed."}), then trades again;
- bad input is 400 {"code", "msg"} with nothing scheduled; no token is 401.
"""

import asyncio
import json
import re
import statistics
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt  # type: ignore[import-untyped]
import httpx
import pytest

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import sign_up
from tests.e2e import sim_scenarios
from tests.e2e.sim_scenarios import QUICK_MIX, admin_post, recent_trades, wait_for

SYMBOL, PAIR = "BTCUSDT", "BTC/USDT"
# How far behind the fair price the book may be: the makers re-quote every 0.5-1 s.
QUOTE_LAG_S = 2.0
TOKEN = "e2e-" + uuid.uuid4().hex
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(
            pg_dsn,
            prefix,
            [SYMBOL],
            with_dbwriter=True,
            with_marketsim=True,
            with_metrics=True,
            up_seconds=90,
            ADMIN_TOKEN=TOKEN,
            SIM_MIX=json.dumps(QUICK_MIX),
        ) as s:
            wait_for(lambda: depth_within(s, 50) > 0 and len(trades(s)) >= 5, 120, "a live market")
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


@pytest.fixture
def http(stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        yield client
        client.post(f"/admin/v1/markets/{SYMBOL}/reset", headers=ADMIN)


def trades(stack: Stack) -> list[dict[str, Any]]:
    return recent_trades(stack.url, SYMBOL)


def mid(stack: Stack) -> Decimal:
    return sim_scenarios.mid(stack.url, SYMBOL)


def book_within(stack: Stack, bps: int) -> tuple[Decimal, int]:
    return sim_scenarios.book_within(stack.url, SYMBOL, bps)


def depth_within(stack: Stack, bps: int) -> Decimal:
    return book_within(stack, bps)[0]


def levels_within(stack: Stack, bps: int) -> int:
    return book_within(stack, bps)[1]


def ccxt_bot(stack: Stack, api_key: str = "", secret: str = "") -> ccxt.binance:
    client = ccxt.binance({"apiKey": api_key, "secret": secret})
    client.urls["api"] = {
        name: re.sub(r"^https://[^/]+", stack.url, url) for name, url in client.urls["api"].items()
    }
    return client


def post(
    http: httpx.Client, path: str, body: object, headers: dict[str, str] | None = ADMIN
) -> httpx.Response:
    return admin_post(http, path, body, headers)


def scheduled(http: httpx.Client) -> list[dict[str, Any]]:
    r = http.get(f"/admin/v1/markets/{SYMBOL}/scenario", headers=ADMIN)
    assert r.status_code == 200, r.text
    return list(r.json()["scheduled"])


def test_bad_input_is_refused_and_nothing_is_scheduled(http: httpx.Client) -> None:
    bad = [
        (f"/markets/{SYMBOL}/flash-crash", {"percent": 95, "fall_seconds": 1, "recover_seconds": 1}, -1130),
        (f"/markets/{SYMBOL}/flash-crash", {"percent": 5, "fall_seconds": 1}, -1130),
        (f"/markets/{SYMBOL}/regime", {"regime": "wild"}, -1130),
        (f"/markets/{SYMBOL}/regime", {"regime": "calm", "volatility_bps": 3}, -1130),
        (f"/markets/{SYMBOL}/drought", {"depth_fraction": 0, "duration_seconds": 5}, -1130),
        ("/markets/NOPE/drought", {"depth_fraction": 0.5, "duration_seconds": 5}, -1121),
        ("/scenarios", {"steps": [{"at_seconds": 0, "market": "NOPE", "action": "resume"}]}, -1121),
        ("/scenarios", {"steps": [{"at_seconds": 0, "market": SYMBOL, "action": "halt", "x": 1}]}, -1130),
    ]
    for path, body, code in bad:
        r = post(http, path, body)
        assert r.status_code == 400, (path, r.text)
        answer = r.json()
        assert answer["code"] == code and answer["msg"], (path, answer)
    r = http.post(f"/admin/v1/markets/{SYMBOL}/regime", headers=ADMIN, content=b"not json")
    assert (r.status_code, r.json()["code"]) == (400, -1130)
    assert scheduled(http) == []
    for headers in (None, {"Authorization": "Bearer wrong-token-wrong-token"}):
        r = post(
            http,
            f"/markets/{SYMBOL}/flash-crash",
            {"percent": 5, "fall_seconds": 1, "recover_seconds": 1},
            headers,
        )
        assert r.status_code == 401 and r.json() == {
            "code": -1002,
            "msg": "You are not authorized to execute this request.",
        }
    assert scheduled(http) == []


def test_a_flash_crash_is_seen_by_a_ccxt_client(stack: Stack, http: httpx.Client) -> None:
    percent, fall, recover = 3.0, 6.0, 6.0
    exchange = ccxt_bot(stack)
    try:
        before = statistics.median(t["price"] for t in exchange.fetch_trades(PAIR, limit=20))
        r = post(
            http,
            f"/markets/{SYMBOL}/flash-crash",
            {"percent": percent, "fall_seconds": fall, "recover_seconds": recover},
        )
        assert r.status_code == 200, r.text
        started = r.json()["scheduled"][0]["start_ms"]
        lowest = before
        deadline = time.monotonic() + fall + recover + QUOTE_LAG_S
        while time.monotonic() < deadline:
            window = [t["price"] for t in exchange.fetch_trades(PAIR, since=started, limit=500)]
            lowest = min([lowest, *window])
            time.sleep(0.3)
        print(f"flash crash of {percent}%: lowest trade {(lowest / before - 1) * 100:.2f}% from {before}")
        assert lowest <= before * (1 - percent / 100 * 0.7), (before, lowest)

        def recovered() -> bool:
            return bool(
                exchange.fetch_trades(PAIR, limit=1)[-1]["price"] >= before * (1 - percent / 100 * 0.25)
            )

        wait_for(recovered, 20, "recovery")
    finally:
        exchange.close()


def test_a_drought_thins_the_book_then_it_recovers(stack: Stack, http: httpx.Client) -> None:
    # Level sizes are heavy-tailed, so the book's value varies a lot from one re-quote to the
    # next: its recovery is read in levels.
    wait_for(lambda: levels_within(stack, 50) >= 4, 20, "full book")
    value, levels = book_within(stack, 50)
    body = {"depth_fraction": 0.2, "spread_multiple": 4, "duration_seconds": 8}
    assert post(http, f"/markets/{SYMBOL}/drought", body).status_code == 200

    def thin() -> bool:
        now_value, now_levels = book_within(stack, 50)
        return now_value < value * Decimal("0.4") and now_levels <= levels * 0.4

    wait_for(thin, 8, "thinner book")
    print(f"drought: within 50 bps {value:.0f} USDT in {levels} levels -> {book_within(stack, 50)}")
    wait_for(lambda: levels_within(stack, 50) >= levels * 0.7, 25, "recovered book")


def realised_bps(stack: Stack, seconds: float) -> float:
    return sim_scenarios.realised_bps(stack.url, SYMBOL, seconds)


def test_a_volatile_regime_raises_realised_volatility(stack: Stack, http: httpx.Client) -> None:
    wait_for(lambda: levels_within(stack, 50) >= 4, 20, "full book")
    assert post(http, f"/markets/{SYMBOL}/regime", {"regime": "calm"}).status_code == 200
    calm = realised_bps(stack, 8)
    r = post(http, f"/markets/{SYMBOL}/regime", {"volatility_bps": 60, "duration_seconds": 30})
    assert r.status_code == 200
    volatile = realised_bps(stack, 8)
    print(f"realised volatility of the mid over 1 s: calm {calm:.2f} bps, volatile {volatile:.2f} bps")
    assert volatile > 3 * calm and volatile > 5, (calm, volatile)


def test_a_scenario_file_halts_and_resumes_the_market_for_ccxt(stack: Stack, http: httpx.Client) -> None:
    scenario = {
        "name": "halt test",
        "steps": [
            {"at_seconds": 1, "market": SYMBOL, "action": "halt", "reason": "Scenario halt"},
            {"at_seconds": 6, "market": SYMBOL, "action": "resume"},
        ],
    }
    trader = sign_up(stack.url)
    exchange = ccxt_bot(stack, trader.api_key, trader.secret)
    try:
        r = post(http, "/scenarios", scenario)
        assert r.status_code == 200, r.text
        assert [a["kind"] for a in r.json()["scheduled"][SYMBOL]] == ["halt", "resume"]
        wait_for(lambda: exchange.load_markets(reload=True)[PAIR]["active"] is False, 6, "halt")
        status = http.get(f"/api/web/markets/{SYMBOL}/status").json()
        assert (status["status"], status["reason"]) == ("HALT", "Scenario halt")
        with pytest.raises(ccxt.MarketClosed, match="Market is closed"):
            exchange.create_order(PAIR, "limit", "buy", 0.001, 20000)
        wait_for(lambda: exchange.load_markets(reload=True)[PAIR]["active"] is True, 10, "resume")
        order = exchange.create_order(PAIR, "limit", "buy", 0.001, 20000)
        assert exchange.cancel_order(order["id"], PAIR)["status"] == "canceled"
    finally:
        exchange.close()
    assert scheduled(http) == []  # applied once, then gone
    metrics = httpx.get(f"{stack.probe_urls['marketsim']}/metrics", timeout=30).text
    assert 'exchange_marketsim_scenario_actions_total{event="applied",kind="halt"} 1.0' in metrics
    assert (
        'exchange_admin_actions_total{action="scenario_upload",outcome="ok"} 1.0' in http.get("/metrics").text
    )
    log = (stack.log_dir / "marketsim.log").read_text()
    assert "scenario halt applied: market now HALT" in log
