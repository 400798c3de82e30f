"""Metrics and traces of every gRPC call: one grpc.aio server interceptor (GrpcTelemetry).

Metrics, on the gateway's /metrics registry (the REST metrics' registry: one process):
- `exchange_grpc_requests_total{method, code}`: calls ended, by full method name
  (`exchange.api.v1.Trading/PlaceOrder`) and status code name (`OK`, `NOT_FOUND`, ...); a call of
  a method the server does not have is counted as method `unmatched`, code `UNIMPLEMENTED`;
- `exchange_grpc_request_duration_seconds{method}`: the handler's time, for calls with one
  response (a stream lasts as long as its reader wants: it has none);
- `exchange_grpc_stream_messages_sent_total{method}`: messages sent by streams (those whose
  handler is an async generator, as all of the exchange's own are);
- `exchange_grpc_streams_open{method}`: streams running now.

The wrapped handler of each method is built on its first call and kept, so a call costs the
interceptor's look-up, two clock reads, a LoopHistogram observation and a dictionary increment;
a streamed message, one integer increment. No lock: calls and scrapes run on the event loop's
thread, and the metric families are built at scrape time.

With tracing on (tracing.ENABLED), each call is also a server span named after its method,
whose parent is the W3C context in the call's `traceparent` / `tracestate` metadata, if any. A
call with one response runs inside its span, so that the order path puts the span's context into
the command (exchange_core.protocol.encode_command) exactly as REST's does; a stream's span is
not made current (it would cross the generator's yields).
"""

from __future__ import annotations

import contextlib
import inspect
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from typing import Any, TypeAlias

import grpc
from opentelemetry.trace import Span, SpanKind, StatusCode, use_span
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from exchange_core import tracing
from exchange_core.telemetry import LoopHistogram
from gateway.telemetry import LATENCY_BUCKETS

UNMATCHED = "unmatched"
OK = "OK"
Context = grpc.aio.ServicerContext[Any, Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"

# grpc.aio's context.code() is the number of the code set (a StatusCode when set by set_code).
_CODE_NAMES: dict[object, str] = {c: c.name for c in grpc.StatusCode} | {
    c.value[0]: c.name for c in grpc.StatusCode
}
_CODE_NUMBERS: dict[str, int] = {c.name: c.value[0] for c in grpc.StatusCode}
# Codes that are the server's failure rather than the caller's (OpenTelemetry's RPC conventions):
# a span with one of them has status ERROR.
SERVER_ERRORS = frozenset(
    {"UNKNOWN", "DEADLINE_EXCEEDED", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}
)


class MethodStats:
    """One method's numbers, added to by its calls, read at scrape time."""

    __slots__ = ("attributes", "codes", "latency", "method", "open", "sent", "streams")

    def __init__(self, method: str) -> None:
        self.method = method
        self.streams = False
        self.latency = LoopHistogram(LATENCY_BUCKETS)
        self.codes: dict[str, int] = {}
        self.sent = 0
        self.open = 0
        service, _, name = method.rpartition("/")
        self.attributes = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}

    def count(self, code: str) -> None:
        self.codes[code] = self.codes.get(code, 0) + 1


def code_of(context: Context, error: BaseException | None = None) -> str:
    """The status code name a call ends with: the one the handler set (abort, set_code), else
    CANCELLED / DEADLINE_EXCEEDED for a cancelled call, UNKNOWN for another exception (what grpc
    answers), OK for a return."""
    code: object = context.code()
    if code is not None and code != 0 and code is not grpc.StatusCode.OK:
        return _CODE_NAMES.get(code, str(code))
    if error is None or isinstance(error, grpc.aio.AbortError):
        return OK
    if not isinstance(error, Exception):  # CancelledError, GeneratorExit: the call was cancelled
        remaining = context.time_remaining()
        return "DEADLINE_EXCEEDED" if remaining is not None and remaining <= 0 else "CANCELLED"
    return "UNKNOWN"


TRACE_KEYS = frozenset({"traceparent", "tracestate"})


def _trace_parent(context: Context) -> dict[str, str]:
    """The W3C trace context in the call's metadata (gRPC metadata keys are lower case)."""
    return {k: v for k, v in context.invocation_metadata() or () if k in TRACE_KEYS and isinstance(v, str)}


def _start_span(stats: MethodStats, context: Context) -> Span:
    return tracing.tracer("gateway").start_span(
        stats.method,
        context=tracing.parent(_trace_parent(context)),
        kind=SpanKind.SERVER,
        attributes=stats.attributes,
    )


def _end_span(span: Span, code: str) -> None:
    span.set_attribute("rpc.grpc.status_code", _CODE_NUMBERS.get(code, 2))
    if code in SERVER_ERRORS:
        span.set_status(StatusCode.ERROR, code)
    span.end()


# Handlers as grpc.aio calls them: (request or request iterator, context).
Unary = Callable[..., Awaitable[Any]]
Streaming = Callable[..., AsyncGenerator[Any, None]]


