"""The pure parts of the gateway's gRPC API: stream sinks and their hub, enum names, the Binance
error as a status with details, the signing payload."""

import json

import grpc
from google.protobuf import any_pb2
from google.rpc import status_pb2

from exchange_core.errors import INVALID_SIGNATURE, NEW_ORDER_REJECTED, ApiError
from exchange_proto import api_types_pb2 as apb
from exchange_proto import market_data_api_pb2 as mpb
from exchange_proto import trading_api_pb2 as tpb
from gateway import feeds
from gateway.grpcapi import convert
from gateway.grpcapi.signing import signing_payload
from gateway.grpcapi.status import DETAILS_KEY, ERROR_CODE_KEY, status_code_of, trailers_of


async def test_a_sink_that_falls_behind_is_cut_off_not_buffered() -> None:
    sink = feeds.Sink()
    for i in range(feeds.MAX_PENDING):
        sink.put(mpb.Trade(id=i))
    assert len(sink.pending) == feeds.MAX_PENDING and not sink.overflowed
    sink.put(mpb.Trade(id=-1))
    assert sink.overflowed and not sink.pending
    sink.put(mpb.Trade(id=-2))
    assert not sink.pending
    messages = [m async for m in sink]  # ends at once: the stream is over
    assert messages == []


async def test_the_hub_converts_once_and_tracks_first_and_last_subscriber() -> None:
    events: list[str] = []
    hub = feeds.StreamHub(lambda n: events.append(f"+{n}"), lambda n: events.append(f"-{n}"))
    calls: list[int] = []

    def to_trade(d: dict[str, object]) -> mpb.Trade:
        calls.append(1)
        return convert.stream_trade(d)  # type: ignore[arg-type]

    a, b = feeds.Sink(), feeds.Sink()
    hub.attach("btcusdt@trade", a, to_trade)
    hub.attach("btcusdt@trade", b, to_trade)
    assert hub.has("btcusdt@trade") and events == ["+btcusdt@trade"]
    payload = {"e": "trade", "E": 1, "s": "BTCUSDT", "t": 7, "p": "1.00", "q": "2.00", "T": 5, "m": True}
    hub.publish("btcusdt@trade", json.dumps(payload).encode())
    hub.publish("ethusdt@trade", b"not even json: nobody listens")
    assert len(calls) == 1
    assert (
        list(a.pending)
        == list(b.pending)
        == [mpb.Trade(id=7, price="1.00", qty="2.00", time=5, is_buyer_maker=True)]
    )
    hub.detach("btcusdt@trade", a, to_trade)
    assert events == ["+btcusdt@trade"]
    hub.detach("btcusdt@trade", b, to_trade)
    assert events == ["+btcusdt@trade", "-btcusdt@trade"] and not hub.has("btcusdt@trade")


def test_the_hub_gives_each_converter_its_own_messages_whoever_came_first() -> None:
    """One stream name with a protobuf converter (gRPC) and the identity (the WebSocket API):
    each sink gets its own kind, the second converter does not replace the first."""
    hub = feeds.StreamHub(lambda n: None, lambda n: None)
    payload = {"e": "trade", "E": 1, "s": "BTCUSDT", "t": 7, "p": "1.00", "q": "2.00", "T": 5, "m": True}

    def as_is(d: dict[str, object]) -> dict[str, object]:
        return d

    grpc_sink, json_sink, late_grpc = feeds.Sink(), feeds.Sink(), feeds.Sink()
    hub.attach("s", json_sink, as_is)
    hub.attach("s", grpc_sink, convert.stream_trade)
    hub.deliver("s", payload)
    assert list(json_sink.pending) == [payload]
    assert list(grpc_sink.pending) == [mpb.Trade(id=7, price="1.00", qty="2.00", time=5, is_buyer_maker=True)]
    hub.detach("s", json_sink, as_is)
    hub.attach("s", late_grpc, convert.stream_trade)
    hub.deliver("s", payload)
    assert len(grpc_sink.pending) == 2 and list(late_grpc.pending) == [grpc_sink.pending[1]]
    assert list(json_sink.pending) == [payload]  # detached: nothing more


def test_enum_names_are_binance_names() -> None:
    request = tpb.PlaceOrderRequest(
        symbol="BTCUSDT",
        side=apb.SIDE_SELL,
        type=apb.ORDER_TYPE_LIMIT_MAKER,
        price="1",
        quantity="2",
        self_trade_prevention_mode=apb.SELF_TRADE_PREVENTION_MODE_EXPIRE_BOTH,
    )
    assert convert.place_params(request) == {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT_MAKER",
        "price": "1",
        "quantity": "2",
        "selfTradePreventionMode": "EXPIRE_BOTH",
    }
    stop = tpb.PlaceOrderRequest(
        symbol="BTCUSDT", type=apb.ORDER_TYPE_STOP_LOSS, quantity="1", stop_price="9", trailing_delta=50
    )
    assert convert.place_params(stop) == {
        "symbol": "BTCUSDT",
        "type": "STOP_LOSS",
        "quantity": "1",
        "stopPrice": "9",
        "trailingDelta": "50",
    }
    iceberg = tpb.PlaceOrderRequest(
        symbol="BTCUSDT", type=apb.ORDER_TYPE_LIMIT, quantity="2", iceberg_qty="0.5"
    )
    assert convert.place_params(iceberg) == {
        "symbol": "BTCUSDT",
        "type": "LIMIT",
        "quantity": "2",
        "icebergQty": "0.5",
    }
    unknown = tpb.PlaceOrderRequest(side=9)  # type: ignore[arg-type]
    assert convert.place_params(unknown) == {"side": "9"}  # REST's validation rejects it as it is


def test_a_binance_error_travels_in_the_status_details() -> None:
    error = ApiError(NEW_ORDER_REJECTED, "Account has insufficient balance for requested action.")
    status = status_code_of(error)
    assert status == grpc.StatusCode.FAILED_PRECONDITION
    trailers = dict(trailers_of(error, status))
    assert trailers[ERROR_CODE_KEY] == "-2010"
    rich = status_pb2.Status.FromString(trailers[DETAILS_KEY])  # type: ignore[arg-type]
    assert (rich.code, rich.message) == (grpc.StatusCode.FAILED_PRECONDITION.value[0], error.msg)
    detail = apb.ApiError()
    assert isinstance(rich.details[0], any_pb2.Any) and rich.details[0].Unpack(detail)
    assert (detail.code, detail.msg) == (-2010, error.msg)
    assert status_code_of(ApiError(INVALID_SIGNATURE, "x")) == grpc.StatusCode.UNAUTHENTICATED
    assert status_code_of(ApiError(-1116, "Invalid orderType.")) == grpc.StatusCode.INVALID_ARGUMENT
    assert status_code_of(ApiError(-1099, "Not found, unauthenticated, or unauthorized.", 500)) == (
        grpc.StatusCode.INTERNAL
    )


def test_the_signing_payload_binds_method_time_window_and_request() -> None:
    request = tpb.GetOrderRequest(symbol="BTCUSDT", order_id=5)
    payload = signing_payload("/exchange.api.v1.Trading/GetOrder", "1700000000000", "", request)
    assert payload == b"/exchange.api.v1.Trading/GetOrder\n1700000000000\n\n" + bytes.fromhex(
        "0a07425443555344541005"
    )
