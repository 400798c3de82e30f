"""OCO lists and amend from the web page: an OCO placed through the order form (checked in the
page first, the API's refusals shown as other order errors) rests as two open orders tagged as
one list; when another user's sell fills its limit member, the stop member expires. "Cancel
list" cancels both members, and so does cancelling one member (as Binance). Amend lowers an
open order's amount keeping its id (its place in the queue)."""

import re
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, Watched, watch
from tests.browser.pages import CSRF, another_trader, best_level, new_email, place_order, row, sign_up
from tests.browser.test_trade_features import sell_down_to
from tests.launched import Launched

REFUSED_BY_THE_API = ("status of 400",)  # Chromium logs each refused request as a console error
CENT = Decimal("0.01")


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_DOWN)


def fill_oco(page: Page, limit: Decimal | str, stop: Decimal, stop_limit: Decimal, amount: str) -> None:
    page.get_by_label("Order type").select_option(label="OCO (one cancels the other)")
    page.get_by_role("textbox", name="Price (USDT)", exact=True).fill(str(limit))
    page.get_by_role("textbox", name="Stop price (USDT)").fill(str(stop))
    page.get_by_role("textbox", name="Stop-limit price (USDT)").fill(str(stop_limit))
    page.get_by_label("Amount (BTC)").fill(amount)


def placed_list_id(page: Page) -> int:
    """The id of the list the form just placed, from its "OCO placed (list N)" sentence."""
    placed = page.get_by_role("status").filter(has_text="OCO placed")
    expect(placed).to_be_visible()
    found = re.search(r"list (\d+)", placed.inner_text())
    assert found, placed.inner_text()
    return int(found.group(1))


def list_members(page: Page, list_id: int) -> dict[str, dict[str, object]]:
    """The list's member orders as the API answers them, by type."""
    answer = page.request.get(f"/api/v3/orderList?symbol=BTCUSDT&orderListId={list_id}")
    assert answer.ok, answer.text()
    members = {}
    for member in answer.json()["orders"]:
        order = page.request.get(f"/api/v3/order?symbol=BTCUSDT&orderId={member['orderId']}").json()
        assert order["orderListId"] == list_id, order
        members[order["type"]] = order
    return members


def test_an_oco_from_the_form_rests_as_one_list_and_its_stop_expires_when_the_limit_fills(
    web: Watched, browser: Browser
) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    expect(page.get_by_role("status", name="Connection")).to_have_text("Live")
    alert = page.get_by_role("alert").filter(has_text=re.compile("."))
    bid, _ = best_level(page, "Bid")
    ask, _ = best_level(page, "Ask")
    # A buy OCO: the post-only limit a little under the best bid (out of reach of the market
    # simulation's small trades until another user sells down to it), the stop well above.
    mine = cents(Decimal(bid) * Decimal("0.998"))
    stop, stop_limit = cents(Decimal(ask) * Decimal("1.05")), cents(Decimal(ask) * Decimal("1.06"))

    # Checked in the page: a buy's limit below its stop.
    fill_oco(page, stop_limit, stop, stop_limit, "0.00100")
    page.get_by_role("button", name="Buy BTC").click()
    expect(alert).to_have_text("For a buy OCO, the limit price must be below the stop price.")
    # Refused by the API (a price off the tick grid): its sentence, said in words.
    fill_oco(page, f"{mine}5", stop, stop_limit, "0.00100")
    page.get_by_role("button", name="Buy BTC").click()
    expect(alert).to_have_text("Price not allowed: it must be a multiple of 0.01 USDT.")
    assert len(web.console_errors) == 1, web.console_errors  # the page's own check sent nothing

    fill_oco(page, mine, stop, stop_limit, "0.00100")
    # A buy OCO reserves for its dearer member: the total is at the stop-limit price.
    dearer = (stop_limit * Decimal("0.001")).quantize(CENT, rounding=ROUND_HALF_UP)
    expect(page.get_by_label("Total (USDT)")).to_have_value(str(dearer))
    page.get_by_role("button", name="Buy BTC").click()
    list_id = placed_list_id(page)
    expect(alert).to_have_count(0)
    open_orders = page.get_by_role("table", name="Open orders")
    expect(page.get_by_role("tab", name="Open orders (2)")).to_be_visible()
    tagged = row(open_orders, "OCO")
    expect(tagged).to_have_count(2)
    expect(tagged.filter(has_text="Post-only")).to_have_count(1)
    expect(tagged.filter(has_text="Stop limit")).to_have_count(1)
    expect(page.get_by_role("button", name=f"Cancel order list {list_id}")).to_have_count(2)
    web.screenshot("trade-oco.png")

    # Another user's sells fill the limit member: the stop member expires, the list is done.
    other = another_trader(browser, web.base)
    sell_down_to(other, mine, page.get_by_role("tab", name="Open orders (0)"))
    other.close()
    members = list_members(page, list_id)
    assert members["LIMIT_MAKER"]["status"] == "FILLED", members
    assert members["STOP_LOSS_LIMIT"]["status"] == "EXPIRED", members
    done = page.request.get(f"/api/v3/orderList?symbol=BTCUSDT&orderListId={list_id}").json()
    assert done["listOrderStatus"] == "ALL_DONE", done
    page.get_by_role("tab", name="Order history").click()
    history = page.get_by_role("table", name="Order history")
    expect(row(history, "Stop limit").filter(has_text="Expired")).to_have_count(1)
    assert web.problems(allowed=REFUSED_BY_THE_API) == []


