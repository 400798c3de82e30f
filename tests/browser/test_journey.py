"""A person's first session on the web page, against `make run`'s stack: sign up and see the
demo balances; a limit order shows in open orders and in the book, and is cancelled; a crossing
order trades, and the trade shows in recent trades, the histories, the balances and the candle;
log out and in again. No console error, no uncaught exception; screenshots in build/artifacts."""

import itertools
import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Watched
from tests.browser.pages import best_level, log_in, new_email, row, shown, sign_up, unnamed_controls

SYMBOL = "BTCUSDT"
PRICE_DECIMALS = 2
QTY_DECIMALS = 5
LIMIT_QTY = "0.00100"
TAKER_QTY = "0.00050"


def bid_between_levels(page: Page) -> Decimal:
    """A price between two bids of the book a few levels from the best, at no bid's price: an
    order there is shown among the book's levels (the market simulation keeps hundreds of them)
    and is out of reach of the market's usual sells."""
    bids = page.request.get(f"/api/v3/depth?symbol={SYMBOL}&limit=20").json()["bids"]
    prices = [Decimal(p) for p, _ in bids]
    for upper, lower in itertools.pairwise(prices[3:]):
        if upper - lower >= Decimal("0.02"):
            return upper - Decimal("0.01")
    raise AssertionError(f"no gap between the bids {prices}")


def test_sign_up_trade_and_log_in_again(web: Watched) -> None:
    page = web.page
    page.goto("/")
    email = new_email()
    sign_up(page, email)
    balances = page.get_by_role("table", name="Balances")
    expect(row(balances, "USDT")).to_contain_text("10,000.00")
    expect(row(balances, "BTC")).to_contain_text("0.50000")
    assert unnamed_controls(page) == []

    page.get_by_role("link", name="Trade").click()
    expect(page).to_have_url(re.compile(f"/trade/{SYMBOL}$"))
    expect(page.get_by_role("status", name="Connection")).to_have_text("Live")

    assert unnamed_controls(page) == []

    # A click on a book level puts its price in the form (the price the level had when clicked:
    # the simulation's makers may move the book at any moment).
    best_level(page, "Bid")  # the book is filled
    best = page.get_by_role("group", name="Bids").get_by_role("button").first
    best.hover()
    clicked = best.evaluate("b => { const price = b.dataset.price; b.click(); return price }")
    price_box = page.get_by_role("textbox", name="Price (USDT)", exact=True)
    expect(price_box).to_have_value(clicked)

    # A limit buy a few levels under the best bid rests: open orders and the book show it.
    limit_price = bid_between_levels(page)
    price_box.fill(str(limit_price))
    page.get_by_label("Amount (BTC)").fill(LIMIT_QTY)
    page.get_by_role("button", name="Buy BTC").click()
    expect(page.get_by_role("status").filter(has_text="Order placed")).to_contain_text(
        f"buy {LIMIT_QTY} BTC at {shown(str(limit_price), PRICE_DECIMALS)}"
    )
    open_orders = page.get_by_role("table", name="Open orders")
    resting = row(open_orders, shown(str(limit_price), PRICE_DECIMALS))
    expect(resting).to_have_count(1)
    expect(resting).to_contain_text(LIMIT_QTY)
    my_level = page.get_by_role(
        "button", name=re.compile(rf"^Bid {re.escape(shown(str(limit_price), PRICE_DECIMALS))} ")
    )
    expect(my_level).to_be_visible()
    expect(page.get_by_role("tab", name="Open orders (1)")).to_be_visible()

    # Cancel it: gone from open orders and from the book.
    resting.get_by_role("button", name=re.compile(r"^Cancel order \d+$")).click()
    expect(open_orders).to_contain_text("No open orders.")
    expect(my_level).to_have_count(0)

    # A market buy crosses the spread and trades with a simulated maker's ask.
    legend = page.get_by_role("status", name="Candle")
    expect(legend).to_contain_text("C ")
    candle_before = legend.inner_text()
    page.get_by_label("Order type").select_option(label="Market")
    expect(price_box).to_be_hidden()
    page.get_by_label("Amount (BTC)").fill(TAKER_QTY)
    page.get_by_role("button", name="Buy BTC").click()
    expect(page.get_by_role("status").filter(has_text="Bought")).to_have_text(f"Bought {TAKER_QTY} BTC.")

    my_trades = page.request.get(f"/api/v3/myTrades?symbol={SYMBOL}").json()
    assert [t["isBuyer"] for t in my_trades] == [True] * len(my_trades) and my_trades
    fill_price = my_trades[-1]["price"]
    assert sum(Decimal(t["qty"]) for t in my_trades) == Decimal(TAKER_QTY)

    recent = page.get_by_role("table", name="Recent trades")
    expect(
        row(recent, shown(fill_price, PRICE_DECIMALS))
        .filter(has_text=shown(my_trades[-1]["qty"], QTY_DECIMALS))
        .first
    ).to_be_visible()
    expect(legend).not_to_have_text(candle_before, timeout=20_000)

    page.get_by_role("tab", name="Trade history").click()
    trade_rows = row(page.get_by_role("table", name="Trade history"), "Taker")
    expect(trade_rows).to_have_count(len(my_trades))
    expect(trade_rows.first).to_contain_text(shown(fill_price, PRICE_DECIMALS))
    expect(trade_rows.first).to_contain_text("Buy")

    page.get_by_role("tab", name="Order history").click()
    history = page.get_by_role("table", name="Order history")
    expect(row(history, "Canceled")).to_contain_text(LIMIT_QTY)
    filled = row(history, "Market")
    expect(filled).to_contain_text("Filled")
    expect(filled).to_contain_text(TAKER_QTY)

    page.get_by_role("tab", name="Balances").click()
    account = page.request.get("/api/v3/account").json()
    free = {b["asset"]: b["free"] for b in account["balances"]}
    assert Decimal(free["BTC"]) > Decimal("0.5") and Decimal(free["USDT"]) < Decimal(10_000)
    panel_balances = page.get_by_role("tabpanel").get_by_role("table", name="Balances")
    expect(row(panel_balances, "BTC")).to_contain_text(shown(free["BTC"], 5))
    expect(row(panel_balances, "USDT")).to_contain_text(shown(free["USDT"], 2))

    page.get_by_role("tab", name="Open orders (0)").click()
    web.screenshot("trade-page.png")
    page.set_viewport_size(PHONE)
    expect(page.get_by_role("button", name="Buy BTC")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the trade page is {width} px wide on a {PHONE['width']} px phone"
    web.screenshot("trade-page-phone.png")

    # Log out, and in again: the same balances.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Markets")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert page.request.get("/api/web/session").json() == {"user": None}
    log_in(page, email)
    balances = page.get_by_role("table", name="Balances")
    expect(row(balances, "BTC")).to_contain_text(shown(free["BTC"], 5))

    assert web.problems() == []
