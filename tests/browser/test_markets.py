"""The markets overview: every market of exchangeInfo with its price, 24h change, volume and a
sparkline, kept live; a market's link opens its trade page; the page fits a phone's width."""

import re

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, Watched
from tests.browser.pages import row, shown

SPARKLINE_WITHIN_MS = 150_000  # a young stack needs two 1m candles


def test_the_markets_overview_lists_every_market_live(web: Watched) -> None:
    page = web.page
    info = httpx.get(f"{web.base}/api/v3/exchangeInfo", timeout=10).json()
    page.goto("/")
    markets = page.get_by_role("table", name="Markets")
    for symbol in info["symbols"]:
        name = f"{symbol['baseAsset']}/{symbol['quoteAsset']}"
        line = row(markets, name)
        expect(line.get_by_role("link", name=name)).to_be_visible()
        expect(line).to_contain_text(re.compile(r"[+-]?\d+\.\d\d%"))
        expect(line).to_contain_text(f" {symbol['baseAsset']}")
    btc = row(markets, "BTC/USDT")
    ticker = httpx.get(f"{web.base}/api/v3/ticker/24hr", params={"symbol": "BTCUSDT"}, timeout=10).json()
    assert ticker["lastPrice"]
    expect(btc).to_contain_text(re.compile(r"\d{1,3}(,\d{3})*\.\d\d"))
    spark = page.get_by_role("img", name="BTCUSDT price over 24 hours")
    expect(spark.locator("polyline")).to_have_count(1, timeout=SPARKLINE_WITHIN_MS)
    assert shown(ticker["lastPrice"], 2)  # the format the page uses is defined for this price

    web.screenshot("markets-page.png")
    page.set_viewport_size(PHONE)
    expect(btc.get_by_role("link", name="BTC/USDT")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"
    table_width, box_width = markets.evaluate("t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert table_width <= box_width, f"the markets table needs {table_width} px of {box_width}"
    web.screenshot("markets-page-phone.png")

    btc.get_by_role("link", name="BTC/USDT").click()
    expect(page).to_have_url(re.compile(r"/trade/BTCUSDT$"))
    expect(page.get_by_role("combobox", name="Market")).to_have_value("BTCUSDT")
    expect(page.get_by_role("main").get_by_role("link", name="Log in")).to_be_visible()
    assert web.problems() == []
