"""The WebSocket API's frames: requests parsed into REST's string parameters, answers, and the
signature payload checked against the signatures ccxt and python-binance compute."""

import hashlib
import hmac
import json

import ccxt.pro  # type: ignore[import-untyped]
import orjson
import pytest
from binance.client import Client  # type: ignore[import-untyped]
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.wsapi import frames
from gateway.wsapi.frames import BadFrame, answer, parse_request, signature_payloads

SECRET = "s" * 64
API_KEY = "K" * 64


def verifies(params: dict[str, str]) -> bool:
    """Whether params' signature matches one of the payloads the gateway accepts."""
    return any(
        hmac.compare_digest(hmac.new(SECRET.encode(), p, hashlib.sha256).hexdigest(), params["signature"])
        for p in signature_payloads(params)
    )


def as_received(params: dict[str, object]) -> dict[str, str]:
    """params as the gateway receives them: through JSON, then parse_request."""
    return parse_request(json.dumps({"id": 1, "method": "order.place", "params": params})).params


def test_values_become_rest_text_without_floats() -> None:
    request = parse_request(
        '{"id": 12, "method": "order.place", "params": {"quantity": 0.00010000, "price": 65000,'
        ' "big": 1e-7, "flag": true, "off": false, "none": null, "symbols": ["BTCUSDT", "ETHUSDT"],'
        ' "symbol": "BTCUSDT"}}'
    )
    assert request.id == 12 and request.method == "order.place"
    assert request.params == {
        "quantity": "0.00010000",
        "price": "65000",
        "big": "1e-7",
        "flag": "true",
        "off": "false",
        "symbols": '["BTCUSDT","ETHUSDT"]',
        "symbol": "BTCUSDT",
    }
    assert all(type(v) is str for v in request.params.values())


@pytest.mark.parametrize(
    ("frame", "request_id"),
    [
        ("{nope", None),
        ("[]", None),
        ('"ping"', None),
        ('{"method": "ping"}', None),
        ('{"id": 1.5, "method": "ping"}', None),
        ('{"id": [1], "method": "ping"}', None),
        ('{"id": "x", "method": ""}', "x"),
        ('{"id": "x", "method": 3}', "x"),
        ('{"id": 4, "method": "ping", "params": "a=b"}', 4),
        ('{"id": 5, "method": "ping", "params": {"a": {"b": 1}}}', 5),
        ('{"id": 6, "method": "ping", "params": {"n": NaN}}', None),
        (b"\xff\xfe", None),
        ('{"id": ' + "9" * 5000 + ', "method": "ping"}', None),
        ('{"id": ' + str(1 << 63) + ', "method": "ping"}', None),
        ('{"id": ' + str(-(1 << 63) - 1) + ', "method": "ping"}', None),
        ("[" * 50_000 + "]" * 50_000, None),
        ('{"id": 8, "method": "ping", "params": {"a": ' + "[" * 50_000 + "]" * 50_000 + "}}", None),
    ],
)
def test_frames_that_are_not_requests(frame: str | bytes, request_id: object) -> None:
    with pytest.raises(BadFrame) as bad:
        parse_request(frame)
    assert bad.value.request_id == request_id
    assert bad.value.error.code == -1102 and bad.value.error.status == 400


def test_ids_come_back_as_sent_and_params_may_be_left_out() -> None:
    assert parse_request('{"id": null, "method": "ping"}').id is None
    assert parse_request('{"id": "abc", "method": "ping", "params": null}').params == {}
    assert parse_request(b'{"id": 0, "method": "time"}').id == 0
    assert parse_request('{"id": -9223372036854775808, "method": "ping"}').id == -(1 << 63)
    assert parse_request('{"id": 9223372036854775807, "method": "ping"}').id == (1 << 63) - 1


def test_answers() -> None:
    ok = orjson.loads(answer(3, 200, result={"a": 1}, rate_limits=[]))
    assert ok == {"id": 3, "status": 200, "result": {"a": 1}, "rateLimits": []}
    failed = orjson.loads(answer("x", 400, error={"code": -1121, "msg": "Invalid symbol."}))
    assert failed == {"id": "x", "status": 400, "error": {"code": -1121, "msg": "Invalid symbol."}}


def test_ccxt_signatures_verify() -> None:
    exchange = ccxt.pro.binance({"apiKey": API_KEY, "secret": SECRET})
    signed = exchange.sign_params(
        {
            "symbol": "BTCUSDT",
            "side": "BUY",
            "type": "LIMIT",
            "price": "65000.5",
            "quantity": "0.001",
            "timeInForce": "GTC",
            "newClientOrderId": "x-R4BD3S82-abc_1",
            "returnRateLimits": False,
        }
    )
    received = as_received(signed)
    assert verifies(received)
    assert not verifies({**received, "price": "65000.6"})