def _unary(behavior: Unary, stats: MethodStats) -> Unary:
    """A handler with one response (its request one message or a stream)."""
    observe = stats.latency.observe

    async def call(request: Any, context: Context) -> Any:
        if tracing.ENABLED:
            return await _traced_unary(behavior, stats, request, context)
        start = time.perf_counter()
        try:
            response = await behavior(request, context)
        except BaseException as exc:
            observe(time.perf_counter() - start)
            stats.count(code_of(context, exc))
            raise
        observe(time.perf_counter() - start)
        stats.count(code_of(context))
        return response

    return call


async def _traced_unary(behavior: Unary, stats: MethodStats, request: Any, context: Context) -> Any:
    span = _start_span(stats, context)
    code = OK
    start = time.perf_counter()
    try:
        with use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
            response = await behavior(request, context)
        code = code_of(context)
        return response
    except BaseException as exc:
        code = code_of(context, exc)
        raise
    finally:
        stats.latency.observe(time.perf_counter() - start)
        stats.count(code)
        _end_span(span, code)


def _streaming(behavior: Streaming, stats: MethodStats) -> Streaming:
    """A handler that streams its responses as an async generator."""

    async def call(request: Any, context: Context) -> AsyncGenerator[Any, None]:
        span = _start_span(stats, context) if tracing.ENABLED else None
        stats.open += 1
        code = OK
        try:
            async with contextlib.aclosing(behavior(request, context)) as messages:
                async for message in messages:
                    stats.sent += 1
                    yield message
            code = code_of(context)
        except BaseException as exc:
            code = code_of(context, exc)
            raise
        finally:
            stats.open -= 1
            stats.count(code)
            if span is not None:
                _end_span(span, code)

    return call


def _writing(behavior: Unary, stats: MethodStats) -> Unary:
    """A handler that streams its responses with context.write (its messages are not counted)."""

    async def call(request: Any, context: Context) -> Any:
        span = _start_span(stats, context) if tracing.ENABLED else None
        stats.open += 1
        code = OK
        try:
            await behavior(request, context)
            code = code_of(context)
        except BaseException as exc:
            code = code_of(context, exc)
            raise
        finally:
            stats.open -= 1
            stats.count(code)
            if span is not None:
                _end_span(span, code)

    return call


def wrap(handler: Handler, stats: MethodStats) -> Handler:
    """`handler` with its calls measured (a synchronous handler, which this server never has, is
    returned as it is)."""
    common = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary is not None:
        if not inspect.iscoroutinefunction(handler.unary_unary):
            return handler
        return grpc.unary_unary_rpc_method_handler(_unary(handler.unary_unary, stats), **common)
    if handler.stream_unary is not None:
        if not inspect.iscoroutinefunction(handler.stream_unary):
            return handler
        return grpc.stream_unary_rpc_method_handler(_unary(handler.stream_unary, stats), **common)
    streaming = handler.unary_stream or handler.stream_stream
    if streaming is None:
        return handler
    stats.streams = True
    if inspect.isasyncgenfunction(streaming):
        wrapped: Any = _streaming(streaming, stats)
    elif inspect.iscoroutinefunction(streaming):
        wrapped = _writing(streaming, stats)
    else:
        return handler
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(wrapped, **common)
    return grpc.stream_stream_rpc_method_handler(wrapped, **common)


class GrpcTelemetry(grpc.aio.ServerInterceptor, Collector):
    """The server's only interceptor (it keeps each method's wrapped handler, so it must be the
    last one, and the server's handlers must not change once it serves), and the collector of
    its metrics, registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.stats: dict[str, MethodStats] = {}
        self.handlers: dict[str, Handler] = {}
        self.unmatched = MethodStats(UNMATCHED)
        registry.register(self)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        path = handler_call_details.method
        handler = self.handlers.get(path)
        if handler is not None:
            return handler
        found = await continuation(handler_call_details)
        if found is None:
            self.unmatched.count("UNIMPLEMENTED")
            return None
        method = path.removeprefix("/")
        stats = self.stats.setdefault(method, MethodStats(method))
        handler = self.handlers[path] = wrap(found, stats)
        return handler

    def collect(self) -> Iterable[Metric]:
        requests = CounterMetricFamily(
            "exchange_grpc_requests",
            "gRPC calls ended, by full method name and status code.",
            labels=["method", "code"],
        )
        duration = HistogramMetricFamily(
            "exchange_grpc_request_duration_seconds",
            "Time a gRPC call with one response took in its handler, by method.",
            labels=["method"],
        )
        sent = CounterMetricFamily(
            "exchange_grpc_stream_messages_sent",
            "Messages sent by gRPC server streams, by method.",
            labels=["method"],
        )
        open_streams = GaugeMetricFamily(
            "exchange_grpc_streams_open", "gRPC server streams running, by method.", labels=["method"]
        )
        for method, stats in [*self.stats.items(), (UNMATCHED, self.unmatched)]:
            for code, count in list(stats.codes.items()):
                requests.add_metric([method, code], count)
            if any(stats.latency.counts):
                duration.add_metric([method], stats.latency.buckets(), stats.latency.sum)
            if stats.streams:
                sent.add_metric([method], stats.sent)
                open_streams.add_metric([method], stats.open)
        yield requests
        yield duration
        yield sent
        yield open_streams
