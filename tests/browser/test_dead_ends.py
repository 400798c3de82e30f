"""No dead ends: a page that could not start offers to try again; with the REST API and the
WebSocket tier unreachable, the market panels say so (and recover by themselves); while the live
feed is down, the order book and recent trades are marked as not live."""

import re

from playwright.sync_api import Route, WebSocketRoute, expect

from tests.browser.conftest import Watched

MARKET_DATA = re.compile(r"/api/v3/(depth|trades|klines)\?")


def test_a_failed_start_offers_to_try_again(web: Watched) -> None:
    page = web.page
    page.route("**/api/v3/exchangeInfo", lambda route: route.fulfill(status=503, body=""))
    page.goto("/")
    expect(page.get_by_role("alert")).to_contain_text("The exchange answered 503.")
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_focused()
    page.unroute("**/api/v3/exchangeInfo")
    retry.click()
    expect(page.get_by_role("heading", name="Markets")).to_be_visible()
    assert web.problems(allowed=("status of 503",)) == []


def test_unreachable_market_data_is_said_in_the_panels(web: Watched) -> None:
    page = web.page
    down = {"rest": True, "ws": True}

    def rest(route: Route) -> None:
        if down["rest"]:
            route.abort()
        else:
            route.continue_()

    def socket(ws: WebSocketRoute) -> None:
        if down["ws"]:
            ws.close()
        else:
            ws.connect_to_server()

    page.route(MARKET_DATA, rest)
    page.route_web_socket(re.compile(r"/stream"), socket)
    page.goto("/trade/BTCUSDT")
    book = page.get_by_role("region", name="Order book")
    trades = page.get_by_role("region", name="Recent trades")
    chart = page.get_by_role("region", name="Price chart")
    expect(book.get_by_role("status")).to_have_text("The order book could not be loaded; trying again…")
    expect(trades.get_by_role("status")).to_have_text("Recent trades could not be loaded; trying again…")
    expect(chart.get_by_role("status").filter(has_text="could not")).to_have_text(
        "The chart could not be loaded; trying again…"
    )
    expect(page.get_by_role("status", name="Connection")).to_have_text("Reconnecting…")
    web.screenshot("trade-unreachable.png")

    # REST back, the feed still down: data, marked as not live.
    down["rest"] = False
    expect(book.get_by_role("status")).to_have_text("Not live: reconnecting…", timeout=10_000)
    expect(trades.get_by_role("status")).to_have_text("Not live: reconnecting…")
    expect(book).to_have_class(re.compile(r"\bstale\b"))
    expect(page.get_by_role("group", name="Bids").get_by_role("button").first).to_be_visible()
    web.screenshot("trade-stale.png")

    # The feed back: live, the marks gone.
    down["ws"] = False
    expect(page.get_by_role("status", name="Connection")).to_have_text("Live", timeout=20_000)
    expect(book).not_to_have_class(re.compile(r"\bstale\b"))
    expect(book.get_by_role("status")).to_be_hidden()
    expect(trades.get_by_role("status")).to_be_hidden()
    assert web.problems(allowed=("net::ERR_FAILED", "WebSocket connection to")) == []
