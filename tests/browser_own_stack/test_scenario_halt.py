"""A halt that comes from a scenario file (SIM_SCENARIO, docs/marketsim.md) shows on the web page
as the admin's halt does (test_market_halt.py): a stack of its own is launched (`make run`, the
market simulation with a light mix) with a file that pauses ETHUSDT HALT_AT_S seconds after the
simulation starts and resumes it at RESUME_AT_S; the trade page shows the banner with the file's
reason and closes the order form at the file's time, then reopens it at the resume.

Its own stack and browser (not the package's `exchange`): the file's halt would otherwise reach
the other browser tests' market pages."""

import json
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, watch
from tests.browser.pages import new_email, sign_up
from tests.launched import REPO, Launched, launch

SYMBOL = "ETHUSDT"
HALT_AT_S = 75
RESUME_AT_S = 120
REASON = "Scenario file: volatility break"
SCENARIO = {
    "name": "a break from a file",
    "steps": [
        {"at_seconds": HALT_AT_S, "market": SYMBOL, "action": "halt", "status": "BREAK", "reason": REASON},
        {"at_seconds": RESUME_AT_S, "market": SYMBOL, "action": "resume"},
    ],
}
# One maker re-quoting every second and a few noise takers: a live market, light on this machine.
LIGHT_MIX = {
    "makers": [
        {"name": "tight", "spread_bps": 4, "spacing_bps": 1, "levels": 5, "size_multiplier": 5,
         "requote_seconds": 1, "hysteresis_bps": 1}
    ],
    "depth_levels": 0,
    "noise_per_minute": 20,
    "momentum_per_minute": 0,
    "mean_reversion_per_minute": 0,
    "sweeps_per_minute": 0,
}  # fmt: skip
STARTED_LINE = f"scenario {SCENARIO['name']!r} started"


@pytest.fixture(scope="module")
def scenario_exchange(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Launched]:
    assert (REPO / "web" / "dist" / "index.html").is_file(), "the web app is not built: run `make web`"
    root = tmp_path_factory.mktemp("scenario-run")
    scenario = root / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    with launch(
        root / ".run", redis_url, SIM_SCENARIO=str(scenario), SIM_MIX=json.dumps(LIGHT_MIX)
    ) as running:
        yield running


@pytest.fixture(scope="module")
def scenario_browser(scenario_exchange: Launched) -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def scenario_started(launched: Launched, timeout_s: float = 120.0) -> float:
    """The monotonic time at which the simulation's log first says the file's scenario started
    (at most half a second after it did)."""
    log = launched.run_dir / "logs" / "marketsim.log"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if log.exists() and STARTED_LINE in log.read_text():
            return time.monotonic()
        time.sleep(0.5)
    raise AssertionError(f"no {STARTED_LINE!r} in {log}")


def test_a_halt_from_the_scenario_file_shows_as_the_admin_halt_does(
    scenario_exchange: Launched, scenario_browser: Browser
) -> None:
    started = scenario_started(scenario_exchange)
    web = watch(scenario_browser, scenario_exchange.field("Web page"))
    page = web.page
    try:
        page.goto("/")
        sign_up(page, new_email())
        page.goto(f"/trade/{SYMBOL}")
        submit = page.get_by_role("button", name="Buy ETH")
        banner = page.get_by_role("alert").filter(has_text="Trading in ETH/USDT")
        closed = page.get_by_role("status").filter(has_text="Order entry is closed")
        expect(submit).to_be_enabled()
        expect(banner).to_have_count(0)
        assert time.monotonic() < started + HALT_AT_S - 5, (
            "the page opened too late to see the market trading"
        )

        wait_ms = (started + HALT_AT_S + 30 - time.monotonic()) * 1000
        expect(banner).to_have_text(
            f"Trading in ETH/USDT is paused: {REASON}. New orders are not accepted;"
            " open orders can still be cancelled.",
            timeout=wait_ms,
        )
        assert time.monotonic() > started + HALT_AT_S - 1  # at the file's time, not before
        expect(submit).to_be_disabled()
        expect(page.get_by_label("Amount (ETH)")).to_be_disabled()
        expect(closed).to_be_visible()
        web.screenshot("trade-scenario-halted.png")

        wait_ms = (started + RESUME_AT_S + 30 - time.monotonic()) * 1000
        expect(banner).to_have_count(0, timeout=wait_ms)
        assert time.monotonic() > started + RESUME_AT_S - 1
        expect(submit).to_be_enabled()
        expect(page.get_by_label("Amount (ETH)")).to_be_enabled()
        expect(closed).to_have_count(0)
        assert web.problems() == []
    finally:
        page.context.close()
    log = (scenario_exchange.run_dir / "logs" / "marketsim.log").read_text()
    assert f"{SYMBOL}: scenario halt applied: market now BREAK" in log
    assert f"{SYMBOL}: scenario resume applied: market now TRADING" in log
