"""/metrics (Prometheus), /healthz (liveness) and /readyz (readiness: Redis answers) of the
gateway, on its main port; /metrics there only while METRICS_PORT is 0 (else it is on that port
alone, gateway.app's lifespan). Readiness leaves the database out: orders need only Redis, and a
database outage must not take every gateway out of its Service (the endpoints that need the
database answer 503 -1001 meanwhile)."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from exchange_core.telemetry import (
    HEALTH_PATH,
    METRICS_PATH,
    READY_PATH,
    metrics_body,
    redis_ready,
)
from gateway.context import GatewayContext

router = APIRouter(include_in_schema=False)


@router.get(METRICS_PATH)
async def metrics(request: Request) -> Response:
    ctx: GatewayContext | None = getattr(request.app.state, "ctx", None)
    if ctx is not None and ctx.settings.metrics_port:
        return Response("not found\n", status_code=404, media_type="text/plain")
    body, content_type = metrics_body(request.app.state.metrics_registry)
    return Response(body, media_type=content_type)


@router.get(HEALTH_PATH)
async def healthz() -> Response:
    return Response("ok\n", media_type="text/plain")


@router.get(READY_PATH)
async def readyz(request: Request) -> Response:
    ctx: GatewayContext | None = getattr(request.app.state, "ctx", None)
    ready = ctx is not None and await redis_ready(ctx.redis)
    if ready:
        return Response("ready\n", media_type="text/plain")
    return Response("not ready\n", status_code=503, media_type="text/plain")
