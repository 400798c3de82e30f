"""POST /api/v3/order answers the same through the fast path (API key, no cookie) as through
FastAPI's route (a request carrying any cookie goes there), for accepted and refused orders."""

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from launcher.stack import Stack
from tests.client import Trader, sign_up

SYMBOL = "BTCUSDT"
COOKIE = {"Cookie": "theme=dark"}  # not a session: FastAPI's route holds the request to SIGNED rules


def post(trader: Trader, body: str, query: str = "", headers: dict[str, str] | None = None) -> httpx.Response:
    url = f"{trader.url}/api/v3/order" + (f"?{query}" if query else "")
    sent = {"X-MBX-APIKEY": trader.api_key, "Content-Type": "application/x-www-form-urlencoded"}
    return trader.http.post(url, content=body, headers={**sent, **(headers or {})})


def sign(query: str, secret: str) -> str:
    return f"{query}&signature={hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()}"


def signed(trader: Trader, params: dict[str, str], secret: str | None = None) -> str:
    return sign(urlencode({**params, "timestamp": str(int(time.time() * 1000))}), secret or trader.secret)


def order(**extra: str) -> dict[str, str]:
    return {"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "price": "20000",
            "quantity": "0.001", **extra}  # fmt: skip


@pytest.fixture
def trader(stack: Stack) -> Trader:
    return sign_up(stack.url)


def both(trader: Trader, make_body: Callable[[], str], query: str = "") -> list[tuple[int, Any]]:
    """(status, body) of the same request via the fast path and via FastAPI's route."""
    answers = []
    for headers in ({}, COOKIE):
        response = post(trader, make_body(), query, headers)
        answers.append((response.status_code, response.json()))
    return answers


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("bad_signature", -1022),
        ("no_timestamp", -1102),
        ("stale_timestamp", -1021),
        ("duplicate_parameter", -1101),
        ("unknown_symbol", -1121),
        ("quantity_off_step", -1013),
        ("too_expensive", -2010),
        ("no_signature", -1102),
    ],
)
def test_refusals_are_the_same_on_both_paths(trader: Trader, case: str, code: int) -> None:
    def body() -> str:
        if case == "bad_signature":
            return signed(trader, order(), secret="x" * 64)
        if case == "no_timestamp":
            return sign(urlencode(order()), trader.secret)
        if case == "stale_timestamp":
            return sign(
                urlencode({**order(), "timestamp": str(int(time.time() * 1000) - 60_000)}), trader.secret
            )
        if case == "duplicate_parameter":
            return signed(trader, order()) + "&side=SELL"
        if case == "unknown_symbol":
            return signed(trader, order(symbol="NOPEUSDT"))
        if case == "quantity_off_step":
            return signed(trader, order(quantity="0.0000001"))
        if case == "too_expensive":
            return signed(trader, order(quantity="5"))
        return urlencode({**order(), "timestamp": str(int(time.time() * 1000))})

    fast, routed = both(trader, body)
    assert fast == routed
    assert fast[1]["code"] == code


def test_a_malformed_api_key_is_refused_the_same_way(trader: Trader) -> None:
    answers = []
    for headers in ({"X-MBX-APIKEY": "short"}, {"X-MBX-APIKEY": "short", **COOKIE}):
        response = post(trader, signed(trader, order()), headers=headers)
        answers.append((response.status_code, response.json()))
    assert answers[0] == answers[1] == (401, {"code": -2014, "msg": "API-key format invalid."})


def test_accepted_orders_look_the_same_on_both_paths(trader: Trader) -> None:
    fast, routed = both(trader, lambda: signed(trader, order(newOrderRespType="FULL")))
    assert fast[0] == routed[0] == 200
    volatile = {"orderId", "clientOrderId", "transactTime", "workingTime"}
    strip = [{k: v for k, v in answer[1].items() if k not in volatile} for answer in (fast, routed)]
    assert strip[0] == strip[1]
    assert strip[0]["status"] == "NEW" and strip[0]["price"] == "20000.00000000"


def test_parameters_in_the_query_string_are_signed_with_the_body(trader: Trader) -> None:
    params = urlencode(order())
    body = signed(trader, {})  # timestamp + signature over query + body
    unsigned_body = body.split("&signature=")[0]
    signature = sign(params + unsigned_body, trader.secret).rsplit("=", 1)[1]
    response = post(trader, f"{unsigned_body}&signature={signature}", query=params)
    assert response.status_code == 200, response.text
    assert response.json()["symbol"] == SYMBOL


def test_an_oversized_body_is_refused(trader: Trader) -> None:
    response = post(trader, signed(trader, order()) + "&pad=" + "x" * 70_000)
    assert response.status_code == 413
    assert response.json() == {"code": -1101, "msg": "Request body too large: at most 65536 bytes."}
