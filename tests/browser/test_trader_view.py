"""What a trader sees on the trade page, at 1440x900 and on a 390 px phone: skeletons (never false
zeros) while the account loads; one time convention (local or UTC, remembered) for the chart
legend, recent trades and open orders; a dash for a plain limit order's stop price; refusals in
words; totals rounded; balances in the asset's precision; nothing moving when a message appears
or the order type changes; the book one tab stop; a readable Sell button; open orders above the
fold; keyboard shortcuts; and on a phone no sideways scrolling, with Cancel and the Balances tab
in reach."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import DESKTOP, PHONE, Watched, watch
from tests.browser.pages import contrast_ratio, new_email, row, sign_up
from tests.launched import Launched

ZONE = "America/New_York"  # the browser's local time: never UTC, so the setting shows
REFUSED_BY_THE_API = ("status of 400",)


def seconds_apart(shown: str, expected: datetime) -> float:
    """How far the clock time `shown` ("HH:MM" or "HH:MM:SS") is from `expected`'s, modulo a day."""
    parts = [int(p) for p in shown.split(":")] + [0]
    shown_s = parts[0] * 3600 + parts[1] * 60 + parts[2]
    expected_s = expected.hour * 3600 + expected.minute * 60 + expected.second
    gap = abs(shown_s - expected_s) % 86400
    return min(gap, 86400 - gap)


def assert_times_in(page: Page, zone: ZoneInfo | None) -> None:
    """The newest recent trade and the chart legend's candle show the current time in `zone` (None: UTC)."""
    now = datetime.now(UTC).astimezone(zone or UTC)
    newest = page.get_by_role("table", name="Recent trades").get_by_role("row").nth(1)
    expect(newest).to_contain_text(re.compile(r"\d\d:\d\d:\d\d"))
    trade_time = re.findall(r"\d\d:\d\d:\d\d", newest.inner_text())[-1]
    assert seconds_apart(trade_time, now) < 180, (trade_time, now)
    legend = page.get_by_role("status", name="Candle")
    expect(legend).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d"))
    candle = re.search(r"\d{4}-\d\d-\d\d (\d\d:\d\d)", legend.inner_text())
    assert candle and seconds_apart(candle.group(1), now) < 180, (legend.inner_text(), now)


def contrast(page: Page, name: str) -> float:
    """WCAG contrast ratio of a button's text colour on its background colour."""
    color, background = page.get_by_role("button", name=name, exact=True).evaluate(
        "b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]"
    )
    return contrast_ratio(color, background)


