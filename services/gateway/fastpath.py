"""POST /api/v3/order from API-key callers, served in front of FastAPI.

The order endpoint is the gateway's hot path; FastAPI's middleware, routing, dependency solving
and response handling cost about as much CPU as the order itself. This ASGI wrapper around the
FastAPI app answers `POST /api/v3/order` requests that carry X-MBX-APIKEY and no cookie with the
same functions the FastAPI route uses (params.parse_params, signed.verify_signed,
RateLimiter.count_order, OrderService.place, formatting.new_order_json), so both give the same
answers and the same errors. Every other request, including cookie-authenticated orders from the
web page, and the lifespan go on to FastAPI, where the route also documents the endpoint in
OpenAPI. `OrderFastPath.answer` is also what gateway.directorders answers with when the HTTP
protocol serves such an order without ASGI.
"""

import logging
from typing import cast

import orjson
from fastapi import FastAPI
from mypy_extensions import mypyc_attr
from starlette.types import Message, Receive, Scope, Send

from exchange_core.errors import TOO_MANY_PARAMETERS, ApiError
from exchange_core.unavailable import internal_error
from gateway.bodylimit import MAX_BODY_BYTES
from gateway.callers import API_KEY_HEADER
from gateway.context import GatewayContext
from gateway.formatting import new_order_json
from gateway.keycache import api_key_cache
from gateway.params import is_form, parse_params, signed_payload
from gateway.ratelimit import RateLimited, RateLimiter
from gateway.signed import check_api_key_format, verify_signed

log = logging.getLogger("gateway.fastpath")

ORDER_PATH = "/api/v3/order"
_API_KEY_HEADER = API_KEY_HEADER.lower().encode()
_JSON_HEADERS = [(b"content-type", b"application/json")]
_TOO_LARGE = orjson.dumps(
    {"code": TOO_MANY_PARAMETERS, "msg": f"Request body too large: at most {MAX_BODY_BYTES} bytes."}
)


class TooLarge(Exception):
    pass


@mypyc_attr(allow_interpreted_subclasses=True)
class OrderFastPath:
    """ASGI app: the signed-order fast path in front of `app` (see module docstring). Compiled,
    it may still be subclassed by interpreted code (the tests' stand-in order paths)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != ORDER_PATH:
            await self.app(scope, receive, send)
            return
        api_key = content_type = None
        for name, value in scope["headers"]:
            if name == _API_KEY_HEADER:
                # Sent twice: which key is meant is not guessed (-2014, as FastAPI's route).
                api_key = value if api_key is None else b""
            elif name == b"content-type":
                content_type = value
            elif name == b"cookie":
                await self.app(scope, receive, send)  # a session may own it: FastAPI's rules decide
                return
        if api_key is None:
            await self.app(scope, receive, send)
            return
        extra: list[tuple[bytes, bytes]] = []
        try:
            body = await _read_body(receive)
        except TooLarge:
            status, payload = 413, _TOO_LARGE
        else:
            status, payload, extra = await self.answer(scope, body, api_key, content_type)
        headers = [*_JSON_HEADERS, *extra, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def answer(
        self, scope: Scope, body: bytes, api_key: bytes, content_type: bytes | None
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        """(HTTP status, body, headers beyond content-type and content-length) of the order in
        `body` and `scope`'s query string, sent with X-MBX-APIKEY `api_key` (b"": sent twice)."""
        try:
            app = self.app
            ctx = cast(GatewayContext, app.state.ctx)
            key = check_api_key_format(api_key.decode("latin-1"))
            form = body if is_form((content_type or b"").decode("latin-1")) else b""
            query: bytes = scope.get("query_string", b"")
            params = parse_params(query, form)
            client = scope.get("client")
            who = await verify_signed(
                ctx,
                api_key_cache(app.state),
                key,
                params,
                signed_payload(query, form),
                client_ip=client[0] if client else None,
                trading=True,
            )
            limiter: RateLimiter = app.state.rate_limiter
            limiter.count_order(who.api_key)
            placed = await ctx.orders.place(who.user_id, params, who.api_key)
            return 200, orjson.dumps(new_order_json(placed)), []
        except RateLimited as exc:
            return exc.status, orjson.dumps(exc.body()), [(b"retry-after", str(exc.retry_after).encode())]
        except ApiError as exc:
            return exc.status, orjson.dumps(exc.body()), []
        except Exception as exc:
            error = internal_error(exc)
            if error.status == 503:
                log.warning("POST %s: backend unreachable: %r", ORDER_PATH, exc)
            else:
                log.exception("POST %s failed", ORDER_PATH)
            return error.status, orjson.dumps(error.body()), []


async def _read_body(receive: Receive) -> bytes:
    """The whole request body; raises TooLarge past MAX_BODY_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
