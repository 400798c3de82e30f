"""The page stays live when the WebSocket tier dies: it says it is reconnecting, reconnects to the
restarted tier, and catches up from REST with what happened meanwhile (an order placed while
the tier was down shows in open orders, without a reload)."""

import os
import re
import signal
import time
from decimal import ROUND_DOWN, Decimal

from playwright.sync_api import expect

from tests.browser.conftest import Watched
from tests.browser.pages import best_level, new_email, place_order, row, shown, sign_up
from tests.launched import Launched

RECORD_STATES = """() => {
  const status = document.querySelector('[role="status"][aria-label="Connection"]');
  window.connectionStates = [status.textContent];
  new MutationObserver(() => window.connectionStates.push(status.textContent))
    .observe(status, { childList: true, characterData: true, subtree: true });
}"""


def test_the_page_reconnects_and_resyncs_from_rest(web: Watched, exchange: Launched) -> None:
    page = web.page
    page.goto("/")
    sign_up(page, new_email())
    page.goto("/trade/BTCUSDT")
    status = page.get_by_role("status", name="Connection")
    expect(status).to_have_text("Live")
    bid, _ = best_level(page, "Bid")
    open_orders = page.get_by_role("table", name="Open orders")
    expect(open_orders).to_contain_text("No open orders.")
    page.evaluate(RECORD_STATES)

    ws_pid = exchange.pids()["ws"]
    os.kill(ws_pid, signal.SIGKILL)
    price = str((Decimal(bid) * Decimal("0.97")).quantize(Decimal("0.01"), rounding=ROUND_DOWN))
    place_order(
        page.request,
        symbol="BTCUSDT",
        side="BUY",
        type="LIMIT",
        timeInForce="GTC",
        quantity="0.00100",
        price=price,
    )
    deadline = time.monotonic() + 20
    while exchange.pids().get("ws") == ws_pid:
        assert time.monotonic() < deadline, "the launcher did not restart the WebSocket tier"
        time.sleep(0.2)

    expect(status).to_have_text("Live", timeout=20_000)
    states = page.evaluate("window.connectionStates")
    assert "Reconnecting…" in states, states
    expect(row(open_orders, shown(price, 2))).to_have_count(1, timeout=10_000)

    # Live again: a trade after the reconnection reaches the recent trades table.
    recent = page.get_by_role("table", name="Recent trades")
    first = recent.get_by_role("row").nth(1)
    before = first.inner_text()
    expect(first).not_to_have_text(before, timeout=30_000)
    assert web.problems(allowed=("WebSocket connection to",)) == []
    assert re.search(r"\d", before)
