"""A flash crash (admin API, docs/admin.md) seen on the trade page of its market: while the page
is open the market simulation's fair price falls PERCENT% over FALL_S seconds and comes back over
RECOVER_S; the page's last price, its recent trades and the chart's current candle low all fall by
at least two thirds of the crash within its window, then the last price comes back to within a
quarter of the crash of where it was. The page logs no error meanwhile.

Its own stack (`make run`'s launcher at its defaults but for ADMIN_TOKEN and the market
simulation on SYMBOL alone with the quick mix of tests/e2e/sim_scenarios.py; no market maker, as
by default beside the simulation) and browser, apart from the package's `exchange`: a crash would
reach the other browser tests' pages. The market's scheduled actions are dropped at the end
whatever happens."""

import json
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, watch
from tests.e2e.sim_scenarios import QUICK_MIX
from tests.launched import REPO, Launched, launch

SYMBOL = "SOLUSDT"
ADMIN_TOKEN = "flash-" + uuid.uuid4().hex
PERCENT, FALL_S, RECOVER_S = 9, 10, 40
# How long after the crash's start the page may take to show the fall (the makers re-quote every
# 1-4 s, the deep book every 5 s, and takers arrive about once a second; the machine is loaded).
FALL_SEEN_WITHIN_S = FALL_S + 30
# How long after the crash's end the page may take to show the price back.
RECOVERY_SEEN_WITHIN_S = 60
POLL_S = 0.25
# The chart's legend: "<time>  O <open>  H <high>  L <low>  C <close>  V ..." (unnamed groups: the
# pattern is also matched by the page's JavaScript).
CANDLE = re.compile(r"^(.+?)\s+O \S+\s+H \S+\s+L (\S+)\s+C (\S+)")


def admin(base: str, path: str, body: dict[str, object] | None = None) -> dict[str, object]:
    r = httpx.post(
        f"{base}/admin/v1/markets/{SYMBOL}/{path}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        json=body,
        timeout=30,
    )
    assert r.status_code == 200, r.text
    answer: dict[str, object] = r.json()
    return answer


def number(shown: str) -> Decimal:
    """A price as the page shows it (thousands grouped) as a Decimal."""
    return Decimal(shown.replace(",", ""))


@dataclass
class Seen:
    """What the page showed: its last price, the prices in its recent-trades list and its current
    candle (the chart's legend while nothing is hovered: that candle's time, low and close)."""

    last: Decimal
    trades: list[Decimal]
    candle_time: str
    candle_low: Decimal
    candle_close: Decimal


def read(page: Page) -> Seen:
    last = page.get_by_label("Market summary").locator("dt:text-is('Last price') + dd").inner_text()
    trades = page.get_by_role("table", name="Recent trades").locator("tbody tr td:first-child")
    legend = page.get_by_role("status", name="Candle").inner_text()
    candle = CANDLE.match(legend)
    assert candle, f"the chart's legend reads {legend!r}"
    return Seen(
        last=number(last),
        trades=[number(t) for t in trades.all_inner_texts()],
        candle_time=candle[1],
        candle_low=number(candle[2]),
        candle_close=number(candle[3]),
    )


@dataclass
class Lowest:
    """The lowest of each thing the page showed over a span of polls."""

    last: Decimal
    trade: Decimal
    candle_low: Decimal
    candles: dict[str, Decimal] = field(default_factory=dict)

    def add(self, seen: Seen) -> None:
        self.last = min(self.last, seen.last)
        self.trade = min(self.trade, *seen.trades)
        self.candle_low = min(self.candle_low, seen.candle_low)
        self.candles[seen.candle_time] = seen.candle_low

    def all_below(self, price: Decimal) -> bool:
        return max(self.last, self.trade, self.candle_low) <= price


def page_loaded(page: Page) -> Seen:
    """The page's first full reading once its ticker, trades and chart legend show numbers."""
    expect(page.get_by_role("status", name="Candle")).to_have_text(CANDLE, timeout=60_000)
    trades = page.get_by_role("table", name="Recent trades").locator("tbody tr")
    expect(trades.first).to_be_visible(timeout=60_000)
    summary = page.get_by_label("Market summary").locator("dt:text-is('Last price') + dd")
    expect(summary).to_have_text(re.compile(r"^[\d,]+\.\d+$"), timeout=60_000)
    return read(page)


@pytest.fixture(scope="module")
def crash_exchange(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Launched]:
    assert (REPO / "web" / "dist" / "index.html").is_file(), "the web app is not built: run `make web`"
    run_dir = tmp_path_factory.mktemp("flash-crash-run") / ".run"
    with launch(
        run_dir,
        redis_url,
        ADMIN_TOKEN=ADMIN_TOKEN,
        SIM_SYMBOLS=SYMBOL,
        SIM_MIX=json.dumps(QUICK_MIX),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def crash_browser(crash_exchange: Launched) -> Iterator[Browser]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_a_flash_crash_shows_on_the_trade_page_then_recovers(
    crash_exchange: Launched, crash_browser: Browser
) -> None:
    web = watch(crash_browser, crash_exchange.field("Web page"))
    page = web.page
    page.goto(f"/trade/{SYMBOL}")
    page.mouse.move(0, 0)  # the legend shows the current candle only while no candle is hovered
    # The reference price: the median of the trades the page lists before the crash.
    listed = sorted(page_loaded(page).trades)
    before = listed[len(listed) // 2]
    crashed = before * (1 - Decimal(PERCENT) / 100 * 2 / 3)
    back = before * (1 - Decimal(PERCENT) / 100 / 4)
    assert read(page).last > crashed, "the market was already down before the crash"

    posted = time.monotonic()
    try:
        answer = admin(
            web.base,
            "flash-crash",
            {"percent": PERCENT, "fall_seconds": FALL_S, "recover_seconds": RECOVER_S},
        )
        assert answer["scheduled"], answer
        first = read(page)
        lowest = Lowest(first.last, min(first.trades), first.candle_low)
        lowest.add(first)
        while time.monotonic() < posted + FALL_SEEN_WITHIN_S and not lowest.all_below(crashed):
            time.sleep(POLL_S)
            lowest.add(read(page))
        fell_after_s = time.monotonic() - posted
        print(
            f"flash crash of {PERCENT}% from {before}: lowest shown last price {lowest.last}, trade"
            f" {lowest.trade}, candle low {lowest.candle_low} (candles {lowest.candles}),"
            f" all below {crashed:.2f} after {fell_after_s:.1f} s"
        )
        assert lowest.last <= crashed, (before, lowest)
        assert lowest.trade <= crashed, (before, lowest)
        assert lowest.candle_low <= crashed, (before, lowest)
        web.screenshot("trade-flash-crash.png")

        # Back up: the last price and the current candle's close return near where they were.
        def recovered(seen: Seen) -> bool:
            return seen.last >= back and seen.candle_close >= back

        seen = read(page)
        while time.monotonic() < posted + FALL_S + RECOVER_S + RECOVERY_SEEN_WITHIN_S and not recovered(seen):
            time.sleep(POLL_S)
            seen = read(page)
        print(f"recovered to {seen.last} after {time.monotonic() - posted:.1f} s (at least {back:.2f})")
        assert recovered(seen), (before, seen)
        # The recent-trades list shows the recovery too: its newest trade is near the price again.
        assert seen.trades[0] >= back * Decimal("0.98"), seen.trades[:5]
        assert web.problems() == []
    finally:
        admin(web.base, "reset")
        page.context.close()
