"""OpenTelemetry traces of the order path; off unless the standard OTEL_* variables turn it on.

One trace per order: the gateway's server span, whose W3C context travels in the command
(Command.trace_context); the engine's span for the command, whose context travels on in the
event batch (CommandRef.trace_context); settlement's and the DB processor's spans for it.

On when `configure` finds OTEL_TRACES_EXPORTER set to `otlp` or `console`, or an OTLP endpoint
(OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); OTEL_SDK_DISABLED=true or
OTEL_TRACES_EXPORTER=none keep it off. The exporter reads the other standard variables itself
(OTEL_EXPORTER_OTLP_PROTOCOL `http/protobuf`, the default, or `grpc` when the gRPC exporter is
installed; OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER, ...).

Hot paths test the module attribute `tracing.ENABLED` (one boolean) before doing anything else.
"""

import logging
import os
from collections.abc import Mapping

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

log = logging.getLogger("tracing")

ENABLED = False
_provider: TracerProvider | None = None
_tracers: dict[str, Tracer] = {}
_propagator = TraceContextTextMapPropagator()


def wanted(env: Mapping[str, str] = os.environ) -> bool:
    """Does the environment ask for traces?"""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def _exporter_from_env() -> SpanExporter:
    kind = os.environ.get("OTEL_TRACES_EXPORTER", "otlp").strip().lower() or "otlp"
    if kind == "console":
        return ConsoleSpanExporter()
    if kind != "otlp":
        raise SystemExit(f"OTEL_TRACES_EXPORTER={kind!r} is not supported here: use otlp, console or none")
    env = os.environ
    protocol = env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    protocol = protocol.strip()
    if protocol == "grpc":
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter as GrpcExporter,
            )
        except ImportError:
            raise SystemExit(
                "OTEL_EXPORTER_OTLP_PROTOCOL=grpc needs opentelemetry-exporter-otlp-proto-grpc installed; "
                "or use http/protobuf (the default)"
            ) from None
        grpc_exporter: SpanExporter = GrpcExporter()
        return grpc_exporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def configure(service_name: str, exporter: SpanExporter | None = None) -> bool:
    """Turn tracing on for this process when the environment asks for it, or always when an
    `exporter` is given (spans then go to it one by one: tests use an in-memory exporter).
    `service_name` is the resource's service.name unless OTEL_SERVICE_NAME or
    OTEL_RESOURCE_ATTRIBUTES name one. Returns whether tracing is on."""
    global ENABLED, _provider
    if exporter is None and not wanted():
        return False
    shutdown()
    resource = Resource.create()
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": service_name}))
    provider = TracerProvider(resource=resource)
    if exporter is None:
        provider.add_span_processor(BatchSpanProcessor(_exporter_from_env()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _provider = provider
    ENABLED = True
    log.info("tracing on (service.name %s)", provider.resource.attributes.get("service.name"))
    return True


def shutdown() -> None:
    """Flush and stop tracing (no-op when off)."""
    global ENABLED, _provider
    ENABLED = False
    _tracers.clear()
    if _provider is not None:
        _provider.shutdown()
        _provider = None


def tracer(component: str) -> Tracer:
    """The tracer of one component (gateway, engine, settlement, dbwriter); tracing must be on."""
    found = _tracers.get(component)
    if found is None:
        if _provider is None:
            raise RuntimeError("tracing is off")
        found = _tracers[component] = _provider.get_tracer(f"exchange.{component}")
    return found


def carrier(context: Context | None = None) -> dict[str, str] | None:
    """The W3C trace context (traceparent, tracestate) of `context` (default: the current one);
    None when tracing is off or there is no span."""
    if not ENABLED:
        return None
    out: dict[str, str] = {}
    _propagator.inject(out, context=context)
    return out or None


def parent(carrier: Mapping[str, str] | None) -> Context | None:
    """The context a carrier (or HTTP headers) holds, to parent a span with; None for none."""
    if not carrier:
        return None
    return _propagator.extract(carrier)


def command_span(
    component: str,
    action: str,
    symbol: str,
    command_id: str,
    carrier: Mapping[str, str],
    start_ns: int,
    **attributes: AttributeValue,
) -> Span:
    """A started `{component} {action} {symbol}` span over one command, from `start_ns`: a
    consumer of the message that carried `carrier` (the command's trace context), whose span is its
    parent. Its attributes: exchange.symbol, exchange.command_id, and `exchange.<name>` for each
    of `attributes`. The caller ends it."""
    return tracer(component).start_span(
        f"{component} {action} {symbol}",
        context=parent(carrier),
        kind=SpanKind.CONSUMER,
        start_time=start_ns,
        attributes={
            "exchange.symbol": symbol,
            "exchange.command_id": command_id,
            **{f"exchange.{name}": value for name, value in attributes.items()},
        },
    )
