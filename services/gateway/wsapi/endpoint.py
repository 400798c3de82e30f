"""`/ws-api/v3`: Binance's WebSocket API on the gateway's port (docs/wsapi.md).

A connection reads request frames (gateway.wsapi.frames) and answers each one as soon as it is
done; requests run concurrently (up to MAX_IN_FLIGHT per connection, then reading waits), so
answers may come in another order than their requests, as on Binance: clients match them by id.
A frame that is not a request, an unknown method, a refused signature, a rate limit: each is an
error answer and the connection stays open.

Each request goes through, in order: REQUEST_WEIGHT (the method's weight, Binance's, per client
IP), the method's
security (gateway.signed, gateway.keycache: the same key cache, permission and trusted-IP rules,
recvWindow and signature checks as REST), for a method that places orders the ORDERS limits of
the key it authenticated with (gateway.ratelimit: the one limiter REST and gRPC count in too),
then the method.
`rateLimits` is in every answer unless the connection was opened with `?returnRateLimits=false`
or the request has `returnRateLimits: false`.
"""

import asyncio
import logging
import time

from fastapi import APIRouter, WebSocket
from fastapi.responses import JSONResponse
from opentelemetry.trace import SpanKind, StatusCode
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from exchange_core import tracing
from exchange_core.clock import now_ms
from exchange_core.errors import INVALID_SIGNATURE, UNSUPPORTED_OPERATION, ApiError
from exchange_core.unavailable import internal_error
from gateway.context import GatewayContext
from gateway.keycache import api_key_cache, resolve_api_key
from gateway.keyrules import check_key_use
from gateway.principal import Principal
from gateway.ratelimit import RateLimited, RateLimiter
from gateway.responses import JsonObject
from gateway.signed import check_api_key_format, verify_logged_on, verify_signed
from gateway.validation import missing
from gateway.wsapi.frames import (
    BadFrame,
    Request,
    RequestId,
    answer,
    encoded_signature_payload,
    parse_request,
    signature_payload,
)
from gateway.wsapi.methods import METHODS, SIGNED, TRADE, USER_STREAM, Call, Method, Session
from gateway.wsapi.metrics import INVALID_FRAME, UNKNOWN_METHOD, WsApiMetrics
from gateway.wsapi.userdata import UserDataSubscriptions

log = logging.getLogger("gateway.wsapi")

PATH = "/ws-api/v3"
MAX_IN_FLIGHT = 64

router = APIRouter()


class WsApiEndpoint:
    """The route's ASGI app: a Connection for each WebSocket. Starlette's WebSocket does the
    handshake; frames are read and answers written with the ASGI receive and send themselves
    (uvicorn's messages are already the only ones a connection gets and sends)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await Connection(WebSocket(scope, receive, send), receive, send).serve()


# An ASGI app, not a function of a WebSocket: FastAPI's per-message wrappers stay out of the way.
router.add_websocket_route(PATH, WsApiEndpoint(), name="ws_api")  # type: ignore[arg-type]


def _retry_data(retry_after: int) -> JsonObject:
    """A 429's `data`, as Binance's: the server's time and when to retry (ms)."""
    now = now_ms()
    return {"serverTime": now, "retryAfter": now + retry_after * 1000}


def _wants_rate_limits(value: str | None) -> bool:
    return (value or "true").lower() != "false"