def test_cancel_list_cancel_a_member_and_amend_keeping_the_order_id(web: Watched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    bid, _ = best_level(page, "Bid")
    ask, _ = best_level(page, "Ask")
    page.get_by_role("button", name="Sell", exact=True).click()
    # A sell OCO: take the profit well above the market, stop the loss well below.
    limit = cents(Decimal(ask) * Decimal("1.05"))
    stop, stop_limit = cents(Decimal(bid) * Decimal("0.95")), cents(Decimal(bid) * Decimal("0.94"))
    open_tab = page.get_by_role("tab", name=re.compile(r"^Open orders"))

    # "Cancel list": DELETE orderList, both members go.
    fill_oco(page, limit, stop, stop_limit, "0.00100")
    page.get_by_role("button", name="Sell BTC").click()
    first = placed_list_id(page)
    expect(open_tab).to_have_text("Open orders (2)")
    page.get_by_role("button", name=f"Cancel order list {first}").first.click()
    expect(open_tab).to_have_text("Open orders (0)")
    assert {o["status"] for o in list_members(page, first).values()} == {"CANCELED"}

    # Cancelling one member cancels the list.
    fill_oco(page, limit, stop, stop_limit, "0.00100")
    page.get_by_role("button", name="Sell BTC").click()
    second = placed_list_id(page)
    assert second != first
    expect(open_tab).to_have_text("Open orders (2)")
    stop_member = list_members(page, second)["STOP_LOSS_LIMIT"]
    page.get_by_role("button", name=f"Cancel order {stop_member['orderId']}", exact=True).click()
    expect(open_tab).to_have_text("Open orders (0)")
    assert {o["status"] for o in list_members(page, second).values()} == {"CANCELED"}

    # Amend: a resting buy's amount lowered from 0.00300 to 0.00100, same order id.
    far = cents(Decimal(bid) / 2)
    placed = place_order(
        page.request,
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        price=str(far),
        quantity="0.00300",
    )
    order_id = placed["orderId"]
    resting = row(page.get_by_role("table", name="Open orders"), "Limit")
    expect(resting).to_contain_text("0.00300")
    page.get_by_role("button", name=f"Amend order {order_id}", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Amend order {order_id}")
    expect(dialog).to_be_visible()
    new_amount = dialog.get_by_role("textbox", name="New amount (BTC)")
    dialog_alert = dialog.get_by_role("alert")
    new_amount.fill("0.00300")  # checked in the page: amend only lowers
    dialog.get_by_role("button", name="Amend", exact=True).click()
    expect(dialog_alert).to_have_text(
        "The new amount must be below the order's amount (amend only lowers it)."
    )
    new_amount.fill("0.001005")  # off the step: the API's LOT_SIZE refusal, in words
    dialog.get_by_role("button", name="Amend", exact=True).click()
    expect(dialog_alert).to_have_text("Amount not allowed: at least 0.00001 BTC, in steps of 0.00001 BTC.")
    web.screenshot("trade-amend.png")
    new_amount.fill("0.00100")
    dialog.get_by_role("button", name="Amend", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(resting).to_contain_text("0.00100")
    expect(resting).not_to_contain_text("0.00300")
    expect(resting.get_by_role("button", name=f"Cancel order {order_id}", exact=True)).to_be_visible()
    amended = page.request.get(f"/api/v3/order?symbol=BTCUSDT&orderId={order_id}").json()
    kept = (amended["orderId"], amended["origQty"], amended["status"])
    assert kept == (order_id, "0.00100000", "NEW"), amended
    assert amended["time"] == placed["transactTime"], (amended, placed)  # still the order placed then
    assert web.problems(allowed=REFUSED_BY_THE_API) == []
    assert len(web.console_errors) == 1, web.console_errors  # the one LOT_SIZE refusal


def test_list_members_as_cards_on_a_phone(browser: Browser, exchange: Launched) -> None:
    web = watch(browser, exchange.field("Web page"), PHONE)
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    bid, _ = best_level(page, "Bid")
    ask, _ = best_level(page, "Ask")
    placed = page.request.post(
        "/api/v3/orderList/oco",
        form={
            "symbol": "BTCUSDT",
            "side": "SELL",
            "quantity": "0.00100",
            "aboveType": "LIMIT_MAKER",
            "abovePrice": str(cents(Decimal(ask) * Decimal("1.05"))),
            "belowType": "STOP_LOSS_LIMIT",
            "belowStopPrice": str(cents(Decimal(bid) * Decimal("0.95"))),
            "belowPrice": str(cents(Decimal(bid) * Decimal("0.94"))),
            "belowTimeInForce": "GTC",
        },
        headers=CSRF,
    )
    assert placed.ok, placed.text()
    list_id = placed.json()["orderListId"]
    cards = page.get_by_role("table", name="Open orders")
    expect(row(cards, "OCO")).to_have_count(2)
    cancel_list = page.get_by_role("button", name=f"Cancel order list {list_id}")
    expect(cancel_list).to_have_count(2)
    for button in cancel_list.all():
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    web.screenshot("trade-oco-phone.png")
    cancel_list.first.click()
    expect(cards).to_contain_text("No open orders.")
    assert web.problems() == []
    page.context.close()
