"""REST request weights (Binance's, per endpoint and parameters) and the X-MBX-USED-WEIGHT-1M
header that RateLimitMiddleware puts on every answer, refusals included."""

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from gateway.ratelimit import Limits, RateLimiter, RateLimitMiddleware
from gateway.restweights import request_weight


@pytest.mark.parametrize(
    ("method", "path", "query", "weight"),
    [
        ("GET", "/api/v3/depth", b"symbol=BTCUSDT", 5),
        ("GET", "/api/v3/depth", b"symbol=BTCUSDT&limit=101", 25),
        ("GET", "/api/v3/depth", b"symbol=BTCUSDT&limit=1000", 50),
        ("GET", "/api/v3/depth", b"symbol=BTCUSDT&limit=5000", 250),
        ("GET", "/api/v3/depth", b"limit=abc", 5),
        ("GET", "/api/v3/exchangeInfo", b"", 20),
        ("GET", "/api/v3/ticker/24hr", b"symbol=BTCUSDT", 2),
        ("GET", "/api/v3/ticker/24hr", b"", 80),
        ("GET", "/api/v3/ticker/price", b"symbol=BTCUSDT", 2),
        ("GET", "/api/v3/ticker/price", b"", 4),
        ("GET", "/api/v3/ticker", b'symbols=["BTCUSDT","ETHUSDT"]', 8),
        ("GET", "/api/v3/openOrders", b"symbol=BTCUSDT", 6),
        ("GET", "/api/v3/openOrders", b"", 80),
        ("GET", "/api/v3/myTrades", b"symbol=BTCUSDT&orderId=3", 5),
        ("GET", "/api/v3/myTrades", b"symbol=BTCUSDT", 20),
        ("GET", "/api/v3/myPreventedMatches", b"symbol=BTCUSDT&preventedMatchId=3", 2),
        ("GET", "/api/v3/myPreventedMatches", b"symbol=BTCUSDT&orderId=3", 20),
        ("GET", "/api/v3/order", b"symbol=BTCUSDT&orderId=3", 4),
        ("POST", "/api/v3/order", b"", 1),
        ("DELETE", "/api/v3/openOrders", b"symbol=BTCUSDT", 1),
        ("PUT", "/api/v3/order/amend/keepPriority", b"", 4),
        ("POST", "/api/v3/order/test", b"computeCommissionRates=true", 20),
        ("GET", "/api/v3/ping", b"", 1),
    ],
)
def test_binances_weight_per_endpoint(method: str, path: str, query: bytes, weight: int) -> None:
    assert request_weight(method, path, query) == weight


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.mark.parametrize("limit", [0, 60])
async def test_answers_carry_the_weight_used_this_minute(limit: int) -> None:
    limits = Limits(ip_weight_per_minute=limit, orders_per_10s=0, orders_per_day=0)
    limiter = RateLimiter(limits, clock=lambda: 1_700_000_010.0)  # one minute throughout
    app = RateLimitMiddleware(ok, limiter)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
        first = await client.get("/api/v3/exchangeInfo")
        second = await client.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 500})
        assert (first.status_code, first.headers["x-mbx-used-weight-1m"]) == (200, "20")
        assert (second.status_code, second.headers["x-mbx-used-weight-1m"]) == (200, "45")
        assert second.headers["x-mbx-used-weight"] == "45"
        third = await client.get("/api/v3/exchangeInfo")
        if limit:  # 45 + 20 > 60: refused, not counted, and the header says so
            assert (third.status_code, third.json()["code"]) == (429, -1003)
            assert third.headers["x-mbx-used-weight-1m"] == "45"
        else:  # no limit in force: counted, never refused
            assert (third.status_code, third.headers["x-mbx-used-weight-1m"]) == (200, "65")
