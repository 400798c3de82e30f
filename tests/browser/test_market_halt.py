"""A market halted by an admin, on its trade page: a banner with the admin's reason, the order
form closed with a note saying why (the open orders can still be cancelled); after resume the
banner goes and the form works again. The halt goes through the admin API of the running stack."""

import re
from decimal import ROUND_DOWN, Decimal

import httpx
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_TOKEN, Watched
from tests.browser.pages import best_level, new_email, place_order, sign_up

SYMBOL = "SOLUSDT"


def admin(base: str, action: str, **body: str) -> None:
    r = httpx.post(
        f"{base}/admin/v1/markets/{SYMBOL}/{action}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        json=body or None,
        timeout=30,
    )
    assert r.status_code == 200, r.text


def test_a_halted_market_closes_the_order_form_until_resume(web: Watched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto(f"/trade/{SYMBOL}")
    bid, _ = best_level(page, "Bid")
    low = (Decimal(bid) * Decimal("0.8")).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    place_order(
        page.request,
        symbol=SYMBOL,
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        price=str(low),
        quantity="0.1",
    )
    open_orders = page.get_by_role("table", name="Open orders")
    expect(open_orders.get_by_role("button", name=re.compile(r"^Cancel order \d+$"))).to_have_count(1)
    submit = page.get_by_role("button", name="Buy SOL")
    banner = page.get_by_role("alert").filter(has_text="Trading in SOL/USDT")
    expect(submit).to_be_enabled()
    expect(banner).to_have_count(0)

    admin(web.base, "halt", reason="Scheduled maintenance")
    try:
        expect(banner).to_have_text(
            "Trading in SOL/USDT is halted: Scheduled maintenance. New orders are not accepted;"
            " open orders can still be cancelled."
        )
        expect(submit).to_be_disabled()
        expect(page.get_by_label("Amount (SOL)")).to_be_disabled()
        expect(page.get_by_role("status").filter(has_text="Order entry is closed")).to_be_visible()
        web.screenshot("trade-halted.png")
        # Cancels still work while the market is halted.
        open_orders.get_by_role("button", name=re.compile(r"^Cancel order \d+$")).click()
        expect(open_orders).to_contain_text("No open orders.")
    finally:
        admin(web.base, "resume")
    expect(banner).to_have_count(0)
    expect(submit).to_be_enabled()
    expect(page.get_by_label("Amount (SOL)")).to_be_enabled()
    expect(page.get_by_role("status").filter(has_text="Order entry is closed")).to_have_count(0)
    assert web.problems() == []
