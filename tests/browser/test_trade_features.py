"""Trade page features a trader expects: a toast when a resting order is filled by another user's
order; cancel-all; immediate-or-cancel / fill-or-kill; a total that can be typed in; the last
price coloured by direction; a chart legend that follows the hovered candle, with its MA and
EMA; order book price grouping with exact sums, the spread in percent and a depth chart whose
cumulative amounts are the book's (on a frozen book, on a phone)."""

import re
import time
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from playwright.sync_api import Browser, BrowserContext, Locator, Page, WebSocketRoute, expect

from tests.browser.conftest import PHONE, Watched, watch
from tests.browser.pages import (
    LEVEL_VALUES,
    another_trader,
    best_level,
    new_email,
    place_order,
    row,
    shown,
    sign_up,
)
from tests.launched import Launched


def book_rows(page: Page, side: str) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(price, amount, cumulative total) of each shown level of one side, best first."""
    texts: list[list[str]] = page.locator(f".level.{side}:not(.empty)").evaluate_all(
        f"rows => rows.map({LEVEL_VALUES})"
    )
    levels = [tuple(Decimal(t.replace(",", "")) for t in row) for row in texts]
    return [(p, q, c) for p, q, c in (levels if side == "bid" else levels[::-1])]


def depth_levels(page: Page, side: str) -> list[tuple[Decimal, Decimal]]:
    """(price, cumulative amount) of each bar of the depth chart's side, best first."""
    bars: list[list[str]] = page.locator(f".depth-svg rect.{side}").evaluate_all(
        "bars => bars.map(b => [b.dataset.price, b.dataset.total])"
    )
    return [(Decimal(p), Decimal(t)) for p, t in bars]


def sell_down_to(other: BrowserContext, price: Decimal, filled: Locator) -> None:
    """Another user's sells (limit `price`, immediate or cancel) of every bid at or above `price`,
    repeated until `filled` shows: the market simulation may bid above a resting order while the
    sell is on its way."""
    for _ in range(5):
        bids = other.request.get("/api/v3/depth?symbol=BTCUSDT&limit=100").json()["bids"]
        ahead = sum((Decimal(q) for p, q in bids if Decimal(p) >= price), Decimal(0))
        if ahead:
            quantity = f"{ahead:.5f}"
            place_order(
                other.request,
                symbol="BTCUSDT",
                side="SELL",
                type="LIMIT",
                timeInForce="IOC",
                price=str(price),
                quantity=quantity,
            )
        try:
            expect(filled).to_be_visible(timeout=5_000)
            return
        except AssertionError:
            continue
    expect(filled).to_be_visible()


