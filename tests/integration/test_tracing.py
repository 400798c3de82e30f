"""One trace per order: the gateway (as uvicorn serves it: fast path included), engine, settlement
and DB processor run in this process (on the real Redis and PostgreSQL) with an in-memory span
exporter; an order placed through the REST API gives one trace whose spans come from all four,
each parented by the one before."""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from cryptography.fernet import Fernet
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis.asyncio import Redis

from dbwriter.service import DbWriterService
from dbwriter.settings import DbWriterSettings
from engine.service import EngineService
from engine.settings import EngineSettings
from exchange_core import tracing
from exchange_core.markets import load_markets
from gateway.app import create_app, server_app
from gateway.settings import GatewaySettings
from settlement.service import SettlementService
from settlement.settings import SettlementSettings
from tests import services
from tests.client import AsyncTrader

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
async def exchange(
    exporter: InMemorySpanExporter, own_dsn: str, key_prefix: str, redis_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway app (lifespan run, served in-process), and the engine of SYMBOL, settlement
    and the DB processor as tasks of this event loop."""
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
            grpc_port=0,
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
