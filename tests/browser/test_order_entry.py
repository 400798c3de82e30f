"""Order entry details: the amount as a share of the balance (exact, floored to the step), the
refusals in words (off-tick price, post-only that would take, too little
balance), and the chart's interval switch."""

import re
from decimal import ROUND_DOWN, Decimal

from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.browser.pages import best_level, new_email, sign_up

REFUSED_BY_THE_API = ("status of 400",)  # Chromium logs each refused request as a console error


def test_shares_of_the_balance_api_errors_and_chart_intervals(web: Watched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    amount = page.get_by_label("Amount (BTC)")
    price = page.get_by_role("textbox", name="Price (USDT)", exact=True)
    expect(page.get_by_text("Available: 10,000.00 USDT")).to_be_visible()

    # Buy: 25% of 10,000 USDT at 30,000.00 = 0.0833333 BTC, floored to the 0.00001 step.
    price.fill("30000.00")
    page.get_by_role("button", name="25% of available balance").click()
    expect(amount).to_have_value("0.08333")
    expect(page.get_by_label("Total (USDT)")).to_have_value("2499.90")
    # Sell: half of 0.5 BTC.
    page.get_by_role("button", name="Sell", exact=True).click()
    expect(page.get_by_role("button", name="Sell", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_text("Available: 0.50000 BTC")).to_be_visible()
    page.get_by_role("button", name="50% of available balance").click()
    expect(amount).to_have_value("0.25000")

    alert = page.get_by_role("alert").filter(has_text=re.compile("."))
    # A price off the 0.01 tick grid.
    price.fill("70000.005")
    amount.fill("0.00100")
    page.get_by_role("button", name="Sell BTC").click()
    expect(alert).to_have_text("Price not allowed: it must be a multiple of 0.01 USDT.")
    # Post-only well under the best bid would take: refused, with the API's sentence. (Not at the
    # best bid itself: the book is live, and a bid replaced between reading it and sending the
    # order would leave the order resting.)
    page.get_by_label("Order type").select_option(label="Post-only")
    bid, _ = best_level(page, "Bid")
    price.fill(str((Decimal(bid) * Decimal("0.9")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)))
    page.get_by_role("button", name="Sell BTC").click()
    expect(alert).to_have_text("Order would immediately match and take.")
    # More than the balance.
    page.get_by_label("Order type").select_option(label="Limit")
    far = (Decimal(bid) * 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    price.fill(str(far))
    amount.fill("1.00000")
    page.get_by_role("button", name="Sell BTC").click()
    expect(alert).to_have_text("Account has insufficient balance for requested action.")
    expect(page.get_by_role("table", name="Open orders")).to_contain_text("No open orders.")

    # The chart's interval switch.
    intervals = page.get_by_role("group", name="Chart interval")
    expect(intervals.get_by_role("button", name="1m", exact=True)).to_have_attribute("aria-pressed", "true")
    with page.expect_response(re.compile(r"/api/v3/klines\?symbol=BTCUSDT&interval=5m")):
        intervals.get_by_role("button", name="5m", exact=True).click()
    expect(intervals.get_by_role("button", name="5m", exact=True)).to_have_attribute("aria-pressed", "true")
    expect(intervals.get_by_role("button", name="1m", exact=True)).to_have_attribute("aria-pressed", "false")
    expect(page.get_by_role("status", name="Candle")).to_contain_text("C ")

    problems = web.problems(allowed=REFUSED_BY_THE_API)
    assert problems == []
    assert len(web.console_errors) == 3, web.console_errors  # exactly the three refused orders