def test_python_binance_signatures_verify_even_where_it_url_encodes() -> None:
    client = Client(API_KEY, SECRET, ping=False)
    for client_order_id in ("web_abc-1", "a b/c:d"):  # the second differs once URL-encoded
        params = {"symbol": "BTCUSDT", "side": "SELL", "type": "MARKET", "quantity": 0.25,
                  "newClientOrderId": client_order_id}  # fmt: skip
        signed = client._sign_ws_params(dict(params), client._generate_ws_api_signature)
        assert verifies(as_received(signed)), client_order_id


ORDER_FRAME = (
    '{"id": 7, "method": "order.place", "params": {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",'
    ' "price": "30000", "quantity": "0.0002", "recvWindow": 60000, "timestamp": 1765000000000,'
    ' "flag": true, "off": false, "none": null, "apiKey": "k", "signature": "ab"}}'
)


@pytest.mark.parametrize(
    "frame",
    [
        ORDER_FRAME,
        ORDER_FRAME.encode(),
        '{"id": null, "method": "ping"}',
        '{"id": "abc", "method": "time", "params": null}',
        '{"id": -9223372036854775808, "method": "ping", "params": {"n": 18446744073709551615}}',
        '{"id": 9223372036854775807, "method": "ping", "params": {"n": -9223372036854775808}}',
        '{"method": "ping", "id": 1, "extra": 1.5, "more": "x"}',
        '{"id": 1, "method": "ping", "params": {"a": 1, "a": "two"}}',
        '{"id": 1, "method": "ping", "params": {"s": "\\u00e9\\n\\"q\\"", "e": ""}}',
    ],
)
def test_common_frames_are_read_the_fast_way_as_the_general_way(frame: str | bytes) -> None:
    fast = frames._plain_request(frame)
    assert fast is not None
    assert fast == frames._general_request(frame)
    assert all(type(v) is str for v in fast.params.values())


@pytest.mark.parametrize(
    "frame",
    [
        '{"id": 1, "method": "ping", "params": {"q": 0.5}}',  # a fraction: its literal is kept
        '{"id": 1, "method": "ping", "params": {"q": 1e5}}',
        '{"id": 1, "method": "ping", "params": {"q": -0}}',  # "-0" is not str(0)
        '{"id": 1, "method": "ping", "params": {"q": 18446744073709551616}}',  # beyond 64 bits
        '{"id": 1, "method": "ping", "params": {"q": -9223372036854775809}}',
        '{"id": 1, "method": "ping", "params": {"symbols": ["A", "B"]}}',
        '{"id": 1, "method": "ping", "params": {"o": {}}}',
        '{"id": 9223372036854775808, "method": "ping"}',
        '{"id": 1.0, "method": "ping"}',
        '{"id": true, "method": "ping"}',
        '{"id": "' + "x" * 129 + '", "method": "ping"}',
        '{"id": 1, "method": ""}',
        '{"id": 1, "method": 5}',
        '{"method": "ping"}',
        '{"id": 1, "method": "ping", "params": "x"}',
        '{"id": 1, "method": "ping", "params": {"s": "\\ud800"}}',  # a lone surrogate
        '\ufeff{"id": 1, "method": "ping"}',
        b'\xef\xbb\xbf{"id": 1, "method": "ping"}',
        '{"id": 1, "method": "ping", "x": NaN}',
        '{"id": 1, "method": "ping", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        "[]",
        "{nope",
        "",
    ],
)
def test_other_frames_are_left_to_the_general_way(frame: str | bytes) -> None:
    assert frames._plain_request(frame) is None


_BIG = 1 << 70
_SCALARS = st.none() | st.booleans() | st.integers(min_value=-_BIG, max_value=_BIG) | st.text(max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["id", "method", "params", "x"]),
        _SCALARS
        | st.floats(allow_nan=False)
        | st.sampled_from(["ping", "order.place"])
        | st.dictionaries(st.text(max_size=4), _SCALARS | st.floats(allow_nan=False), max_size=4),
    )
)
def test_fast_and_general_ways_agree(document: dict[str, object]) -> None:
    frame = json.dumps(document)
    fast = frames._plain_request(frame)
    try:
        general: object = frames._general_request(frame)
    except BadFrame as bad:
        general = bad
    if fast is not None:
        assert fast == general
