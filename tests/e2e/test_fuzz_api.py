"""Property-based fuzzing of every REST endpoint (schemathesis on the gateway's OpenAPI document):
no request, however malformed, gets a server error (5xx), every /api/v3 error is Binance's
{"code", "msg"}, and afterwards the services' logs hold no traceback.

The gateway reads Binance's parameters from the query string and form body itself, so its
OpenAPI document does not declare them; the test adds them here (each a string that is sometimes
a plausible value, so that cases get past the first check, and otherwise anything). SIGNED
requests are signed with a real API key, so that the fuzzing reaches the order path; the web
endpoints are called with a logged-in session of another user.
"""

import asyncio
import hashlib
import hmac
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, assume, example, given, settings
from schemathesis import APIOperation, Case

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import Trader, sign_up
from tests.logcheck import tracebacks

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20"))  # per operation; `make soak`: 200
SYMBOL = ["BTCUSDT", "ETHUSDT", "btcusdt", "NOPE", ""]
NUMBER = ["0", "1", "-1", "0.001", "65000.00", "1e5", "99999999999999999999999", "0.000000001", "NaN", ""]
TIME = ["0", "1767571200000", "-5", "99999999999999"]
PARAMS: dict[str, dict[str, list[str]]] = {
    "GET /api/v3/exchangeInfo": {"symbol": SYMBOL, "symbols": ['["BTCUSDT"]', "[", '["X",""]']},
    "GET /api/v3/depth": {"symbol": SYMBOL, "limit": ["5", "100", "5000", "0", "-1", "x"]},
    "GET /api/v3/trades": {"symbol": SYMBOL, "limit": NUMBER},
    "GET /api/v3/historicalTrades": {"symbol": SYMBOL, "limit": NUMBER, "fromId": NUMBER},
    "GET /api/v3/aggTrades": {
        "symbol": SYMBOL,
        "fromId": NUMBER,
        "startTime": TIME,
        "endTime": TIME,
        "limit": NUMBER,
    },
    "GET /api/v3/klines": {
        "symbol": SYMBOL,
        "interval": ["1m", "1h", "1M", "7x"],
        "startTime": TIME,
        "endTime": TIME,
        "limit": NUMBER,
        "timeZone": ["0", "+08:00", "-13", "x"],
    },
    "GET /api/v3/ticker/24hr": {
        "symbol": SYMBOL,
        "symbols": ['["BTCUSDT","ETHUSDT"]', "[x"],
        "type": ["FULL", "MINI", "x"],
    },
    "GET /api/v3/uiKlines": {
        "symbol": SYMBOL,
        "interval": ["1d", "1w", "1M", "7x"],
        "startTime": TIME,
        "endTime": TIME,
        "limit": NUMBER,
        "timeZone": ["0", "05:45", "-12:00", "+14:01", "8:x"],
    },
    "GET /api/v3/ticker": {
        "symbol": SYMBOL,
        "symbols": ['["BTCUSDT","ETHUSDT"]', "[x", "[]"],
        "windowSize": ["1m", "59m", "23h", "7d", "8d", "0h", "x"],
        "type": ["FULL", "MINI", "x"],
    },
    "GET /api/v3/ticker/tradingDay": {
        "symbol": SYMBOL,
        "symbols": ['["ETHUSDT"]', "{}"],
        "timeZone": ["0", "-1:00", "05:45", "15", "x"],
        "type": ["FULL", "MINI", "x"],
    },
    "GET /api/v3/ticker/price": {"symbol": SYMBOL, "symbols": ['["BTCUSDT"]', "]"]},
    "GET /api/v3/ticker/bookTicker": {"symbol": SYMBOL, "symbols": ['["ETHUSDT"]', ""]},
    "GET /api/v3/avgPrice": {"symbol": SYMBOL},
    "GET /api/v3/order": {"symbol": SYMBOL, "orderId": NUMBER, "origClientOrderId": ["a", ""]},
    "POST /api/v3/order": {
        "symbol": SYMBOL,
        "side": ["BUY", "SELL", "buy", ""],
        "type": ["LIMIT", "MARKET", "LIMIT_MAKER", "STOP"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        "quantity": NUMBER,
        "quoteOrderQty": NUMBER,
        "price": NUMBER,
        "newClientOrderId": ["fz", "", "x" * 40],
        "newOrderRespType": ["ACK", "RESULT", "FULL"],
        "selfTradePreventionMode": ["NONE", "EXPIRE_TAKER", "EXPIRE_BOTH", "X"],
        "stopPrice": NUMBER,
        "icebergQty": NUMBER,
        "recvWindow": ["5000", "60001", "0", "x"],
    },
    "DELETE /api/v3/order": {
        "symbol": SYMBOL,
        "orderId": NUMBER,
        "origClientOrderId": ["fz", ""],
        "newClientOrderId": ["c"],
    },
    "GET /api/v3/openOrders": {"symbol": SYMBOL},
    "DELETE /api/v3/openOrders": {"symbol": SYMBOL},
    "GET /api/v3/allOrders": {
        "symbol": SYMBOL,
        "orderId": NUMBER,
        "startTime": TIME,
        "endTime": TIME,
        "limit": NUMBER,
    },
    "GET /api/v3/account": {"omitZeroBalances": ["true", "false", "x"]},
    "GET /api/v3/account/commission": {"symbol": SYMBOL},
    "GET /api/v3/rateLimit/order": {"recvWindow": ["5000", "x"]},
    "GET /api/v3/myTrades": {
        "symbol": SYMBOL,
        "orderId": NUMBER,
        "startTime": TIME,
        "endTime": TIME,
        "fromId": NUMBER,
        "limit": NUMBER,
    },
    "PUT /api/v3/userDataStream": {"listenKey": ["x" * 60, ""]},
    "DELETE /api/v3/userDataStream": {"listenKey": ["x" * 60, ""]},
}
# One well-formed request per operation where that needs several parameters right at once, run
# besides the generated ones, so that the statuses show the fuzzing reaching the order path.
WELL_FORMED = {
    "POST /api/v3/order": {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "20000.00",
        "newClientOrderId": "fz-ok",
    },
    "GET /api/v3/klines": {"symbol": "BTCUSDT", "interval": "1m"},
    "GET /api/v3/depth": {"symbol": "ETHUSDT"},
}
SIGNED = {
    "/api/v3/order",
    "/api/v3/openOrders",
    "/api/v3/allOrders",
    "/api/v3/account",
    "/api/v3/myTrades",
    "/api/v3/account/commission",
    "/api/v3/rateLimit/order",
}


def with_binance_parameters(spec: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with every Binance parameter declared as an optional query string."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = PARAMS.get(f"{method.upper()} {path}", {})
            operation.setdefault("parameters", [])
            for name, examples in declared.items():
                schema = {"anyOf": [{"enum": examples}, {"type": "string"}]}
                operation["parameters"].append(
                    {"name": name, "in": "query", "required": False, "schema": schema}
                )
    return spec


@pytest.fixture(scope="module")
def fuzz_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, ["BTCUSDT", "ETHUSDT"]) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def operations(stack: Stack) -> list[APIOperation]:
    spec = with_binance_parameters(httpx.get(f"{stack.url}/openapi.json").json())
    schema = schemathesis.openapi.from_dict(spec)
    return [result.ok() for result in schema.get_all_operations()]


def web_session(url: str) -> httpx.Client:
    """A logged-in web session of a user of its own (web endpoints may log out or revoke keys)."""
    client = httpx.Client(base_url=url, timeout=30, headers={"X-Requested-With": "exchange-web"})
    email = f"fz{time.time_ns()}@example.com"
    client.post(
        "/api/web/signup", json={"email": email, "password": "correct horse battery"}
    ).raise_for_status()
    return client


def send(case: Case, url: str, trader: Trader, web: httpx.Client) -> httpx.Response:
    """The generated request, signed as Binance's SIGNED rules want where the path needs it."""
    query = {k: v for k, v in (case.query or {}).items() if isinstance(v, str)}
    for value in [*query, *query.values()]:
        try:
            value.encode()
        except UnicodeEncodeError:
            assume(False)  # a lone surrogate cannot travel in a URL at all
    path = case.formatted_path
    headers = {"X-MBX-APIKEY": trader.api_key}
    if path.startswith("/api/web"):
        body = case.body if isinstance(case.body, dict | list | str | int | float) else None
        return web.request(case.method, path, params=query, json=body)
    if path in SIGNED:
        query["timestamp"] = str(int(time.time() * 1000))
        encoded = urlencode(query)
        signature = hmac.new(trader.secret.encode(), encoded.encode(), hashlib.sha256).hexdigest()
        encoded += f"&signature={signature}"
        if case.method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return trader.http.request(case.method, f"{url}{path}", content=encoded, headers=headers)
        return trader.http.request(case.method, f"{url}{path}?{encoded}", headers=headers)
    return trader.http.request(case.method, f"{url}{path}", params=query, headers=headers)


def fuzz_operation(op: APIOperation, url: str, trader: Trader, web: httpx.Client) -> set[int]:
    """EXAMPLES generated requests to one operation (and its WELL_FORMED one); returns the statuses."""
    seen: set[int] = set()

    def fuzz(case: Case) -> None:
        response = send(case, url, trader, web)
        seen.add(response.status_code)
        assert response.status_code < 500, f"{op.label} {case.query!r} {case.body!r}: {response.text[:300]}"
        if case.formatted_path.startswith("/api/v3") and response.status_code >= 400:
            body = response.json()
            assert isinstance(body.get("code"), int) and isinstance(body.get("msg"), str), body

    check = settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )(given(case=op.as_strategy())(fuzz))
    if op.label in WELL_FORMED:
        check = example(case=op.Case(query=WELL_FORMED[op.label]))(check)
    check()
    return seen


