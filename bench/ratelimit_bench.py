"""The rate limiter's cost per request: the same ASGI request served by a do-nothing app directly
and through RateLimitMiddleware (the IP's weight) to an app that counts the order against its key
(RateLimiter.count_order, as the order routes do once authenticated), with Binance's default
limits (the order path: a POST to /api/v3/order with an API key), in process. The difference in
CPU time (process_time, which leaves out the time spent descheduled on a busy machine) is what the
limiter adds."""

import asyncio
import time
from typing import Any

from gateway.ratelimit import Limits, RateLimiter, RateLimitMiddleware

KEYS = [f"{n:064d}" for n in range(64)]


class _Counting:
    """A do-nothing ASGI app that counts the requests it is given; with a limiter, it counts each
    one as an order of its X-MBX-APIKEY too."""

    def __init__(self, limiter: RateLimiter | None = None) -> None:
        self.served = 0
        self.limiter = limiter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.served += 1
        if self.limiter is not None:
            self.limiter.count_order(scope["headers"][2][1].decode())


async def _nothing() -> Any:
    return {}


async def _send(message: Any) -> None:
    return None


async def _time(app: Any, n: int) -> float:
    scopes = [
        {
            "type": "http",
            "method": "POST",
            "path": "/api/v3/order",
            "client": (f"10.0.0.{i % 250}", 5000),
            "headers": [
                (b"host", b"x"),
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"x-mbx-apikey", KEYS[i % len(KEYS)].encode()),
            ],
        }
        for i in range(1000)
    ]
    start = time.process_time()
    for i in range(n):
        await app(scopes[i % 1000], _nothing, _send)
    return time.process_time() - start


def main(n: int = 200_000) -> dict[str, float]:
    # Limits high enough that nothing is refused: the cost of counting, not of answering 429.
    limiter = RateLimiter(Limits(ip_weight_per_minute=10**9, orders_per_10s=10**9, orders_per_day=10**9))
    bare_app, behind = _Counting(), _Counting(limiter)
    bare = asyncio.run(_time(bare_app, n))
    with_limits = asyncio.run(_time(RateLimitMiddleware(behind, limiter), n))
    cost_us = (with_limits - bare) / n * 1e6
    print(f"== rate limiter: {n:,} order requests through the ASGI middleware, in process")
    print(f"   {cost_us:.2f} us of CPU per request added (IP weight + 2 order windows)")
    assert bare_app.served == behind.served == n, "the limiter refused or lost requests"
    return {"per_request_us": cost_us}
