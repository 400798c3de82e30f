"""Every page in both themes at 1440x900, 1280x720 and on a 390 px phone, written to
build/artifacts/ as `page-<page>-<theme>-<size>.png`: the markets, log-in and sign-up pages, the
trade page (signed out; signed in with an open order, its order and trade history tabs), the
account page (balances, histories, a new API key with its secret shown) and an unknown page. On
each: the theme asked for, no sideways scrolling and no label cut short."""

import re
from decimal import ROUND_DOWN, Decimal

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.conftest import DESKTOP, PHONE, watch
from tests.browser.pages import best_level, new_email, place_order, sign_up
from tests.launched import Launched

VIEWPORTS = {"1440x900": DESKTOP, "1280x720": {"width": 1280, "height": 720}, "phone": PHONE}

# Visible elements whose text is cut short: text overflowing a box that hides or scrolls it
# sideways (an ellipsis, a clipped word), and selects with an option wider than the select's text
# area (any option may be chosen), and empty inputs with a placeholder wider than their text area.
CUT_SHORT = """() => {
  const ARROW = 18;  // Chromium's drop-down arrow beside a select's text (18-20 px, measured)
  const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== "hidden";
  const named = (e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")}: ${(e.innerText || "").trim().slice(0, 40)}`;
  const found = [];
  for (const e of document.body.querySelectorAll("*")) {
    if (!visible(e) || e.closest(".sr-only, .tv-lightweight-charts, svg")) continue;
    const style = getComputedStyle(e);
    const hides = style.overflowX !== "visible";
    const text = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (hides && text && e.scrollWidth > e.clientWidth + 1) found.push(named(e));
    if (e.tagName === "INPUT" && e.placeholder && !e.value) {
      const canvas = document.createElement("canvas").getContext("2d");
      canvas.font = style.font;
      const room = e.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const need = canvas.measureText(e.placeholder).width;
      if (need > room) found.push(`input ${e.name}: placeholder ${e.placeholder} (${Math.round(need)} > ${Math.round(room)} px)`);
    }
    if (e.tagName === "SELECT") {
      const canvas = document.createElement("canvas").getContext("2d");
      canvas.font = style.font;
      const room = e.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - ARROW;
      for (const option of e.options) {
        const need = canvas.measureText(option.text).width;
        if (need > room) found.push(`select ${e.name || e.ariaLabel}: ${option.text} (${Math.round(need)} > ${Math.round(room)} px)`);
      }
    }
  }
  return found;
}"""


# The chart's canvases: every text drawn, and each one drawn (partly) outside its canvas (where
# the canvas cuts it), found by wrapping fillText before the page's scripts run.
RECORD_CHART_TEXT = """
window.chartText = new Set();
window.chartTextCut = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
  if (this.canvas.isConnected && this.canvas.closest(".chart-box")) {
    const m = this.measureText(text);
    const t = this.getTransform();
    const left = t.a * (x - m.actualBoundingBoxLeft) + t.e;
    const right = t.a * (x + m.actualBoundingBoxRight) + t.e;
    const top = t.d * (y - m.actualBoundingBoxAscent) + t.f;
    const bottom = t.d * (y + m.actualBoundingBoxDescent) + t.f;
    window.chartText.add(String(text));
    if (left < -0.5 || top < -0.5 || right > this.canvas.width + 0.5 || bottom > this.canvas.height + 0.5) {
      window.chartTextCut.push(`${text} at ${Math.round(left)}..${Math.round(right)} x ${Math.round(top)}..${Math.round(bottom)}`
        + ` of ${this.canvas.width} x ${this.canvas.height}`);
    }
  }
  return fillText.call(this, text, x, y, ...rest);
};
"""
GROUPED_PRICE = re.compile(r"^\d{1,3}(,\d{3})+\.\d{2}$")  # BTC/USDT's axis: "65,100.00"
UNGROUPED = re.compile(r"^\d{4,}(\.\d+)?$")
CLOCK = re.compile(r"^\d{2}:\d{2}$")


def chart_faults(page: Page) -> list[str]:
    """On the BTC/USDT trade page, once its chart has drawn prices and times: texts the chart's
    canvases cut, and prices drawn without thousands separators."""
    expect(page.get_by_role("status", name="Candle")).not_to_be_empty()
    page.wait_for_function(
        "[...window.chartText].some(t => /^\\d{2}:\\d{2}$/.test(t))"
        " && [...window.chartText].some(t => /,\\d{3}\\./.test(t))"
    )
    drawn: list[str] = page.evaluate("[...window.chartText]")
    assert any(GROUPED_PRICE.match(t) for t in drawn) and any(CLOCK.match(t) for t in drawn), drawn
    cut: list[str] = page.evaluate("window.chartTextCut.splice(0)")
    return [f"chart cuts {c}" for c in cut] + [f"chart price {t} ungrouped" for t in drawn if UNGROUPED.match(t)]


def faults(page: Page, ready: Locator, scheme: str, viewport: dict[str, int]) -> list[str]:
    """Once `ready` is shown in `scheme` and nothing is loading: the page's width when wider than
    the window, and the labels cut short ([] when the page is whole)."""
    expect(ready).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-theme", scheme)
    expect(page.locator("[aria-busy=true]")).to_have_count(0)
    width: int = page.evaluate("document.documentElement.scrollWidth")
    cut: list[str] = page.evaluate(CUT_SHORT)
    return ([f"{width} px wide"] if width > viewport["width"] else []) + cut


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_page_in_both_themes(browser: Browser, exchange: Launched, size: str) -> None:
    viewport = VIEWPORTS[size]
    found: dict[str, list[str]] = {}
    for scheme in ("light", "dark"):
        web = watch(browser, exchange.field("Web page"), viewport, color_scheme=scheme)
        page = web.page
        page.add_init_script(RECORD_CHART_TEXT)

        def shot(name: str, ready: Locator) -> None:
            found[f"{name} {scheme}"] = faults(page, ready, scheme, viewport)
            if name.startswith("trade"):
                found[f"{name} {scheme}"] += chart_faults(page)
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
        place_order(
            page.request,
            symbol="BTCUSDT",
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            price=str(far),
            quantity="0.00100",
        )
        shot("trade", page.get_by_role("tab", name="Open orders (1)"))
        for tab in ("Order history", "Trade history"):
            page.get_by_role("tab", name=tab).click()
            shot(f"trade-{tab.lower().replace(' ', '-')}", page.get_by_role("table", name=tab))

        page.goto("/account")
        form = page.get_by_role("form", name="Create API key")
        form.get_by_label("Key label").fill("screenshots")
        form.get_by_role("button", name="Create API key").click()
        shot("account", page.get_by_role("region", name="New API key"))
        assert web.problems() == []
        page.context.close()
    bad = [f"{page}: {cut}" for page, cut in found.items() if cut]
    assert bad == [], "\n".join(bad)