def test_no_request_gets_a_server_error(fuzz_stack: Stack) -> None:
    url = fuzz_stack.url
    trader = sign_up(url)
    web = web_session(url)
    ops = operations(fuzz_stack)
    assert len(ops) >= 30 and {op.label for op in ops} >= {"POST /api/v3/order", "GET /api/v3/klines"}
    seen = {op.label: fuzz_operation(op, url, trader, web) for op in ops}
    assert all(seen.values()), seen
    for label in WELL_FORMED:  # refused and served: the generated cases and the well-formed one
        assert {200, 400} <= seen[label], (label, seen[label])
    assert tracebacks(fuzz_stack.log_dir) == []  # nothing failed unseen behind a 4xx either


def test_text_postgresql_or_argon2_cannot_take_is_refused_not_a_server_error(fuzz_stack: Stack) -> None:
    """Found by the fuzzing above: a NUL in an email or a lone surrogate (valid in JSON) gave 500;
    so did `symbols` holding JSON that is not a list."""
    web = httpx.Client(base_url=fuzz_stack.url, timeout=30, headers={"Content-Type": "application/json"})
    for email, password in (
        ("a\\u0000b@example.com", "long enough"),
        ("c@example.com", "long \\ud800 enough"),
    ):
        body = f'{{"email": "{email}", "password": "{password}"}}'
        signup = web.post("/api/web/signup", content=body)
        assert (signup.status_code, signup.json()["code"]) == (400, -1130), signup.text
        login = web.post("/api/web/login", content=body)
        assert (login.status_code, login.json()["code"]) == (401, -1002), login.text
    for path in ("/api/v3/ticker/price", "/api/v3/ticker/24hr", "/api/v3/ticker/bookTicker"):
        for symbols in ("5", "null", '{"BTCUSDT": 1}'):
            answer = web.get(path, params={"symbols": symbols})
            assert (answer.status_code, answer.json()["code"]) == (400, -1130), (path, symbols, answer.text)
