"""Steps a person takes on the web page, written with Playwright locators by role and name."""

import re
import uuid
from decimal import ROUND_DOWN, Decimal

from playwright.sync_api import APIRequestContext, Browser, BrowserContext, Locator, Page, expect

PASSWORD = "correct-horse-battery"
CSRF = {"X-Requested-With": "exchange-web"}  # what the page sends with its session cookie


def new_email() -> str:
    return f"web-{uuid.uuid4().hex[:12]}@example.com"


def sign_up(page: Page, email: str, password: str = PASSWORD) -> None:
    """From any page: the header's Sign up link, the form, and the account page after it."""
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Account")).to_be_visible()


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Account")).to_be_visible()


def place_order(request: APIRequestContext, **params: str) -> dict[str, object]:
    """An order placed over REST with the session of `request` (as the page places it); the
    answer, which must be a success."""
    answer = request.post("/api/v3/order", form=params, headers=CSRF)
    assert answer.ok, answer.text()
    placed: dict[str, object] = answer.json()
    return placed


def another_trader(browser: Browser, base: str) -> BrowserContext:
    """A fresh browser context logged in as a newly signed-up user (close it when done)."""
    other = browser.new_context(base_url=base)
    signed = other.request.post(
        "/api/web/signup", data={"email": new_email(), "password": PASSWORD}, headers=CSRF
    )
    assert signed.ok, signed.text()
    return other


def row(table: Locator, text: str) -> Locator:
    """The table's row(s) containing `text`."""
    return table.get_by_role("row").filter(has_text=text)


def group_thousands(value: Decimal, decimals: int) -> str:
    """How the page shows a number: cut to `decimals` digits, thousands grouped."""
    fixed = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)
    return f"{fixed:,.{decimals}f}"


def shown(value: str, decimals: int) -> str:
    return group_thousands(Decimal(value), decimals)


# A book level's shown [price, amount, total]; its accessible name reads
# "Bid 64,967.50 0.00124 BTC, total 0.00124".
LEVEL_VALUES = (
    "b => [...b.querySelectorAll(':scope > span:not(.sr-only)')].map(s => s.firstChild.textContent)"
)


def best_level(page: Page, side: str) -> tuple[str, str]:
    """(price, amount) of the best bid ("Bid") or ask ("Ask") in the order book, as shown."""
    group = page.get_by_role("group", name="Bids" if side == "Bid" else "Asks")
    levels = group.get_by_role("button", name=re.compile(rf"^{side} "))
    expect(levels.first).to_be_visible()
    best = levels.first if side == "Bid" else levels.last
    price, amount, _ = best.evaluate(LEVEL_VALUES)
    return price.replace(",", ""), amount.replace(",", "")


CONTROL_ROLES = "button|link|textbox|combobox|tab|checkbox|radio|spinbutton|slider|switch|option"
_UNNAMED = re.compile(rf"^\s*- ({CONTROL_ROLES})( \[[^\]]*\])*:?\s*$")


def unnamed_controls(page: Page) -> list[str]:
    """Lines of the page's accessibility tree (Playwright's ARIA snapshot) naming a control
    without an accessible name; [] when every control has one."""
    snapshot = page.locator("body").aria_snapshot()
    return [line for line in snapshot.splitlines() if _UNNAMED.match(line)]


def luminance(css: str) -> float:
    """WCAG relative luminance of a CSS "rgb(r, g, b)" colour."""
    channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS colours (1 to 21)."""
    a, b = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)
