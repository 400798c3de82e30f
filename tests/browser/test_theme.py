"""The light theme: it follows the system's prefers-color-scheme, the header's Theme choice
overrides it and is remembered, the chart takes the theme's colours, and text stays readable.
(Every page in both themes at every size: test_screenshots.py.)"""

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import DESKTOP, watch
from tests.browser.pages import contrast_ratio, luminance
from tests.launched import Launched


def contrast(page: Page, selector: str, background: str) -> float:
    fg, bg = page.evaluate(
        "([s, b]) => [getComputedStyle(document.querySelector(s)).color,"
        " getComputedStyle(document.querySelector(b)).backgroundColor]",
        [selector, background],
    )
    return contrast_ratio(fg, bg)


def background(page: Page) -> float:
    return luminance(page.evaluate("getComputedStyle(document.body.parentElement).backgroundColor"))


def test_the_theme_follows_the_system_and_the_choice(browser: Browser, exchange: Launched) -> None:
    web = watch(browser, exchange.field("Web page"), DESKTOP, color_scheme="light")
    page = web.page
    page.goto("/trade/BTCUSDT")
    expect(page.get_by_role("group", name="Bids").get_by_role("button").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert background(page) > 0.8
    theme = page.get_by_role("combobox", name="Theme")
    expect(theme).to_have_value("system")
    for selector in (".ticker dt", ".book-head span", ".level.bid .price", ".level.ask .price"):
        assert contrast(page, selector, ".card") >= 4.5, selector
    assert contrast(page, "a.button", "a.button") >= 4.5
    web.screenshot("theme-light-trade.png")

    theme.select_option(label="Dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(page) < 0.05
    page.reload()
    expect(page.get_by_role("combobox", name="Theme")).to_have_value("dark")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    for selector in (".ticker dt", ".book-head span", ".level.bid .price", ".level.ask .price"):
        assert contrast(page, selector, ".card") >= 4.5, selector
    web.screenshot("theme-dark-trade.png")
    page.get_by_role("combobox", name="Theme").select_option(label="System theme")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert web.problems() == []
    page.context.close()
