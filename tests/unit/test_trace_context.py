"""Trace context on the wire: off by default, carried by commands and CommandRefs when on, and
the standard OTEL_* variables decide whether tracing is on."""

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from engine.journal import decode_entry
from exchange_core import tracing
from exchange_core.protocol import encode_command
from exchange_core.wire import encode_command_ref
from exchange_proto import commands_pb2, events_pb2
from matching import CancelOrder


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tracing.configure("test", exporter=exporter)
    yield exporter
    tracing.shutdown()


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_the_standard_variables_turn_tracing_on(env: dict[str, str], on: bool) -> None:
    assert tracing.wanted(env) is on


def test_tracing_is_off_by_default_and_commands_carry_no_context() -> None:
    assert not tracing.ENABLED
    assert tracing.carrier() is None
    msg = commands_pb2.Command.FromString(encode_command(CancelOrder("BTCUSDT", 1, 2)))
    assert dict(msg.trace_context) == {}


def test_a_command_carries_the_current_span_and_the_engine_reads_it(spans: InMemorySpanExporter) -> None:
    with tracing.tracer("gateway").start_as_current_span("order") as span:
        data = encode_command(CancelOrder("BTCUSDT", 1, 2), "reply", "corr")
    context = dict(commands_pb2.Command.FromString(data).trace_context)
    trace_id = f"{span.get_span_context().trace_id:032x}"
    assert context["traceparent"].split("-")[1] == trace_id
    journal = decode_entry(b"1700000000000-0", {b"c": data})
    assert journal.trace_context == context and journal.reply_to == "reply"
    parent = tracing.parent(context)
    with tracing.tracer("engine").start_as_current_span("apply", context=parent) as child:
        assert child.get_span_context().trace_id == span.get_span_context().trace_id
    assert [s.name for s in spans.get_finished_spans()] == ["order", "apply"]


def test_command_ref_trace_context_parses_with_the_official_decoder() -> None:
    carrier = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "tracestate": "a=b"}
    ours = encode_command_ref("5-1", "chan", "c-1", 3, 9, carrier)
    ref = events_pb2.CommandRef.FromString(ours)
    assert dict(ref.trace_context) == carrier
    assert (ref.command_id, ref.reply_to, ref.correlation_id, ref.first_seq, ref.last_seq) == (
        "5-1",
        "chan",
        "c-1",
        3,
        9,
    )
    official = events_pb2.CommandRef(
        command_id="5-1", reply_to="chan", correlation_id="c-1", first_seq=3, last_seq=9
    )
    assert encode_command_ref("5-1", "chan", "c-1", 3, 9) == official.SerializeToString()
    assert encode_command_ref("5-1", "chan", "c-1", 3, 9, None) == encode_command_ref(
        "5-1", "chan", "c-1", 3, 9, {}
    )
