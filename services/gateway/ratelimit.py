"""Binance's rate limits, enforced in process: request weight per client IP and new orders per
API key, in fixed windows (a minute; 10 seconds and a day), as exchangeInfo advertises them.

One RateLimiter per gateway process serves every transport: REST (RateLimitMiddleware for the
weight, the order routes and the fast path for orders), the WebSocket API and gRPC. Beyond a
limit the answer is HTTP 429 (REST: with a `Retry-After` header, whole seconds until the window
ends; gRPC: RESOURCE_EXHAUSTED) and Binance's body: -1003 for request weight, -1015 for orders.

Each gateway process counts on its own (no Redis round trip on the order path): with N gateway
processes behind one address a client may get up to N times the limit. A REST request weighs
its endpoint's Binance weight (gateway.restweights), a WebSocket API request its method's.
A new order (POST /api/v3/order, cancelReplace, WebSocket API order.place and
order.cancelReplace, gRPC PlaceOrder) counts against the ORDERS limits of the API key it
authenticated with, once authenticated (`count_order`): a request naming someone else's key
without its secret never uses that key's orders. Web-session orders are not counted. The client
IP is the socket's peer, or the address a trusted proxy (FORWARDED_ALLOW_IPS) names in
X-Forwarded-For: uvicorn rewrites it before any of this. A limit of 0 is off; keys listed in
RATE_LIMIT_EXEMPT_KEYS (the market maker's) are never limited.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_core.errors import TOO_MANY_ORDERS, TOO_MANY_REQUESTS, ApiError
from gateway.responses import JsonObject
from gateway.restweights import request_weight

API_KEY_HEADER = b"x-mbx-apikey"
# A window's limit when no REQUEST_WEIGHT limit is in force: weight is counted, never refused.
UNLIMITED = 2**62


class RateLimited(ApiError):
    """A request refused by a rate limit: HTTP 429, `retry_after` whole seconds until the window
    that refused it ends."""

    def __init__(self, code: int, msg: str, retry_after: int) -> None:
        super().__init__(code, msg, 429)
        self.retry_after = retry_after


class FixedWindow:
    """At most `limit` hits per key in each window of `seconds` (aligned to the clock given)."""

    __slots__ = ("counts", "index", "limit", "seconds")

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.index = -1
        self.counts: dict[str, int] = {}

    def hit(self, key: str, now: float, weight: int = 1) -> float:
        """Count `weight` hits for `key`; returns 0.0 when allowed, else the seconds until the
        window ends (the hits are then not counted)."""
        index = int(now // self.seconds)
        if index != self.index:
            self.index = index
            self.counts = {}
        count = self.counts.get(key, 0) + weight
        if count > self.limit:
            return (index + 1) * self.seconds - now
        self.counts[key] = count
        return 0.0

    def count(self, key: str, now: float) -> int:
        """The hits counted for `key` in the window holding `now` (0 once it has ended)."""
        return self.counts.get(key, 0) if int(now // self.seconds) == self.index else 0


@dataclass(frozen=True)
class Limits:
    """0 turns a limit off."""

    ip_weight_per_minute: int = 6_000
    orders_per_10s: int = 100
    orders_per_day: int = 200_000
    exempt_keys: frozenset[str] = frozenset()

    def advertised(self) -> list[JsonObject]:
        """exchangeInfo's rateLimits: the limits that are on."""
        out = []
        for kind, interval, num, limit in (
            ("REQUEST_WEIGHT", "MINUTE", 1, self.ip_weight_per_minute),
            ("ORDERS", "SECOND", 10, self.orders_per_10s),
            ("ORDERS", "DAY", 1, self.orders_per_day),
        ):
            if limit > 0:
                out.append({"rateLimitType": kind, "interval": interval, "intervalNum": num, "limit": limit})
        return out


