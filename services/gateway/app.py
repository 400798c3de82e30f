"""The gateway application: REST under /api/v3 (Binance Spot compatible), Binance's WebSocket API
at /ws-api/v3, web endpoints under /api/web, the built web page at /, OpenAPI at /docs."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from exchange_core import store, tracing
from exchange_core.db import create_pool
from exchange_core.errors import MANDATORY_PARAM_EMPTY_OR_MALFORMED, ApiError
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import load_markets
from exchange_core.pipelined import PipelinedRedis
from exchange_core.runtime import configure_logging, tune_gc
from exchange_core.telemetry import new_registry, redis_ready, serve_probes
from exchange_core.unavailable import UNREACHABLE, internal_error
from gateway.admin.audit import AdminAudit
from gateway.admin.auth import check_admin_token
from gateway.bodylimit import MAX_BODY_BYTES, BodySizeLimit
from gateway.context import GatewayContext
from gateway.directorders import DirectOrders
from gateway.fastpath import ORDER_PATH, OrderFastPath
from gateway.ratelimit import RateLimited, RateLimiter, RateLimitMiddleware
from gateway.settings import GatewaySettings
from gateway.telemetry import RequestMetrics, TelemetryMiddleware
from gateway.wsapi.metrics import WsApiMetrics

log = logging.getLogger("gateway")


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    if settings.admin_token:
        check_admin_token(settings.admin_token)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from gateway.feeds import MarketFeeds
        from gateway.grpcapi.server import start_grpc
        from gateway.keycache import api_key_cache
        from gateway.keywatch import KeyWatch
        from gateway.marketstatus import MarketStatuses
        from gateway.orderlists import OrderListService
        from gateway.orders import OrderService
        from gateway.replies import ReplyListener

        traced_here = tracing.configure("gateway") if not tracing.ENABLED else False
        redis = store.connect(settings.redis_url, max_connections=256)
        # Connected on first use: the gateway starts, and places orders (Redis only), while the
        # database is down; the endpoints that need it answer 503 -1001 meanwhile.
        pool = await create_pool(settings.database_url, min_size=0, max_size=10)
        keys = Keys(settings.key_prefix)
        markets = load_markets(Path(settings.markets_file) if settings.markets_file else None)
        pipelined = PipelinedRedis.like(redis)
        ctx = GatewayContext(settings, redis, pool, keys, Ledger(redis, keys, pipelined), markets, pipelined)
        await ctx.ledger.load_scripts()
        ctx.replies = ReplyListener(redis, keys.reply_channel(settings.gateway_id))
        await ctx.replies.start()
        ctx.statuses = MarketStatuses(redis, keys, list(markets))
        await ctx.statuses.start()
        app.state.admin_audit.statuses = ctx.statuses.snapshot
        ctx.orders = OrderService(ctx)
        ctx.order_lists = OrderListService(ctx.orders)
        ctx.feeds = MarketFeeds(redis, keys, markets)
        feeds_task = asyncio.create_task(ctx.feeds.run())
        ctx.key_watch = KeyWatch(ctx, api_key_cache(app.state))
        watch_task = asyncio.create_task(ctx.key_watch.run())
        app.state.ctx = ctx
        grpc_api = await start_grpc(
            ctx, api_key_cache(app.state), app.state.rate_limiter, app.state.metrics_registry
        )

        async def ready() -> bool:
            return await redis_ready(redis)

        probes = await serve_probes(settings, app.state.metrics_registry, ready)
        tune_gc()  # what start-up built is frozen out of the collector's full passes
        try:
            yield
        finally:
            if probes is not None:
                await probes.stop()
            if grpc_api is not None:
                await grpc_api.stop()
            for task in (feeds_task, watch_task):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await ctx.replies.stop()
            await ctx.statuses.stop()
            await pipelined.aclose()
            await pool.close()
            await redis.aclose()
            if traced_here:
                tracing.shutdown()

    app = FastAPI(
        title="Exchange API",
        description="Binance Spot compatible REST API of the simulated exchange.",
        version="0.1.0",
        lifespan=lifespan,
    )

    app.state.metrics_registry = registry = new_registry()
    app.state.request_metrics = RequestMetrics(registry)
    app.state.rate_limiter = RateLimiter(settings.rate_limits())
    app.state.wsapi_metrics = WsApiMetrics(registry)
    app.state.admin_audit = AdminAudit(registry)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        msg = f"Mandatory parameter '{where}' was not sent, was empty/null, or malformed."
        return JSONResponse({"code": MANDATORY_PARAM_EMPTY_OR_MALFORMED, "msg": msg}, status_code=400)

    async def unreachable(request: Request, exc: Exception) -> JSONResponse:
        log.warning("%s %s: backend unreachable: %r", request.method, request.url.path, exc)
        error = internal_error(exc)
        return JSONResponse(error.body(), status_code=error.status)

    # Handled here, these end the request and leave the connection open for the next one.
    for unreachable_error in UNREACHABLE:
        app.add_exception_handler(unreachable_error, unreachable)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        error = internal_error(exc)
        return JSONResponse(error.body(), status_code=error.status)

    from gateway.routes import (
        account,
        derivatives,
        home,
        market,
        orderlists,
        probes,
        public,
        sapi,
        tickers,
        trading,
        userstream,
        web,
    )
    from gateway.wsapi import endpoint as wsapi_endpoint

    app.include_router(public.router)
    app.include_router(market.router)
    app.include_router(tickers.router)
    app.include_router(trading.router)
    app.include_router(orderlists.router)
    app.include_router(account.router)
    app.include_router(sapi.router)
    app.include_router(derivatives.router)
    app.include_router(userstream.router)
    app.include_router(wsapi_endpoint.router)
    app.include_router(web.router)
    app.include_router(home.router)
    app.include_router(probes.router)
    if settings.admin_token:
        from gateway.admin import markets as admin_markets
        from gateway.admin import scenarios as admin_scenarios

        app.include_router(admin_markets.router)
        app.include_router(admin_scenarios.router)
    app.add_exception_handler(404, home.web_path)
    return app


def create_server_app(settings: GatewaySettings | None = None) -> "ServedApp":
    """What uvicorn serves (see server_app), in a process whose log records at LOG_LEVEL and up
    are written to stderr (the admin API's audit lines among them)."""
    settings = settings or GatewaySettings()
    configure_logging(settings.log_level)
    return server_app(create_app(settings))


class ServedApp:
    """The ASGI app `asgi`, and `direct`: the signed orders gateway.httpprotocol answers without
    it, as it would (gateway.directorders)."""

    def __init__(self, asgi: TelemetryMiddleware, direct: DirectOrders) -> None:
        self.asgi = asgi
        self.direct = direct

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.asgi(scope, receive, send)


def server_app(app: FastAPI) -> ServedApp:
    """`app` behind the signed-order fast path (gateway/fastpath.py), both behind the rate limits
    (gateway/ratelimit.py), those behind the body size limit (gateway/bodylimit.py) and all behind
    the request metrics and traces (gateway/telemetry.py), so that every request is limited,
    counted and traced (a 429 and a 413 too); with the same for signed orders without ASGI."""
    fast = OrderFastPath(app)
    limiter, metrics = app.state.rate_limiter, app.state.request_metrics
    limited = BodySizeLimit(RateLimitMiddleware(fast, limiter), MAX_BODY_BYTES)
    asgi = TelemetryMiddleware(limited, metrics, direct_routes={ORDER_PATH})
    return ServedApp(asgi, DirectOrders(fast, limiter, metrics, MAX_BODY_BYTES))
