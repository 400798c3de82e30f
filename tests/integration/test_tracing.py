"""One trace per order: the gateway (as uvicorn serves it: fast path included, and its gRPC server),
engine, settlement and DB processor run in this process (on the real Redis and PostgreSQL) with an
in-memory span exporter; an order placed through the REST API or the gRPC API gives one trace
whose spans come from all four, each parented by the one before (the gRPC call's by the caller's
`traceparent` metadata)."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
import pytest_asyncio
from cryptography.fernet import Fernet
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from redis.asyncio import Redis

from dbwriter.service import DbWriterService
from dbwriter.settings import DbWriterSettings
from engine.service import EngineService
from engine.settings import EngineSettings
from exchange_core import tracing
from exchange_core.markets import load_markets
from exchange_proto import api_types_pb2 as apb
from exchange_proto import trading_api_pb2 as tpb
from gateway.app import create_app, server_app
from gateway.settings import GatewaySettings
from launcher.stack import free_port
from settlement.service import SettlementService
from settlement.settings import SettlementSettings
from tests import services
from tests.client import AsyncTrader
from tests.grpc_client import GrpcTrader, signed_metadata

SYMBOL = "BTCUSDT"
BASE = "http://testserver"


@pytest_asyncio.fixture
async def exporter() -> AsyncIterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    tracing.configure("test", exporter=spans)
    yield spans
    tracing.shutdown()


@pytest_asyncio.fixture
async def own_dsn() -> AsyncIterator[str]:
    """A database of this test's own: its trades and orders stay out of other tests' history."""
    services.ensure_postgres()
    dsn = await services.create_test_database()
    yield dsn
    await services.drop_test_database(dsn)


@pytest_asyncio.fixture
async def grpc_port() -> int:
    return free_port()


@pytest_asyncio.fixture
async def exchange(
    exporter: InMemorySpanExporter, own_dsn: str, key_prefix: str, redis_url: str, grpc_port: int
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app (lifespan run, served in-process, its gRPC API on `grpc_port`), and the
    engine of SYMBOL, settlement and the DB processor as tasks of this event loop."""
    markets = load_markets()
    redis: Redis = Redis.from_url(redis_url)
    pool = await asyncpg.create_pool(own_dsn, min_size=0, max_size=1)
    services: list[Any] = [
        EngineService(
            EngineSettings(symbol=SYMBOL, key_prefix=key_prefix, block_ms=20), redis, markets[SYMBOL].spec
        ),
        SettlementService(SettlementSettings(key_prefix=key_prefix, block_ms=20), redis, markets),
        DbWriterService(DbWriterSettings(key_prefix=key_prefix, block_ms=20), redis, pool, markets),
    ]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(s.run(stop)) for s in services]
    app = create_app(
        GatewaySettings(
            database_url=own_dsn,
            key_prefix=key_prefix,
            secret_key=Fernet.generate_key().decode(),
            grpc_port=grpc_port,
        )
    )
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=server_app(app))  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url=BASE, timeout=30) as http:
                yield http
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await pool.close()
        await redis.aclose()


async def new_trader(http: httpx.AsyncClient) -> AsyncTrader:
    r = await http.post(
        "/api/web/signup", json={"email": "t@example.com", "password": "correct horse battery"}
    )
    assert r.status_code == 200, r.text
    user_id = r.json()["userId"]
    r = await http.post("/api/web/apikeys", json={"label": "t"}, headers={"X-Requested-With": "exchange-web"})
    assert r.status_code == 200, r.text
    http.cookies.clear()  # an API client: its orders take the gateway's fast path
    return AsyncTrader(BASE, user_id, r.json()["apiKey"], r.json()["secretKey"], http)


async def wait_for(
    exporter: InMemorySpanExporter, done: Callable[[list[ReadableSpan]], bool]
) -> list[ReadableSpan]:
    for _ in range(300):
        spans = list(exporter.get_finished_spans())
        if done(spans):
            return spans
        await asyncio.sleep(0.02)
    raise AssertionError(f"spans never complete: {[s.name for s in exporter.get_finished_spans()]}")


def component(span: ReadableSpan) -> str:
    assert span.instrumentation_scope is not None
    return span.instrumentation_scope.name.removeprefix("exchange.")