class Connection:
    """One WebSocket API connection: `websocket` for the handshake, then frames from `receive`
    and answers to `send` (the connection's ASGI callables)."""

    def __init__(self, websocket: WebSocket, receive: Receive, send: Send) -> None:
        state: State = websocket.app.state
        self.websocket = websocket
        self.receive = receive
        self.send = send
        self.loop = asyncio.get_running_loop()
        self.ctx: GatewayContext = state.ctx
        self.limiter: RateLimiter = state.rate_limiter
        self.metrics: WsApiMetrics = state.wsapi_metrics
        self.keys = api_key_cache(state)
        self.ip = websocket.client.host if websocket.client else ""
        self.session = Session(now_ms(), _wants_rate_limits(websocket.query_params.get("returnRateLimits")))
        self.send_lock = asyncio.Lock()
        self.slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self.tasks: set[asyncio.Task[None]] = set()
        self.open = True
        self.streams = UserDataSubscriptions(self.ctx.feeds, self._send, self.ctx.key_watch, self.ip or None)

    async def serve(self) -> None:
        # Opening a connection weighs 2 against the IP's REQUEST_WEIGHT, as on Binance; beyond
        # the limit the handshake is answered 429 with Binance's body and Retry-After.
        refused = self.limiter.check(self.ip) or self.limiter.check(self.ip)
        if refused is not None:
            code, msg, retry_after = refused
            body = {"code": code, "msg": msg}
            headers = {"Retry-After": str(retry_after)}
            await self.websocket.send_denial_response(JSONResponse(body, status_code=429, headers=headers))
            return
        await self.websocket.accept()
        self.metrics.connections += 1
        receive, create_task = self.receive, self.loop.create_task
        try:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    return
                frame = message.get("text")
                if frame is None:
                    frame = message.get("bytes") or b""
                await self.slots.acquire()
                task = create_task(self._serve_frame(frame))
                self.tasks.add(task)
                task.add_done_callback(self._done)
        finally:
            self.open = False
            self.metrics.connections -= 1
            await self.streams.close()
            # Requests under way finish (an order is placed or not, never cut in half); their
            # answers have nowhere to go.
            if self.tasks:
                await asyncio.gather(*self.tasks, return_exceptions=True)

    def _done(self, task: "asyncio.Task[None]") -> None:
        self.tasks.discard(task)
        self.slots.release()

    async def _send(self, text: str) -> None:
        if not self.open:
            return
        async with self.send_lock:
            try:
                await self.send({"type": "websocket.send", "text": text})
            except Exception:  # the client left while this request ran
                self.open = False

    async def _serve_frame(self, frame: str | bytes) -> None:
        """Answer one frame. Whatever goes wrong, the frame gets an answer (an unexpected error is
        logged and answered -1000 with a null id) and the task ends without an exception."""
        try:
            await self._answer_frame(frame)
        except Exception as exc:
            log.exception("a frame failed")
            failure = internal_error(exc)
            await self._send(answer(None, failure.status, error=failure.body()))

    async def _answer_frame(self, frame: str | bytes) -> None:
        start = time.perf_counter()
        try:
            request = parse_request(frame)
        except BadFrame as bad:
            self.limiter.check(self.ip)
            error = bad.error
            await self._send(
                answer(
                    bad.request_id,
                    error.status,
                    error=error.body(),
                    rate_limits=self._usage(None, False, True),
                )
            )
            self.metrics.observe(INVALID_FRAME, error.status, time.perf_counter() - start)
            return
        method = METHODS.get(request.method)
        label = request.method if method is not None else UNKNOWN_METHOD
        if tracing.ENABLED:
            with tracing.tracer("gateway").start_as_current_span(
                f"wsapi {label}", kind=SpanKind.SERVER
            ) as span:
                status = await self._serve_request(request, method)
                span.set_attribute("rpc.system", "binance-ws-api")
                span.set_attribute("rpc.method", label)
                span.set_attribute("binance.status", status)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)
        else:
            status = await self._serve_request(request, method)
        self.metrics.observe(label, status, time.perf_counter() - start)

    async def _serve_request(self, request: Request, method: Method | None) -> int:
        """Answer `request`; returns the answer's status."""
        params = request.params
        places_orders = method is not None and method.places_orders
        wants_limits = _wants_rate_limits(params.get("returnRateLimits"))
        weight = method.weight(params) if method is not None else 1
        # A logged-on connection's requests may name no key: the logged-on key counts for them.
        refused = self.limiter.check(self.ip, params.get("apiKey") or self.session.api_key, weight)
        if refused is not None:
            code, msg, retry_after = refused
            error: JsonObject = {"code": code, "msg": msg, "data": _retry_data(retry_after)}
            await self._reply(request.id, 429, None, error, None, places_orders, wants_limits)
            return 429
        # The key whose ORDERS counts the answer shows: only one the request authenticated with.
        api_key: str | None = None
        try:
            if method is None:
                raise ApiError(UNSUPPORTED_OPERATION, f"Unknown method '{request.method}'.")
            call = Call(self.ctx, self.limiter, self.session, params, streams=self.streams)
            if method.security != "NONE":
                who = await self._authorize(method, params)
                call.user_id, call.api_key, call.key_type = who.user_id, who.api_key, who.key_type
                api_key = call.api_key
            if places_orders:
                for _ in range(method.order_count):
                    self.limiter.count_order(api_key)
            result = await method.handler(call)
        except RateLimited as exc:
            error = {**exc.body(), "data": _retry_data(exc.retry_after)}
            await self._reply(request.id, exc.status, None, error, api_key, places_orders, wants_limits)
            return exc.status
        except ApiError as exc:
            await self._reply(request.id, exc.status, None, exc.body(), api_key, places_orders, wants_limits)
            return exc.status
        except Exception as exc:
            failure = internal_error(exc)
            if failure.status == 503:
                log.warning("%s: backend unreachable: %r", request.method, exc)
            else:
                log.exception("%s failed", request.method)
            await self._reply(
                request.id, failure.status, None, failure.body(), api_key, places_orders, wants_limits
            )
            return failure.status
        await self._reply(request.id, 200, result, None, api_key, places_orders, wants_limits)
        return 200

    async def _reply(
        self,
        request_id: RequestId,
        status: int,
        result: object,
        error: JsonObject | None,
        api_key: str | None,
        places_orders: bool,
        wants_limits: bool,
    ) -> None:
        limits = self._usage(api_key, places_orders, wants_limits)
        await self._send(answer(request_id, status, result=result, error=error, rate_limits=limits))

    def _usage(self, api_key: str | None, places_orders: bool, wants: bool) -> list[JsonObject] | None:
        if not (wants and self.session.return_rate_limits):
            return None
        return self.limiter.usage(self.ip, api_key, places_orders)

    def _logged_on_key(self, method: Method, params: dict[str, str]) -> str | None:
        """The key session.logon put on this connection when it stands in for the request's:
        the request has no signature and names no other apiKey."""
        logged_on = self.session.api_key
        if logged_on is None or not method.by_logon or params.get("signature"):
            return None
        return logged_on if params.get("apiKey") in (None, "", logged_on) else None

    async def _authorize(self, method: Method, params: dict[str, str]) -> Principal:
        """The caller of a request to a method that is not NONE. On a connection logged on
        (session.logon), a request without signature and apiKey is the logged-on key's
        (gateway.signed.verify_logged_on; for a method that is not `timestamped`, the key alone).
        Otherwise: -1102 without apiKey, -2014 for a
        malformed one; USER_STREAM: -2015 for an unknown key or an IP it does not trust; signed
        methods: gateway.signed.verify_signed's rejections."""
        ip = self.ip or None
        logged_on = self._logged_on_key(method, params)
        if logged_on is not None:
            if method.security == USER_STREAM or not method.timestamped:
                grant = await resolve_api_key(self.ctx, self.keys, logged_on)
                check_key_use(grant, ip, trading=False)
                return Principal(grant.user_id, "api_key", logged_on, grant.key_type)
            return await verify_logged_on(
                self.ctx, self.keys, logged_on, params, client_ip=ip, trading=method.security == TRADE
            )
        raw_key = params.get("apiKey")
        if not raw_key:
            raise missing("apiKey")
        api_key = check_api_key_format(raw_key)
        if method.security == USER_STREAM:
            grant = await resolve_api_key(self.ctx, self.keys, api_key)
            check_key_use(grant, ip, trading=False)
            return Principal(grant.user_id, "api_key", api_key, grant.key_type)
        assert method.security in SIGNED
        trading = method.security == TRADE
        try:
            who = await verify_signed(
                self.ctx, self.keys, api_key, params, signature_payload(params), client_ip=ip, trading=trading
            )
        except ApiError as exc:
            encoded = encoded_signature_payload(params) if exc.code == INVALID_SIGNATURE else None
            if encoded is None:
                raise
            who = await verify_signed(
                self.ctx, self.keys, api_key, params, encoded, client_ip=ip, trading=trading
            )
        return who