def test_fills_cancel_all_time_in_force_and_total(web: Watched, browser: Browser, exchange: Launched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    expect(page.get_by_role("status", name="Connection")).to_have_text("Live")
    price = page.get_by_role("textbox", name="Price (USDT)", exact=True)
    amount = page.get_by_label("Amount (BTC)")

    # The total can be typed in: the amount follows (rounded down to the step).
    price.fill("30000.00")
    page.get_by_label("Total (USDT)").fill("300")
    expect(amount).to_have_value("0.01000")

    # A resting buy at the top of the book, filled by another user's market sell: a toast says so.
    bid, _ = best_level(page, "Bid")
    ask, _ = best_level(page, "Ask")
    mine = Decimal(bid) + Decimal("0.01")
    assert mine < Decimal(ask)
    price.fill(str(mine))
    amount.fill("0.00100")
    page.get_by_role("button", name="Buy BTC").click()
    expect(page.get_by_role("tab", name="Open orders (1)")).to_be_visible()
    other = another_trader(browser, web.base)
    sell_down_to(other, mine, page.get_by_role("tab", name="Open orders (0)"))
    other.close()
    toast = page.get_by_role("status", name="Notifications")
    # (the market's own trades may take part of it first: then a toast for each fill)
    at = re.escape(f"at {shown(str(mine), 2)} USDT")
    expect(toast).to_contain_text(re.compile(rf"Buy order filled: 0\.\d{{5}} BTC {at}"))
    expect(page.get_by_role("tab", name="Open orders (0)")).to_be_visible()

    # Fill or kill far under the market: nothing fills, the order expires.
    far = (Decimal(bid) / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    price.fill(str(far))
    page.get_by_label("Time in force").select_option(label="Fill or kill")
    amount.fill("0.00100")
    page.get_by_role("button", name="Buy BTC").click()
    expect(page.get_by_role("status").filter(has_text="Not filled")).to_have_text(
        "Not filled: the order expired (Fill or kill)."
    )

    # Two resting orders, one click: none left.
    page.get_by_label("Time in force").select_option(label="Good till cancelled")
    for level in (far, far - 1):
        price.fill(str(level))
        amount.fill("0.00100")
        page.get_by_role("button", name="Buy BTC").click()
        expect(row(page.get_by_role("table", name="Open orders"), shown(str(level), 2))).to_have_count(1)
    expect(page.get_by_role("tab", name="Open orders (2)")).to_be_visible()
    page.get_by_role("button", name="Cancel all").click()
    expect(page.get_by_role("table", name="Open orders")).to_contain_text("No open orders.")
    expect(page.get_by_role("button", name="Cancel all")).to_be_hidden()

    # The last price, in the ticker and the book's mid row, coloured by its last move.
    last = page.locator(".ticker dd").first
    expect(last).to_have_class(re.compile(r"\b(up|down)\b"), timeout=30_000)
    expect(page.get_by_label("Last price", exact=True)).to_have_class(re.compile(r"\b(up|down)\b"))
    web.screenshot("trade-features.png")
    assert web.problems() == []


def local_minute(ms: int) -> str:
    """A kline's open time as the legend shows it (the browser's and this machine's local time)."""
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")


def test_the_legend_follows_the_hovered_candle(web: Watched, exchange: Launched) -> None:
    page = web.page
    deadline = time.monotonic() + 150  # a fresh exchange: the simulation's trades make a candle a minute
    while len(page.request.get("/api/v3/klines?symbol=BTCUSDT&interval=1m").json()) < 2:
        assert time.monotonic() < deadline, "fewer than two 1m candles"
        time.sleep(2)
    page.goto("/trade/BTCUSDT")
    legend = page.get_by_role("status", name="Candle")
    expect(legend).to_contain_text("C ")
    klines = page.request.get("/api/v3/klines?symbol=BTCUSDT&interval=1m").json()
    last_shown = legend.inner_text()
    box = page.locator(".chart-box").bounding_box()
    assert box
    seen: set[str] = set()
    y = box["y"] + box["height"] / 2
    for dx in range(90, 400, 3):  # leftwards from the price scale, over the newest candles
        page.mouse.move(box["x"] + box["width"] - dx, y)
        seen.add(legend.inner_text())
        if len(seen - {last_shown}) >= 1:
            break
    others = sorted(seen - {last_shown})
    assert others, seen
    shown_close = re.search(r"C ([\d,]+\.\d\d)", others[0])
    assert shown_close
    closes = {shown(k[4], 2) for k in klines}
    assert shown_close.group(1) in closes, (others[0], closes)
    # Its EMA(50) is that of the closes up to it (seeded with the first, weight 2/51).
    stamp = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d)", others[0])
    assert stamp
    index = next(i for i, k in enumerate(klines) if local_minute(k[0]) == stamp.group(1))
    average = float(klines[0][4])
    for k in klines[1 : index + 1]:
        average = float(k[4]) * (2 / 51) + average * (1 - 2 / 51)
    assert f"EMA(50) {average:,.2f}" in others[0], (others[0], average)
    page.mouse.move(1, 1)
    expect(legend).not_to_have_text(others[0])


def test_grouping_and_spread_on_a_frozen_book_on_a_phone(browser: Browser, exchange: Launched) -> None:
    web = watch(browser, exchange.field("Web page"), PHONE)
    page = web.page

    def refuse(ws: WebSocketRoute) -> None:
        ws.close()

    page.route_web_socket(re.compile(r"/stream"), refuse)  # the book stays as REST gave it
    page.goto("/trade/BTCUSDT")
    expect(page.locator(".level.bid:not(.empty)").first).to_be_visible()
    bids, asks = book_rows(page, "bid"), book_rows(page, "ask")
    assert len(bids) > 3 and len(asks) > 3
    best_bid, best_ask = bids[0][0], asks[0][0]
    pct = ((best_ask - best_bid) * 2 * 100 / (best_ask + best_bid)).quantize(
        Decimal("0.001"), rounding=ROUND_DOWN
    )
    expect(page.locator(".spread-text")).to_have_text(f"Spread {best_ask - best_bid:,.2f} ({pct}%)")

    page.get_by_role("button", name="Depth", exact=True).click()
    depth_chart = page.get_by_role("img", name=re.compile(r"^Depth chart: "))
    expect(depth_chart).to_be_visible()
    assert depth_levels(page, "bid") == [(p, t) for p, _, t in bids]
    assert depth_levels(page, "ask") == [(p, t) for p, _, t in asks]
    page.get_by_role("combobox", name="Price grouping").select_option("100")
    for side, rounding in (("bid", ROUND_FLOOR), ("ask", ROUND_CEILING)):
        expected: dict[Decimal, Decimal] = {}
        for p, q, _ in bids if side == "bid" else asks:
            bucket = (p / 100).quantize(Decimal(1), rounding=rounding) * 100
            expected[bucket] = expected.get(bucket, Decimal(0)) + q
        grouped = book_rows(page, side)
        assert [(p, q) for p, q, _ in grouped] == list(expected.items()), (side, grouped, expected)
        running = Decimal(0)
        for _, q, total in grouped:
            running += q
            assert total == running
        assert len(grouped) < len(bids if side == "bid" else asks)
        assert depth_levels(page, side) == [(p, t) for p, _, t in grouped]
    web.screenshot("trade-grouped-phone.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    page.context.close()
