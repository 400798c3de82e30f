"""The WebSocket API's request weights (Binance's): a method that is a REST endpoint's twin weighs
what the endpoint weighs (one table, gateway.restweights), the session and user-data-stream
methods 2."""

import pytest

from gateway.restweights import request_weight
from gateway.wsapi.methods import METHODS


@pytest.mark.parametrize(
    ("method", "params", "weight"),
    [
        ("session.logon", {}, 2),
        ("session.status", {}, 2),
        ("session.logout", {}, 2),
        ("userDataStream.subscribe", {}, 2),
        ("userDataStream.start", {}, 2),
        ("account.status", {}, 20),
        ("account.commission", {"symbol": "BTCUSDT"}, 20),
        ("account.rateLimits.orders", {}, 40),
        ("order.status", {"symbol": "BTCUSDT", "orderId": "1"}, 4),
        ("openOrders.status", {"symbol": "BTCUSDT"}, 6),
        ("openOrders.status", {}, 80),
        ("allOrders", {"symbol": "BTCUSDT"}, 20),
        ("myTrades", {"symbol": "BTCUSDT", "orderId": "1"}, 5),
        ("myTrades", {"symbol": "BTCUSDT"}, 20),
        ("orderList.status", {"orderListId": "1"}, 4),
        ("openOrderLists.status", {}, 6),
        ("allOrderLists", {}, 20),
        ("myAllocations", {"symbol": "BTCUSDT"}, 20),
        ("myPreventedMatches", {"symbol": "BTCUSDT", "preventedMatchId": "1"}, 2),
        ("myPreventedMatches", {"symbol": "BTCUSDT", "orderId": "1"}, 20),
        ("myPreventedMatches", {"symbol": "NOPE"}, 2),
        ("exchangeInfo", {}, 20),
        ("order.place", {}, 1),
        ("orderList.place.otoco", {}, 1),
    ],
)
def test_method_weight(method: str, params: dict[str, str], weight: int) -> None:
    assert METHODS[method].weight(params) == weight


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("account.status", "/api/v3/account"),
        ("allOrderLists", "/api/v3/allOrderList"),
        ("myAllocations", "/api/v3/myAllocations"),
        ("myPreventedMatches", "/api/v3/myPreventedMatches"),
        ("orderList.status", "/api/v3/orderList"),
    ],
)
def test_twins_weigh_the_same(method: str, path: str) -> None:
    assert METHODS[method].weight({}) == request_weight("GET", path, b"")
