"""Every page in both themes at 1440x900, 1280x720 and on a 390 px phone, written to
build/artifacts/ as `page-<page>-<theme>-<size>.png`: the markets, log-in and sign-up pages, the
trade page (signed out; signed in with an open order, its order and trade history tabs), the
account page (balances, histories, a new API key with its secret shown) and an unknown page. On
each: the theme asked for, no sideways scrolling, no label cut short (scripts/cut_short.js); on
the trade pages the chart's axis labels whole and its prices with thousands separators."""

import re
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, Watched, watch
from tests.browser.pages import best_level, new_email, place_order, sign_up
from tests.launched import Launched

VIEWPORTS = {"1440x900": DESKTOP, "1280x720": {"width": 1280, "height": 720}, "phone": PHONE}
SCRIPTS = Path(__file__).parent / "scripts"
CUT_SHORT = (SCRIPTS / "cut_short.js").read_text()
GROUPED_PRICE = re.compile(r"^\d{1,3}(,\d{3})+\.\d{2}$")  # BTC/USDT's price axis: "65,100.00"
UNGROUPED = re.compile(r"^\d{4,}(\.\d+)?$")
CLOCK = re.compile(r"^\d{2}:\d{2}$")  # a time label of the 1m chart


def faults(page: Page, ready: Locator, scheme: str, viewport: dict[str, int]) -> list[str]:
    """Once `ready` is shown in `scheme` and nothing is loading: the page's width when wider than
    the window, and the labels cut short ([] when the page is whole)."""
    expect(ready).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-theme", scheme)
    expect(page.locator("[aria-busy=true]")).to_have_count(0)
    width: int = page.evaluate("document.documentElement.scrollWidth")
    cut: list[str] = page.evaluate(CUT_SHORT)
    return ([f"{width} px wide"] if width > viewport["width"] else []) + cut


def chart_faults(page: Page) -> list[str]:
    """On the BTC/USDT trade page, once its chart has drawn prices and times: the texts its
    canvases cut, and prices drawn without thousands separators."""
    page.wait_for_function(
        "[...window.chartText].some(t => /^\\d{2}:\\d{2}$/.test(t))"
        " && [...window.chartText].some(t => /^\\d{1,3}(,\\d{3})+\\.\\d{2}$/.test(t))"
    )
    drawn: list[str] = page.evaluate("[...window.chartText]")
    assert any(GROUPED_PRICE.match(t) for t in drawn) and any(CLOCK.match(t) for t in drawn), drawn
    cut: list[str] = page.evaluate("window.chartTextCut.splice(0)")
    ungrouped = [f"chart price {t} without separators" for t in drawn if UNGROUPED.match(t)]
    return [f"chart cuts {c}" for c in cut] + ungrouped


def every_page(web: Watched, scheme: str, viewport: dict[str, int], size: str) -> dict[str, list[str]]:
    """Visits and photographs every page; what is wrong on each (see `faults`)."""
    page = web.page
    found: dict[str, list[str]] = {}

    def shot(name: str, ready: Locator) -> None:
        found[name] = faults(page, ready, scheme, viewport)
        if name.startswith("trade"):
            found[name] += chart_faults(page)
        web.screenshot(f"page-{name}-{scheme}-{size}.png")

    first_bid = page.get_by_role("group", name="Bids").get_by_role("button").first
    for path, name, ready in (
        ("/", "markets", page.get_by_role("heading", name="Markets")),
        ("/login", "login", page.get_by_role("button", name="Log in")),
        ("/signup", "signup", page.get_by_role("button", name="Sign up")),
        ("/trade/BTCUSDT", "trade-signed-out", first_bid),
        ("/no/such/page", "not-found", page.get_by_role("heading", name="Page not found")),
    ):
        page.goto(path)
        shot(name, ready)

    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    expect(page.get_by_role("status", name="Connection")).to_have_text("Live")
    place_order(page.request, symbol="BTCUSDT", side="BUY", type="MARKET", quantity="0.00050")
    bid, _ = best_level(page, "Bid")
    far = (Decimal(bid) * Decimal("0.9")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    limit = {"symbol": "BTCUSDT", "type": "LIMIT", "timeInForce": "GTC"}
    place_order(page.request, **limit, side="BUY", price=str(far), quantity="0.00100")
    shot("trade", page.get_by_role("tab", name="Open orders (1)"))
    for tab in ("Order history", "Trade history"):
        page.get_by_role("tab", name=tab).click()
        shot(f"trade-{tab.lower().replace(' ', '-')}", page.get_by_role("table", name=tab))

    page.goto("/account")
    form = page.get_by_role("form", name="Create API key")
    form.get_by_label("Key label").fill("screenshots")
    form.get_by_role("button", name="Create API key").click()
    shot("account", page.get_by_role("region", name="New API key"))
    return found


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_page_in_both_themes(browser: Browser, exchange: Launched, size: str) -> None:
    viewport = VIEWPORTS[size]
    bad: list[str] = []
    for scheme in ("light", "dark"):
        web = watch(browser, exchange.field("Web page"), viewport, color_scheme=scheme)
        web.page.add_init_script(path=SCRIPTS / "chart_text.js")
        found = every_page(web, scheme, viewport, size)
        bad += [f"{name} {scheme}: {cut}" for name, cut in found.items() if cut]
        assert web.problems() == []
        web.page.context.close()
    assert bad == [], "\n".join(bad)
