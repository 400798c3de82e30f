"""The gateway application: REST under /api/v3 (Binance Spot compatible), web endpoints under
/api/web, the built web page at /, OpenAPI at /docs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from exchange_core.db import create_pool
from exchange_core.errors import MANDATORY_PARAM_EMPTY_OR_MALFORMED, UNKNOWN, ApiError
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import load_markets
from gateway.context import GatewayContext
from gateway.fastpath import OrderFastPath
from gateway.settings import GatewaySettings


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from gateway.auth import api_key_cache
        from gateway.grpcapi.server import start_grpc
        from gateway.orders import OrderService
        from gateway.replies import ReplyListener

        redis = Redis.from_url(settings.redis_url, max_connections=256)
        pool = await create_pool(settings.database_url, min_size=1, max_size=10)
        keys = Keys(settings.key_prefix)
        markets = load_markets(Path(settings.markets_file) if settings.markets_file else None)
        ctx = GatewayContext(settings, redis, pool, keys, Ledger(redis, keys), markets)
        await ctx.ledger.load_scripts()
        ctx.replies = ReplyListener(redis, keys.reply_channel(settings.gateway_id))
        await ctx.replies.start()
        ctx.orders = OrderService(ctx)
        app.state.ctx = ctx
        grpc_api = await start_grpc(ctx, api_key_cache(app.state))
        try:
            yield
        finally:
            if grpc_api is not None:
                await grpc_api.stop()
            await ctx.replies.stop()
            await ctx.ledger.pipelined.aclose()
            await pool.close()
            await redis.aclose()

    app = FastAPI(
        title="Exchange API",
        description="Binance Spot compatible REST API of the simulated exchange.",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        msg = f"Mandatory parameter '{where}' was not sent, was empty/null, or malformed."
        return JSONResponse({"code": MANDATORY_PARAM_EMPTY_OR_MALFORMED, "msg": msg}, status_code=400)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(
            {"code": UNKNOWN, "msg": "An unknown error occurred while processing the request."},
            status_code=500,
        )

    from gateway.routes import account, home, market, public, trading, userstream, web

    app.include_router(public.router)
    app.include_router(market.router)
    app.include_router(trading.router)
    app.include_router(account.router)
    app.include_router(userstream.router)
    app.include_router(web.router)
    app.include_router(home.router)
    return app


def create_server_app(settings: GatewaySettings | None = None) -> OrderFastPath:
    """What uvicorn serves: the FastAPI app behind the signed-order fast path (gateway/fastpath.py)."""
    return OrderFastPath(create_app(settings))
