"""The order history and the trade history of the trade page, at 1440x900, 1280x720 and on a 390 px
phone, for a user with orders in two markets: every market's orders and trades merged newest
first; the filters by side, pair, status and days hide what they exclude; an order's average fill
price is exactly cummulativeQuoteQty / executedQty (a resting order's own price); times follow the
page's time-zone setting. The account page shows the same histories."""

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, expect

from tests.browser.conftest import DESKTOP, PHONE, watch
from tests.browser.pages import CSRF, another_trader, best_level, new_email, place_order, row, shown, sign_up
from tests.launched import Launched

ZONE = "America/New_York"  # the browser's local time: never UTC, so the setting shows
VIEWPORTS = {"1440x900": DESKTOP, "1280x720": {"width": 1280, "height": 720}, "phone": PHONE}
AVERAGE_COLUMN = 5  # Time, Pair, Side, Type, Price, Avg. price, ...


def data_rows(table: Locator) -> Locator:
    """The rows of orders or trades (each names a pair such as "ETH/USDT"), not header or notes."""
    return row(table, "/USDT")


def shown_time(ms: int, zone: ZoneInfo) -> str:
    """How the tables show a time: "MM-DD HH:MM:SS" in `zone`."""
    return datetime.fromtimestamp(ms / 1000, zone).strftime("%m-%d %H:%M:%S")


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_order_and_trade_history_across_markets(browser: Browser, exchange: Launched, size: str) -> None:
    viewport = VIEWPORTS[size]
    web = watch(browser, exchange.field("Web page"), viewport, timezone_id=ZONE)
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    expect(page.get_by_role("status", name="Connection")).to_have_text("Live")

    # A market buy; a limit sell improving the best ask, which another user's buy sweeping every
    # ask up to that price fills (a resting order fills at its own price only); a cancelled limit
    # buy far under the book; and (last) a market buy in another market.
    bought = place_order(
        page.request, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00050", newOrderRespType="FULL"
    )
    ask, _ = best_level(page, "Ask")
    bid, _ = best_level(page, "Bid")
    maker_price = Decimal(ask) - Decimal("0.01")
    assert maker_price > Decimal(bid)
    limit = {"symbol": "BTCUSDT", "type": "LIMIT"}
    place_order(
        page.request, **limit, side="SELL", timeInForce="GTC", price=str(maker_price), quantity="0.00050"
    )
    other = another_trader(browser, web.base)
    place_order(
        other.request, **limit, side="BUY", timeInForce="IOC", price=str(maker_price), quantity="0.05000"
    )
    other.close()
    bid, _ = best_level(page, "Bid")
    far = (Decimal(bid) / 2).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    resting = place_order(
        page.request, **limit, side="BUY", timeInForce="GTC", price=str(far), quantity="0.00100"
    )
    cancelled = page.request.delete(
        f"/api/v3/order?symbol=BTCUSDT&orderId={resting['orderId']}", headers=CSRF
    )
    assert cancelled.ok, cancelled.text()
    place_order(page.request, symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.0100")

    # Order history: every market's orders, the newest (the other market's) first.
    page.get_by_role("tab", name="Order history").click()
    panel = page.get_by_role("tabpanel", name="Order history")
    history = panel.get_by_role("table", name="Order history")
    orders = data_rows(history)
    expect(orders).to_have_count(4)
    expect(orders.first).to_contain_text("ETH/USDT")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    # Average prices: the market buy's is cummulativeQuoteQty / executedQty rounded to the tick;
    # the filled limit sell's (every fill at its own price) is that price, as its trades show.
    average = (Decimal(str(bought["cummulativeQuoteQty"])) / Decimal(str(bought["executedQty"]))).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    market_buy = orders.filter(has_text="BTC/USDT").filter(has_text="Market").filter(has_text="Buy")
    expect(market_buy).to_have_count(1)
    expect(market_buy.get_by_role("cell").nth(AVERAGE_COLUMN)).to_have_text(shown(str(average), 2))
    limit_sell = orders.filter(has_text="Sell")
    expect(limit_sell).to_contain_text("Filled", timeout=15_000)
    expect(limit_sell.get_by_role("cell").nth(AVERAGE_COLUMN)).to_have_text(shown(str(maker_price), 2))
    # An order with nothing filled has no average price.
    expect(orders.filter(has_text="Canceled").get_by_role("cell").nth(AVERAGE_COLUMN)).to_have_text("—")

    # Filters: by side, by pair, by status, by days (in the page's time zone).
    panel.get_by_label("Side").select_option(label="Sell")
    expect(orders).to_have_count(1)
    expect(orders.first).to_contain_text("Sell")
    expect(orders.filter(has_text="Buy")).to_have_count(0)
    panel.get_by_label("Side").select_option(label="Both sides")
    panel.get_by_label("Pair").select_option(label="ETH/USDT")
    expect(orders).to_have_count(1)
    expect(orders.filter(has_text="BTC/USDT")).to_have_count(0)
    panel.get_by_label("Pair").select_option(label="All pairs")
    panel.get_by_label("Status").select_option(label="Canceled")
    expect(orders).to_have_count(1)
    expect(orders.first).to_contain_text(shown(str(far), 2))
    panel.get_by_label("Status").select_option(label="Any status")
    today = datetime.now(ZoneInfo(ZONE)).date()
    panel.get_by_label("To", exact=True).fill((today - timedelta(days=1)).isoformat())
    expect(history).to_contain_text("Nothing matches these filters.")
    expect(orders).to_have_count(0)
    panel.get_by_label("To", exact=True).fill("")
    panel.get_by_label("From", exact=True).fill(today.isoformat())
    expect(orders).to_have_count(4)

    # Trade history: the other market's trade among this market's, with the time in the zone.
    trades = page.request.get("/api/v3/myTrades?symbol=ETHUSDT").json()
    assert len(trades) >= 1
    page.get_by_role("tab", name="Trade history").click()
    mine = data_rows(page.get_by_role("table", name="Trade history"))
    expect(mine.first).to_contain_text("ETH/USDT")
    sold = mine.filter(has_text="BTC/USDT").filter(has_text="Sell")
    expect(sold.first).to_contain_text("Maker")
    expect(sold.first).to_contain_text(shown(str(maker_price), 2))
    newest = max(trades, key=lambda t: (t["time"], t["id"]))
    expect(mine.first).to_contain_text(shown_time(newest["time"], ZoneInfo(ZONE)))
    expect(mine.first).to_contain_text(shown(newest["price"], 2))

    page.get_by_role("combobox", name="Time zone").select_option(label="UTC")
    page.get_by_role("tab", name="Trade history").click()
    expect(mine.first).to_contain_text(shown_time(newest["time"], ZoneInfo("UTC")))
    assert shown_time(newest["time"], ZoneInfo("UTC")) != shown_time(newest["time"], ZoneInfo(ZONE))
    web.screenshot(f"history-{size}.png")

    # The account page shows the same histories, each with its own filters.
    page.goto("/account")
    on_account = page.get_by_role("region", name="Order history")
    account_orders = data_rows(on_account.get_by_role("table", name="Order history"))
    expect(account_orders).to_have_count(4)
    on_account.get_by_label("Side").select_option(label="Sell")
    expect(account_orders).to_have_count(1)
    account_trades = data_rows(page.get_by_role("region", name="Trade history").get_by_role("table"))
    expect(account_trades.first).to_contain_text("ETH/USDT")
    expect(account_trades.first).to_contain_text(shown_time(newest["time"], ZoneInfo("UTC")))
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.context.close()
    assert web.problems() == []