def top(page: Page, selector: str) -> float:
    return float(page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top"))


def test_the_trade_page_at_1440x900(browser: Browser, exchange: Launched) -> None:
    web: Watched = watch(browser, exchange.field("Web page"), DESKTOP, timezone_id=ZONE)
    page = web.page
    page.goto("/")
    sign_up(page, new_email())

    # Skeletons while the account and open orders are on their way, then the real values.
    held: list[Route] = []
    page.route(re.compile(r"/api/v3/(account|openOrders)$"), lambda route: held.append(route))
    page.goto("/trade/BTCUSDT")
    expect(page.locator(".available")).to_have_attribute("aria-busy", "true")
    expect(page.locator(".available").get_by_role("img", name="Loading")).to_be_visible()
    expect(page.get_by_role("tab", name="Open orders", exact=True)).to_be_visible()
    expect(
        page.get_by_role("table", name="Open orders").get_by_role("img", name="Loading").first
    ).to_be_visible()
    page.wait_for_timeout(1000)
    assert "Available: 0" not in page.locator("body").inner_text()
    expect(page.get_by_role("tab", name="Open orders (0)")).to_have_count(0)
    for route in held:
        route.continue_()
    page.unroute(re.compile(r"/api/v3/(account|openOrders)$"))
    # Balances in the asset's precision: USDT with 2 decimals, not 8.
    expect(page.get_by_text("Available: 10,000.00 USDT", exact=True)).to_be_visible()
    expect(page.get_by_role("tab", name="Open orders (0)")).to_be_visible()

    # One time convention: local time by default, UTC when chosen, remembered over a reload.
    expect(page.get_by_role("status", name="Connection")).to_have_text("Live")
    assert_times_in(page, ZoneInfo(ZONE))
    page.get_by_role("combobox", name="Time zone").select_option(label="UTC")
    assert_times_in(page, None)
    page.reload()
    expect(page.get_by_role("combobox", name="Time zone")).to_have_value("utc")
    assert_times_in(page, None)

    # Nothing moves when a message appears or the order type changes.
    sell = page.get_by_role("button", name="Sell", exact=True)
    sell.click()
    place = page.get_by_role("button", name="Sell BTC")
    assert contrast(page, "Sell BTC") >= 4.5
    assert contrast(page, "Sell") >= 4.5
    before = (top(page, "button.primary"), top(page, ".trades"), top(page, ".panels"))
    place.click()
    expect(page.get_by_role("alert")).to_have_text("Enter an amount in BTC.")
    assert (top(page, "button.primary"), top(page, ".trades"), top(page, ".panels")) == before
    kinds = page.get_by_label("Order type")
    for kind in ("Market", "Stop limit", "Stop market", "Limit"):
        kinds.select_option(label=kind)
        assert (top(page, "button.primary"), top(page, ".trades"), top(page, ".panels")) == before, kind

    # A total is rounded (64.8375 -> 64.84); a too small order is refused in words.
    price = page.get_by_role("textbox", name="Price (USDT)", exact=True)
    amount = page.get_by_label("Amount (BTC)")
    price.fill("64837.50")
    amount.fill("0.00100")
    expect(page.get_by_label("Total (USDT)")).to_have_value("64.84")
    amount.fill("0.00001")
    place.click()
    expect(page.get_by_role("alert")).to_have_text(
        "Order too small: its value (price \u00d7 amount) must be at least 5.00 USDT."
    )

    # A plain limit order rests with a dash for its stop price, visible without scrolling.
    far = "99999.00"
    price.fill(far)
    amount.fill("0.00100")
    place.click()
    resting = row(page.get_by_role("table", name="Open orders"), "99,999.00")
    expect(resting).to_have_count(1)
    cells = resting.get_by_role("cell").all_inner_texts()
    assert cells[4:6] == ["99,999.00", "—"], cells
    assert page.evaluate("window.scrollY") == 0
    box = resting.bounding_box()
    assert box and box["y"] + box["height"] <= DESKTOP["height"], box
    started = datetime.now(UTC)
    placed_at = re.search(r"\d\d:\d\d:\d\d", cells[0])
    assert placed_at and seconds_apart(placed_at.group(0), started) < 60, cells

    # The book's levels are one tab stop (after its grouping), between the chart and the order form.
    page.get_by_role("combobox", name="Market").focus()
    in_book = presses = 0
    while presses < 30 and page.evaluate("document.activeElement.textContent") != "Buy":
        page.keyboard.press("Tab")
        presses += 1
        in_book += int(page.evaluate("document.activeElement.closest('.level') !== null"))
    assert in_book == 1 and presses <= 11, (in_book, presses)

    # Keyboard shortcuts outside the fields: S sells, B buys, A goes to the amount (then types there).
    page.keyboard.press("b")
    expect(page.get_by_role("button", name="Buy", exact=True)).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("s")
    expect(sell).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("a")
    expect(amount).to_be_focused()
    page.keyboard.type("0.002")
    expect(amount).to_have_value("0.002")
    expect(sell).to_have_attribute("aria-pressed", "true")

    resting.get_by_role("button", name=re.compile(r"^Cancel order \d+$")).click()
    expect(page.get_by_role("tab", name="Open orders (0)")).to_be_visible()
    web.screenshot("trade-view-desktop.png")
    assert web.problems(allowed=REFUSED_BY_THE_API) == []
    page.context.close()


def test_the_trade_page_on_a_phone(browser: Browser, exchange: Launched) -> None:
    web = watch(browser, exchange.field("Web page"), PHONE)
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    page.get_by_role("button", name="Sell", exact=True).click()
    page.get_by_role("textbox", name="Price (USDT)", exact=True).fill("99999.00")
    page.get_by_label("Amount (BTC)").fill("0.00100")
    page.get_by_role("button", name="Sell BTC").click()
    resting = row(page.get_by_role("table", name="Open orders"), "99,999.00")
    expect(resting).to_have_count(1)
    expect(resting.locator("td[data-label='Stop price']")).to_have_text("—")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the trade page is {width} px wide on a {PHONE['width']} px phone"
    cancel = resting.get_by_role("button", name=re.compile(r"^Cancel order \d+$"))
    cancel.scroll_into_view_if_needed()
    box = cancel.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    balances_tab = page.get_by_role("tab", name="Balances")
    tab_box = balances_tab.bounding_box()
    assert tab_box and tab_box["x"] + tab_box["width"] <= PHONE["width"], tab_box
    web.screenshot("trade-view-phone.png")

    cancel.click()
    expect(page.get_by_role("table", name="Open orders")).to_contain_text("No open orders.")
    balances_tab.click()
    expect(row(page.get_by_role("table", name="Balances"), "USDT")).to_contain_text("10,000.00")
    assert page.evaluate("window.scrollX") == 0
    assert web.problems() == []
    page.context.close()
