"""Stop orders from the web page: exchangeInfo's stop types appear in the order form with a Stop
price field, and a stop-limit order rests in open orders with its stop price, until cancelled."""

import re
from decimal import ROUND_DOWN, Decimal

from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.browser.pages import best_level, new_email, row, shown, sign_up


def test_a_stop_limit_sell_rests_with_its_stop_price(web: Watched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    kinds = page.get_by_label("Order type")
    expect(kinds.locator("option", has_text="Stop market")).to_have_count(1)
    options = kinds.locator("option").all_inner_texts()
    assert {"Limit", "Market", "Post-only", "Stop limit", "Stop market"} <= set(options), options
    stop_box = page.get_by_role("textbox", name="Stop price (USDT)")
    expect(stop_box).to_be_hidden()

    bid, _ = best_level(page, "Bid")
    stop = (Decimal(bid) * Decimal("0.90")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    limit = (Decimal(bid) * Decimal("0.89")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    page.get_by_role("button", name="Sell", exact=True).click()
    kinds.select_option(label="Stop limit")
    expect(stop_box).to_be_visible()
    stop_box.fill(str(stop))
    page.get_by_role("textbox", name="Price (USDT)", exact=True).fill(str(limit))
    page.get_by_label("Amount (BTC)").fill("0.00100")
    page.get_by_role("button", name="Sell BTC").click()
    expect(page.get_by_role("status").filter(has_text="Order placed")).to_contain_text("sell 0.00100 BTC")

    resting = row(page.get_by_role("table", name="Open orders"), "Stop limit")
    expect(resting).to_have_count(1)
    expect(resting).to_contain_text(shown(str(stop), 2))
    expect(resting).to_contain_text(shown(str(limit), 2))
    resting.get_by_role("button", name=re.compile(r"^Cancel order \d+$")).click()
    expect(page.get_by_role("table", name="Open orders")).to_contain_text("No open orders.")
    assert web.problems() == []