class RateLimiter:
    """The counters of one gateway process. `check` decides one request."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.clock = clock
        # Weight is counted even with no limit in force (X-MBX-USED-WEIGHT-1M reports it).
        self.weight = FixedWindow(limits.ip_weight_per_minute or UNLIMITED, 60.0)
        self.orders = [
            (FixedWindow(limit, seconds), interval, num)
            for limit, seconds, interval, num in (
                (limits.orders_per_10s, 10.0, "SECOND", 10),
                (limits.orders_per_day, 86_400.0, "DAY", 1),
            )
            if limit > 0
        ]

    def order_counts(self, api_key: str | None) -> list[JsonObject]:
        """GET /api/v3/rateLimit/order: for each ORDERS limit in force, the orders `api_key` has
        placed in the current window of this process, Binance's shape ({rateLimitType, interval,
        intervalNum, limit, count}). A key that is exempt or absent (a web session) counts 0."""
        now = self.clock()
        key = None if api_key in self.limits.exempt_keys else api_key
        return [
            {
                "rateLimitType": "ORDERS",
                "interval": interval,
                "intervalNum": num,
                "limit": window.limit,
                "count": 0 if key is None else window.count(key, now),
            }
            for window, interval, num in self.orders
        ]

    def usage(self, ip: str, api_key: str | None, orders: bool) -> list[JsonObject]:
        """The WebSocket API's `rateLimits` after a request: with `orders` (a request that places
        orders), the ORDERS counts of `api_key` (as order_counts), then the REQUEST_WEIGHT that
        `ip` has used in this minute; only limits in force, Binance's shape ({rateLimitType,
        interval, intervalNum, limit, count})."""
        out = self.order_counts(api_key) if orders else []
        if self.limits.ip_weight_per_minute:
            out.append(
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": self.weight.limit,
                    "count": self.weight.count(ip, self.clock()),
                }
            )
        return out

    def check(self, ip: str, api_key: str | None = None, weight: int = 1) -> tuple[int, str, int] | None:
        """Weigh one request of `weight` from `ip` (an `api_key` in RATE_LIMIT_EXEMPT_KEYS is not
        weighed): None to serve it, else (Binance code, message, Retry-After seconds)."""
        if api_key is not None and api_key in self.limits.exempt_keys:
            return None
        now = self.clock()
        wait = self.weight.hit(ip, now, weight)
        if not wait:
            return None
        limit = self.limits.ip_weight_per_minute
        msg = (
            f"Too many requests; current limit of IP is {limit} requests per minute. "
            "Please use WebSocket Streams for live updates to avoid bans."
        )
        return TOO_MANY_REQUESTS, msg, math.ceil(wait)

    def used_weight(self, ip: str) -> int:
        """The REQUEST_WEIGHT `ip` has used in the current minute (X-MBX-USED-WEIGHT-1M)."""
        return self.weight.count(ip, self.clock())

    def weigh(self, ip: str) -> None:
        """As check, for a transport that answers with an exception: raises RateLimited (-1003)
        beyond the IP's REQUEST_WEIGHT."""
        refused = self.check(ip)
        if refused is not None:
            raise RateLimited(*refused)

    def count_order(self, api_key: str | None) -> None:
        """Count one new order against the ORDERS limits of `api_key`, the key its request
        authenticated with (None, a web session, and exempt keys are not counted). Raises
        RateLimited (-1015) beyond a limit; the refused order is not counted."""
        if api_key is None or api_key in self.limits.exempt_keys:
            return
        now = self.clock()
        for window, interval, num in self.orders:
            wait = window.hit(api_key, now)
            if wait:
                label = f"{window.limit} orders per {num} {interval}"
                raise RateLimited(
                    TOO_MANY_ORDERS, f"Too many new orders; current limit is {label}.", math.ceil(wait)
                )


class RateLimitMiddleware:
    """A pure ASGI middleware weighing every HTTP request against its IP's REQUEST_WEIGHT with
    the endpoint's weight (gateway.restweights; orders are counted once authenticated:
    RateLimiter.count_order). Every answer, a refusal included, carries X-MBX-USED-WEIGHT and
    X-MBX-USED-WEIGHT-1M: the weight the IP has used in the current minute."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        ip = client[0] if client else ""
        api_key = None
        for name, value in scope["headers"]:
            if name == API_KEY_HEADER:
                api_key = value.decode("latin-1")
                break
        weight = request_weight(scope["method"], scope["path"], scope.get("query_string", b""))
        refused = self.limiter.check(ip, api_key, weight)
        if refused is None:
            limiter = self.limiter

            async def send_with_weight(message: Message) -> None:
                if message["type"] == "http.response.start":
                    used = str(limiter.used_weight(ip)).encode()
                    message["headers"] = [*message.get("headers", ()), *weight_headers(used)]
                await send(message)

            await self.app(scope, receive, send_with_weight)
            return
        code, msg, retry_after = refused
        body = orjson.dumps({"code": code, "msg": msg})
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()),
            *weight_headers(str(self.limiter.used_weight(ip)).encode()),
        ]
        await send({"type": "http.response.start", "status": 429, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def weight_headers(used: bytes) -> list[tuple[bytes, bytes]]:
    """X-MBX-USED-WEIGHT and X-MBX-USED-WEIGHT-1M: `used`, the IP's weight in this minute."""
    return [(b"x-mbx-used-weight", used), (b"x-mbx-used-weight-1m", used)]
