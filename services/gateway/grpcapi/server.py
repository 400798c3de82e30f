"""The gateway's gRPC server: Trading, MarketData, grpc.health.v1 and server reflection on
GRPC_HOST:GRPC_PORT (127.0.0.1:50051 unless set; GRPC_PORT=0: no gRPC server), sharing the REST
app's context (Redis, PostgreSQL pool, ledger, order service, reply listener), API-key cache and
rate limiter;
every call is measured and traced (grpcapi/telemetry.py) on the REST app's metrics registry."""

import logging

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry

from exchange_proto import (
    market_data_api_pb2,
    market_data_api_pb2_grpc,
    trading_api_pb2,
    trading_api_pb2_grpc,
)
from gateway.context import GatewayContext
from gateway.grpcapi.marketdata import MarketDataService
from gateway.grpcapi.signing import Signer
from gateway.grpcapi.telemetry import GrpcTelemetry
from gateway.grpcapi.trading import TradingService
from gateway.keycache import ApiKeyCache
from gateway.ratelimit import RateLimiter

log = logging.getLogger("gateway.grpc")

SERVICES = (
    trading_api_pb2.DESCRIPTOR.services_by_name["Trading"].full_name,
    market_data_api_pb2.DESCRIPTOR.services_by_name["MarketData"].full_name,
)
GRACE_S = 2.0


class GrpcApi:
    """The running server."""

    def __init__(
        self, server: grpc.aio.Server, health_servicer: health.aio.HealthServicer, port: int
    ) -> None:
        self.server = server
        self.health = health_servicer
        self.port = port

    async def stop(self) -> None:
        """Report NOT_SERVING, finish calls in flight for up to GRACE_S."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(GRACE_S)


async def start_grpc(
    ctx: GatewayContext, cache: ApiKeyCache, limiter: RateLimiter, registry: CollectorRegistry
) -> GrpcApi | None:
    """Start the gRPC API, or None when GRPC_PORT is 0; its calls count in REST's `limiter`, its
    metrics go into `registry`. Raises
    RuntimeError when the port cannot be bound. Several gateway workers (WORKERS > 1) share the
    port (SO_REUSEPORT); a single gateway does not, so that a port already taken is an error
    rather than a shared one."""
    settings = ctx.settings
    if not settings.grpc_port:
        return None
    server = grpc.aio.server(
        interceptors=[GrpcTelemetry(registry)],
        options=[("grpc.so_reuseport", 1 if settings.workers > 1 else 0)],
    )
    feeds = ctx.feeds
    trading_api_pb2_grpc.add_TradingServicer_to_server(
        TradingService(ctx, Signer(ctx, cache), feeds, limiter), server
    )
    market_data_api_pb2_grpc.add_MarketDataServicer_to_server(MarketDataService(ctx, feeds, limiter), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((*SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as exc:
        raise RuntimeError(f"gRPC: cannot listen on {address}: {exc}") from exc
    await server.start()
    for name in ("", *SERVICES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("gRPC API on %s", address)
    return GrpcApi(server, health_servicer, port)
