"""POST /api/v3/order answered straight from the HTTP protocol (gateway.httpprotocol), without the
ASGI chain, with everything that chain does to such a request.

gateway.app.server_app serves every request through TelemetryMiddleware, BodySizeLimit,
RateLimitMiddleware and OrderFastPath. For a signed order (X-MBX-APIKEY, no cookie) whose
Content-Length is within the body limit, those layers come down to: weigh the request against
its IP's REQUEST_WEIGHT (429 -1003 before the body is read), OrderFastPath.answer, the weight
headers, one metrics observation. `DirectOrders` does exactly that, so the answer (status,
headers in the same order, body), the counts and the metrics are those of the ASGI chain; the
protocol writes the answer in one piece. Every other request, and every order while tracing is
on, goes through the ASGI chain.
"""

import time
from collections.abc import Awaitable, Callable
from functools import partial

import orjson
from starlette.types import Scope

from exchange_core import tracing
from gateway.fastpath import ORDER_PATH, OrderFastPath
from gateway.httpprotocol import Answer, DirectRoute
from gateway.ratelimit import API_KEY_HEADER, RateLimiter, weight_headers
from gateway.restweights import request_weight
from gateway.telemetry import RequestMetrics

_JSON = (b"content-type", b"application/json")


class DirectOrders(DirectRoute):
    """The signed-order requests of the ASGI chain in front of `fast` (see the module), answered
    as that chain answers them, with `limiter`'s weight, `metrics`' observation, and bodies of
    at most `body_limit` bytes (BodySizeLimit's; longer ones are left to it)."""

    def __init__(
        self, fast: OrderFastPath, limiter: RateLimiter, metrics: RequestMetrics, body_limit: int
    ) -> None:
        self.fast = fast
        self.limiter = limiter
        self.metrics = metrics
        self.body_limit = body_limit

    def route(self, scope: Scope) -> Callable[[Callable[[], Awaitable[bytes]]], Awaitable[Answer]] | None:
        """How to answer the request of `scope` (headers complete) given its body; None when the
        ASGI chain must: not POST /api/v3/order, no X-MBX-APIKEY, a cookie, no Content-Length or
        one over the limit (BodySizeLimit's 413), Transfer-Encoding, or tracing on."""
        if scope["method"] != "POST" or scope["path"] != ORDER_PATH or tracing.ENABLED:
            return None
        api_key = first_key = length = content_type = None
        for name, value in scope["headers"]:
            if name == API_KEY_HEADER:
                # The rate limits take the first; the fast path, b"" for two (-2014).
                api_key, first_key = (value, value) if api_key is None else (b"", first_key)
            elif name == b"content-type":
                content_type = value
            elif name == b"content-length":
                length = value if length is None else length
            elif name == b"cookie" or name == b"transfer-encoding":
                return None
        if api_key is None or first_key is None or length is None:
            return None
        if not (length.isdigit() and len(length) <= 18 and int(length) <= self.body_limit):
            return None
        return partial(self._serve, scope, api_key, first_key.decode("latin-1"), content_type)

    async def _serve(
        self,
        scope: Scope,
        api_key: bytes,
        first_key: str,
        content_type: bytes | None,
        read_body: Callable[[], Awaitable[bytes]],
    ) -> Answer:
        start = time.perf_counter()
        status = 500  # what the metrics say of an answer that failed (as TelemetryMiddleware)
        try:
            status, headers, payload = await self._answer(scope, api_key, first_key, content_type, read_body)
        finally:
            self.metrics.observe("POST", ORDER_PATH, status, time.perf_counter() - start)
        return status, headers, payload

    async def _answer(
        self,
        scope: Scope,
        api_key: bytes,
        first_key: str,
        content_type: bytes | None,
        read_body: Callable[[], Awaitable[bytes]],
    ) -> Answer:
        client = scope.get("client")
        ip = client[0] if client else ""
        limiter = self.limiter
        refused = limiter.check(ip, first_key, request_weight("POST", ORDER_PATH, scope["query_string"]))
        if refused is not None:
            code, msg, retry_after = refused
            payload = orjson.dumps({"code": code, "msg": msg})
            return (
                429,
                [
                    _JSON,
                    (b"content-length", str(len(payload)).encode()),
                    (b"retry-after", str(retry_after).encode()),
                    *weight_headers(str(limiter.used_weight(ip)).encode()),
                ],
                payload,
            )
        status, payload, extra = await self.fast.answer(scope, await read_body(), api_key, content_type)
        used = str(limiter.used_weight(ip)).encode()
        length = (b"content-length", str(len(payload)).encode())
        return status, [_JSON, *extra, length, *weight_headers(used)], payload
