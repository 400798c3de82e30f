"""The gRPC interceptor's metrics (gateway.grpcapi.telemetry.GrpcTelemetry) on a real grpc.aio
server on 127.0.0.1 with toy byte handlers: each way a call can end is counted under its status
code, one-response calls are timed, streams count their messages and are open while they run."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest_asyncio
from prometheus_client import CollectorRegistry

from gateway.grpcapi.telemetry import GrpcTelemetry

SERVICE = "test.Toy"


async def echo(request: bytes, context: Any) -> bytes:
    return request


async def missing(request: bytes, context: Any) -> bytes:
    await context.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
    raise AssertionError("abort returned")


async def broken(request: bytes, context: Any) -> bytes:
    raise RuntimeError("bug")


async def slow(request: bytes, context: Any) -> bytes:
    await asyncio.sleep(5)
    return request


async def counting(request: bytes, context: Any) -> AsyncIterator[bytes]:
    for i in range(int(request)):
        yield str(i).encode()
    await asyncio.sleep(30)  # stays open until cancelled


@pytest_asyncio.fixture
async def served() -> AsyncIterator[tuple[grpc.aio.Channel, CollectorRegistry]]:
    registry = CollectorRegistry()
    server = grpc.aio.server(interceptors=[GrpcTelemetry(registry)])
    handlers = {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
        "Missing": grpc.unary_unary_rpc_method_handler(missing),
        "Broken": grpc.unary_unary_rpc_method_handler(broken),
        "Slow": grpc.unary_unary_rpc_method_handler(slow),
        "Count": grpc.unary_stream_rpc_method_handler(counting),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel, registry
    finally:
        await server.stop(None)


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


async def code_of(call: Any) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


Served = tuple[grpc.aio.Channel, CollectorRegistry]


async def test_calls_are_counted_by_method_and_code(served: Served) -> None:
    channel, registry = served

    def unary(name: str) -> Any:
        return channel.unary_unary(f"/{SERVICE}/{name}")

    for _ in range(3):
        assert await unary("Echo")(b"hi", timeout=5) == b"hi"
    assert await code_of(unary("Missing")(b"", timeout=5)) == grpc.StatusCode.NOT_FOUND
    assert await code_of(unary("Broken")(b"", timeout=5)) == grpc.StatusCode.UNKNOWN
    assert await code_of(unary("Slow")(b"", timeout=0.2)) == grpc.StatusCode.DEADLINE_EXCEEDED
    assert await code_of(unary("Nope")(b"", timeout=5)) == grpc.StatusCode.UNIMPLEMENTED
    total = "exchange_grpc_requests_total"
    for _ in range(250):  # until the server side of the deadline has ended too (a busy host is slow)
        if value(registry, total, method=f"{SERVICE}/Slow", code="DEADLINE_EXCEEDED") is not None:
            break
        await asyncio.sleep(0.02)

    assert value(registry, total, method=f"{SERVICE}/Echo", code="OK") == 3
    assert value(registry, total, method=f"{SERVICE}/Missing", code="NOT_FOUND") == 1
    assert value(registry, total, method=f"{SERVICE}/Broken", code="UNKNOWN") == 1
    assert value(registry, total, method=f"{SERVICE}/Slow", code="DEADLINE_EXCEEDED") == 1
    assert value(registry, total, method="unmatched", code="UNIMPLEMENTED") == 1
    assert value(registry, total, method=f"{SERVICE}/Echo", code="UNKNOWN") is None

    count = "exchange_grpc_request_duration_seconds_count"
    assert value(registry, count, method=f"{SERVICE}/Echo") == 3
    assert value(registry, count, method=f"{SERVICE}/Missing") == 1
    slow_sum = value(registry, "exchange_grpc_request_duration_seconds_sum", method=f"{SERVICE}/Slow")
    assert slow_sum is not None and 0.15 < slow_sum < 2.0
    bucket = "exchange_grpc_request_duration_seconds_bucket"
    assert value(registry, bucket, method=f"{SERVICE}/Echo", le="0.1") == 3


async def test_streams_count_messages_and_are_open_while_they_run(served: Served) -> None:
    channel, registry = served
    method = f"{SERVICE}/Count"
    call = channel.unary_stream(f"/{method}")(b"4")
    got = [await call.read() for _ in range(4)]
    assert got == [b"0", b"1", b"2", b"3"]
    assert value(registry, "exchange_grpc_streams_open", method=method) == 1
    assert value(registry, "exchange_grpc_stream_messages_sent_total", method=method) == 4
    assert value(registry, "exchange_grpc_requests_total", method=method, code="CANCELLED") is None
    call.cancel()
    for _ in range(100):
        if value(registry, "exchange_grpc_streams_open", method=method) == 0:
            break
        await asyncio.sleep(0.02)
    assert value(registry, "exchange_grpc_streams_open", method=method) == 0
    assert value(registry, "exchange_grpc_requests_total", method=method, code="CANCELLED") == 1
    assert value(registry, "exchange_grpc_request_duration_seconds_count", method=method) is None