async def test_an_order_is_one_trace_from_gateway_through_engine_to_settlement_and_dbwriter(
    exchange: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    trader = await new_trader(exchange)
    exporter.clear()
    status, body = await trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT",
                                     timeInForce="GTC", price="20000", quantity="0.01")  # fmt: skip
    assert status == 200, body

    def complete(spans: list[ReadableSpan]) -> bool:
        return {"gateway", "engine", "settlement", "dbwriter"} <= {component(s) for s in spans}

    spans = await wait_for(exporter, complete)
    (server,) = [s for s in spans if component(s) == "gateway" and s.name == "gateway POST /api/v3/order"]
    assert server.context is not None
    trace = [s for s in spans if s.context is not None and s.context.trace_id == server.context.trace_id]
    by_component = {component(s): s for s in trace}
    assert set(by_component) == {"gateway", "engine", "settlement", "dbwriter"}
    engine, settlement, dbwriter = (
        by_component["engine"],
        by_component["settlement"],
        by_component["dbwriter"],
    )
    assert engine.parent is not None and engine.parent.span_id == server.context.span_id
    assert engine.context is not None
    for follower in (settlement, dbwriter):
        assert follower.parent is not None and follower.parent.span_id == engine.context.span_id
    assert engine.attributes is not None and engine.attributes["exchange.symbol"] == SYMBOL
    assert dict(server.attributes or {})["http.route"] == "/api/v3/order"
    assert dict(server.attributes or {})["http.response.status_code"] == 200
    # Spans are in causal order: the engine's starts within the gateway's, settlement after the engine's.
    assert (
        server.start_time is not None and engine.start_time is not None and settlement.start_time is not None
    )
    assert server.start_time <= engine.start_time and engine.start_time <= settlement.start_time


async def test_a_grpc_order_continues_the_callers_trace_through_engine_settlement_and_dbwriter(
    exchange: httpx.AsyncClient, exporter: InMemorySpanExporter, grpc_port: int
) -> None:
    trader = await new_trader(exchange)
    exporter.clear()
    trace_id, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    request = tpb.PlaceOrderRequest(
        symbol=SYMBOL,
        side=apb.SIDE_BUY,
        type=apb.ORDER_TYPE_LIMIT,
        time_in_force=apb.TIME_IN_FORCE_GTC,
        price="20000",
        quantity="0.01",
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        g = GrpcTrader(channel, trader.api_key, trader.secret)
        metadata = [*signed_metadata(g.api_key, g.secret, "PlaceOrder", request)]
        metadata.append(("traceparent", f"00-{trace_id}-{caller_span}-01"))
        placed = await g.trading.PlaceOrder(request, metadata=metadata, timeout=10)
        assert placed.status == apb.ORDER_STATUS_NEW
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await g.call("GetOrder", tpb.GetOrderRequest(symbol=SYMBOL, order_id=999_999))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    def complete(spans: list[ReadableSpan]) -> bool:
        in_trace = [s for s in spans if s.context is not None and s.context.trace_id == int(trace_id, 16)]
        return {"gateway", "engine", "settlement", "dbwriter"} <= {component(s) for s in in_trace} and any(
            s.name.endswith("/GetOrder") for s in spans
        )

    spans = await wait_for(exporter, complete)
    trace = [s for s in spans if s.context is not None and s.context.trace_id == int(trace_id, 16)]
    by_component = {component(s): s for s in trace}
    assert set(by_component) == {"gateway", "engine", "settlement", "dbwriter"}
    server, engine = by_component["gateway"], by_component["engine"]
    assert server.name == "exchange.api.v1.Trading/PlaceOrder" and server.kind == SpanKind.SERVER
    assert server.parent is not None and server.parent.span_id == int(caller_span, 16)
    assert server.context is not None and engine.context is not None
    assert engine.parent is not None and engine.parent.span_id == server.context.span_id
    for follower in (by_component["settlement"], by_component["dbwriter"]):
        assert follower.parent is not None and follower.parent.span_id == engine.context.span_id
    attributes = dict(server.attributes or {})
    assert attributes["rpc.system"] == "grpc" and attributes["rpc.service"] == "exchange.api.v1.Trading"
    assert (attributes["rpc.method"], attributes["rpc.grpc.status_code"]) == ("PlaceOrder", 0)

    (lookup,) = [s for s in spans if s.name == "exchange.api.v1.Trading/GetOrder"]
    assert lookup.parent is None  # no traceparent: a trace of its own
    assert dict(lookup.attributes or {})["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert lookup.status.status_code == StatusCode.UNSET  # the caller's error, not the server's
