"""A user can never see, cancel or spend another user's orders or funds, on any endpoint."""

import pytest

from launcher.stack import Stack
from tests.client import ApiFailure, AsyncTrader, Trader, sign_up

SYMBOL = "BTCUSDT"


@pytest.fixture(scope="module")
def pair(stack: Stack) -> tuple[Trader, Trader, dict[str, object]]:
    """Alice with a resting order and a fill against Bob; returns (alice, mallory, alice's order)."""
    alice, bob, mallory = sign_up(stack.url), sign_up(stack.url), sign_up(stack.url)
    order = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                       price="40000", quantity="0.02", newClientOrderId="alice-secret")  # fmt: skip
    bob.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="IOC",
             price="40000", quantity="0.01")  # fmt: skip
    return alice, mallory, order


def code_of(trader: Trader, method: str, path: str, **params: object) -> int | None:
    with pytest.raises(ApiFailure) as err:
        trader.call(method, path, **params)
    return err.value.code


def test_cannot_query_another_users_order(pair: tuple[Trader, Trader, dict[str, object]]) -> None:
    alice, mallory, order = pair
    assert code_of(mallory, "GET", "/api/v3/order", symbol=SYMBOL, orderId=order["orderId"]) == -2013
    assert code_of(mallory, "GET", "/api/v3/order", symbol=SYMBOL, origClientOrderId="alice-secret") == -2013
    assert (
        alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=order["orderId"])["status"]
        == "PARTIALLY_FILLED"
    )


def test_cannot_cancel_another_users_order(pair: tuple[Trader, Trader, dict[str, object]]) -> None:
    alice, mallory, order = pair
    assert code_of(mallory, "DELETE", "/api/v3/order", symbol=SYMBOL, orderId=order["orderId"]) == -2011
    assert (
        code_of(mallory, "DELETE", "/api/v3/order", symbol=SYMBOL, origClientOrderId="alice-secret") == -2011
    )
    assert code_of(mallory, "DELETE", "/api/v3/openOrders", symbol=SYMBOL) == -2011
    open_orders = alice.call("GET", "/api/v3/openOrders", symbol=SYMBOL)
    assert [o["orderId"] for o in open_orders] == [order["orderId"]]


def test_lists_show_only_ones_own(pair: tuple[Trader, Trader, dict[str, object]]) -> None:
    alice, mallory, order = pair
    assert mallory.call("GET", "/api/v3/openOrders") == []
    assert mallory.call("GET", "/api/v3/allOrders", symbol=SYMBOL) == []
    assert mallory.call("GET", "/api/v3/myTrades", symbol=SYMBOL) == []
    assert [t["orderId"] for t in alice.call("GET", "/api/v3/myTrades", symbol=SYMBOL)] == [order["orderId"]]


def test_cannot_spend_another_users_funds(pair: tuple[Trader, Trader, dict[str, object]]) -> None:
    alice, mallory, _ = pair
    mallory_balances = mallory.balances()
    assert mallory_balances["USDT"] == ("10000.00000000", "0.00000000")
    assert mallory_balances["BTC"] == ("0.50000000", "0.00000000")
    # Alice holds 10,399.6 USDT; Mallory cannot buy 0.3 BTC (12,000 USDT) with her 10,000
    big = {
        "symbol": SYMBOL,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": "40000",
        "quantity": "0.3",
    }
    assert code_of(mallory, "POST", "/api/v3/order", **big) == -2010
    assert mallory.balances() == mallory_balances
    assert alice.balances()["USDT"] == ("10399.60000000", "0.00000000")


def test_web_session_of_one_user_is_not_another(
    stack: Stack, pair: tuple[Trader, Trader, dict[str, object]]
) -> None:
    import httpx

    alice, _, order = pair
    web = httpx.Client(base_url=stack.url)
    r = web.post(
        "/api/web/signup", json={"email": "eve-isolation@example.com", "password": "correct horse battery"}
    )
    assert r.status_code == 200
    r = web.get("/api/v3/order", params={"symbol": SYMBOL, "orderId": order["orderId"]})
    assert r.json()["code"] == -2013
    assert (
        alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=order["orderId"])["orderId"]
        == order["orderId"]
    )


def test_concurrent_cancels_sharing_a_client_id_each_get_their_own_answer(stack: Stack) -> None:
    """The engine's answer to a cancel is awaited under a key of its own (the user and a number
    unique per request): neither the owner's second cancel with the same newClientOrderId nor
    another user naming the same order id takes the owner's answer (which would end in 503 -1007)."""
    import asyncio

    import httpx

    alice, mallory = sign_up(stack.url), sign_up(stack.url)
    order = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                       price="20000", quantity="0.001")  # fmt: skip
    alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
               price="20000", quantity="0.001")  # fmt: skip

    async def race() -> list[tuple[int, object]]:
        async with httpx.AsyncClient(timeout=30) as http:
            mine, theirs = AsyncTrader.of(alice, http), AsyncTrader.of(mallory, http)
            cancel = {"symbol": SYMBOL, "orderId": order["orderId"], "newClientOrderId": "shared-cancel"}
            return await asyncio.gather(
                mine.call("DELETE", "/api/v3/order", **cancel),
                mine.call("DELETE", "/api/v3/order", **cancel),
                theirs.call("DELETE", "/api/v3/order", **cancel),
                mine.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL),
                mine.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL),
            )

    answers = asyncio.run(race())
    statuses = [status for status, _ in answers]
    assert 503 not in statuses, answers
    codes = [body.get("code") if isinstance(body, dict) else None for _, body in answers]
    assert statuses[2] == 400 and codes[2] == -2011  # Mallory's cancel of Alice's order is refused
    # Alice's two orders are cancelled once each, by whichever of her requests came first.
    cancelled = [o["orderId"] for s, b in answers[3:] if s == 200 for o in b]  # type: ignore[union-attr]
    cancelled += [b["orderId"] for s, b in answers[:2] if s == 200]  # type: ignore[index]
    assert len(cancelled) == 2 and len(set(cancelled)) == 2, answers
    assert all(s == 200 or c == -2011 for s, c in zip(statuses, codes, strict=True)), answers
    assert alice.call("GET", "/api/v3/openOrders", symbol=SYMBOL) == []
