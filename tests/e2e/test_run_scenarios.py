"""Scenarios on `make run`'s own stack: `python -m launcher` at its defaults (its own database, key
prefix and ports) but for ADMIN_TOKEN and the market simulation on SYMBOL alone with the quick mix
(tests/e2e/sim_scenarios.py), so that the book is up within seconds. By default no market maker
runs beside the simulation: its quotes around a random walk of its own would hold the price (a 9%
crash moved the traded price 0.24% when it ran). Through the admin API, as a client sees it:

- a flash crash of PERCENT% moves the traded price by roughly PERCENT% (at least 70%, at most
  150% of it), then the price comes back;
- a liquidity drought thins the book within 50 bps of the mid (value and levels), which recovers;
- a volatile regime raises the realised volatility of the mid over a calm one.

Each would fail with the market maker back on the market.
"""

import json
import statistics
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from tests.e2e.sim_scenarios import (
    QUICK_MIX,
    admin_post,
    book_within,
    realised_bps,
    recent_trades,
    wait_for,
)
from tests.launched import Launched, launch

SYMBOL = "SOLUSDT"
TOKEN = "run-" + uuid.uuid4().hex
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PERCENT, FALL_S, RECOVER_S = 9, 6.0, 8.0
# How far behind the fair price the book may be: the makers re-quote every 0.5-1 s.
QUOTE_LAG_S = 3.0


@pytest.fixture(scope="module")
def launched(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Launched]:
    run_dir = tmp_path_factory.mktemp("run-scenarios") / ".run"
    with launch(
        run_dir, redis_url, ADMIN_TOKEN=TOKEN, SIM_SYMBOLS=SYMBOL, SIM_MIX=json.dumps(QUICK_MIX)
    ) as running:
        url = running.field("Web page")
        wait_for(
            lambda: book_within(url, SYMBOL, 50)[1] >= 4 and len(recent_trades(url, SYMBOL)) >= 5,
            90,
            "a live market",
        )
        yield running


@pytest.fixture
def http(launched: Launched) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=launched.field("Web page"), timeout=30) as client:
        yield client
        client.post(f"/admin/v1/markets/{SYMBOL}/reset", headers=ADMIN)


def test_the_simulation_runs_without_the_market_maker(launched: Launched) -> None:
    pids = launched.pids()
    assert "marketsim" in pids and "marketmaker" not in pids, sorted(pids)


def test_a_flash_crash_moves_the_traded_price_by_its_size(launched: Launched, http: httpx.Client) -> None:
    url = launched.field("Web page")
    before = statistics.median(Decimal(t["price"]) for t in recent_trades(url, SYMBOL, 20))
    body = {"percent": PERCENT, "fall_seconds": FALL_S, "recover_seconds": RECOVER_S}
    r = admin_post(http, f"/markets/{SYMBOL}/flash-crash", body, ADMIN)
    assert r.status_code == 200, r.text
    started = r.json()["scheduled"][0]["start_ms"]
    lowest = before
    deadline = time.monotonic() + FALL_S + QUOTE_LAG_S
    while time.monotonic() < deadline:
        window = [Decimal(t["price"]) for t in recent_trades(url, SYMBOL, 500) if t["time"] >= started]
        lowest = min([lowest, *window])
        time.sleep(0.3)
    moved = (1 - lowest / before) * 100
    print(f"flash crash of {PERCENT}%: lowest trade {lowest}, {moved:.2f}% under {before}")
    assert PERCENT * Decimal("0.7") <= moved <= PERCENT * Decimal("1.5"), (before, lowest)
    back = before * (1 - Decimal(PERCENT) / 100 / 4)
    wait_for(lambda: Decimal(recent_trades(url, SYMBOL, 1)[-1]["price"]) >= back, RECOVER_S + 15, "recovery")


def test_a_drought_thins_the_book_then_it_recovers(launched: Launched, http: httpx.Client) -> None:
    url = launched.field("Web page")
    wait_for(lambda: book_within(url, SYMBOL, 50)[1] >= 4, 20, "full book")
    value, levels = book_within(url, SYMBOL, 50)
    body = {"depth_fraction": 0.2, "spread_multiple": 4, "duration_seconds": 8}
    assert admin_post(http, f"/markets/{SYMBOL}/drought", body, ADMIN).status_code == 200
    during: list[tuple[Decimal, int]] = []

    def thin() -> bool:
        during.append(book_within(url, SYMBOL, 50))
        return during[-1][0] < value * Decimal("0.4") and during[-1][1] <= levels * 0.4

    wait_for(thin, 8, "thinner book")
    # Level sizes are heavy-tailed, so the book's value varies a lot from one re-quote to the
    # next: its recovery is read in levels.
    wait_for(lambda: book_within(url, SYMBOL, 50)[1] >= levels * 0.7, 25, "recovered book")
    after = book_within(url, SYMBOL, 50)
    print(
        f"drought within 50 bps (thinner side): before {value:.0f} USDT in {levels} levels, "
        f"during {during[-1][0]:.0f} in {during[-1][1]}, after {after[0]:.0f} in {after[1]}"
    )


def test_a_volatile_regime_raises_realised_volatility(launched: Launched, http: httpx.Client) -> None:
    url = launched.field("Web page")
    assert admin_post(http, f"/markets/{SYMBOL}/regime", {"regime": "calm"}, ADMIN).status_code == 200
    calm = realised_bps(url, SYMBOL, 8)
    body = {"volatility_bps": 60, "duration_seconds": 30}
    assert admin_post(http, f"/markets/{SYMBOL}/regime", body, ADMIN).status_code == 200
    volatile = realised_bps(url, SYMBOL, 8)
    print(f"realised volatility of the mid over 1 s: calm {calm:.2f} bps, volatile {volatile:.2f} bps")
    assert volatile > 3 * calm and volatile > 5, (calm, volatile)
