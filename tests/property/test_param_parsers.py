"""Every parameter parser over all of Unicode (lone surrogates included), every size and every
sign: it returns a value or raises the API error (ApiError with a 4xx status, or the WebSocket
tiers' own request errors); no other exception, so no request can turn into a 5xx or a dead task.

The parsers: integers (parse_int, int_param, time_param), decimals (decimal_units), client order
ids, the whole new-order parameter set (what REST, the WebSocket API and gRPC all go through),
symbols (`symbol`, the JSON list `symbols`), intervals and stream names (parse_stream, the ws
tier's paths), time zones, ticker windows and types, and both WebSocket tiers' request frames.
"""

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exchange_core.errors import ApiError
from exchange_core.klines import INTERVALS
from exchange_core.markets import load_markets
from gateway.routes.market import time_zone_param
from gateway.routes.tickers import markets_named, mini_of, window_ms
from gateway.validation import (
    MAX_INT_PARAM,
    MAX_TIME_MS,
    client_order_id,
    decimal_units,
    int_param,
    market_of,
    parse_int,
    parse_new_order,
    time_param,
)
from gateway.wsapi.frames import BadFrame
from gateway.wsapi.frames import parse_request as parse_wsapi_frame
from marketdata.streams import parse_stream
from ws.requests import RequestError
from ws.requests import parse_request as parse_ws_request
from ws.server import parse_route

MARKETS = load_markets()
SYMBOLS = frozenset(MARKETS)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))

# Every code point: hypothesis leaves lone surrogates out of characters() unless asked.
ANY_CHAR = st.characters(exclude_categories=()) | st.characters(categories=["Cs"])
SIGNS = st.sampled_from(["", "-", "+", "\u2212", " ", "\u00a0", "--", "\uff0d"])
DIGIT_RUNS = st.integers(1, 6000).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n))
NUMBERS = st.one_of(
    st.integers().map(str),
    st.integers(min_value=-(10**400), max_value=10**400).map(str),
    st.decimals().map(str),  # NaN, sNaN, Infinity, exponents
    st.floats().map(repr),
    st.tuples(SIGNS, DIGIT_RUNS, st.sampled_from(["", "."]), st.text("0123456789", max_size=40)).map("".join),
)
TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=40),
    st.text(ANY_CHAR, min_size=200, max_size=3000),
    st.tuples(SIGNS, NUMBERS, st.text(ANY_CHAR, max_size=3)).map("".join),
    NUMBERS,
    st.text('[]{}",:0123456789 ', max_size=60),
    st.integers(1, 50_000).map(lambda n: "[" * n + "]" * n),
)
NAMES = [
    "symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "stopPrice",
    "trailingDelta", "newClientOrderId", "selfTradePreventionMode", "newOrderRespType", "icebergQty",
    "strategyId", "recvWindow", "timestamp",
]  # fmt: skip
PLAUSIBLE = {
    "symbol": ["BTCUSDT", "ethusdt", "NOPE"],
    "side": ["BUY", "SELL", "sell"],
    "type": ["LIMIT", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT", "LIMIT_MAKER"],
    "timeInForce": ["GTC", "IOC", "FOK"],
    "quantity": ["0.001", "1", "9000"],
    "price": ["20000", "65000.01"],
}
PLAUSIBLE_VALUES = [value for values in PLAUSIBLE.values() for value in values]


def answers_or_refuses(call: Callable[[], object]) -> object:
    """What `call` returns, or None when it raises the API error with a 4xx status."""
    try:
        return call()
    except ApiError as error:
        assert 400 <= error.status < 500 and error.code < 0 and error.msg, error.body()
        return None


@EXAMPLES
@given(TEXT)
def test_integers(text: str) -> None:
    value = answers_or_refuses(lambda: parse_int(text, "limit"))
    assert value is None or (isinstance(value, int) and 0 <= value <= MAX_INT_PARAM)
    assert value is None or (text.isascii() and text.isdigit())
    value = answers_or_refuses(lambda: time_param({"startTime": text}, "startTime"))
    assert value is None or 0 <= value <= MAX_TIME_MS  # type: ignore[operator]
    answers_or_refuses(lambda: int_param({"fromId": text}, "fromId", 0))


@EXAMPLES
@given(TEXT, st.integers(0, 18))
def test_decimals(text: str, decimals: int) -> None:
    value = answers_or_refuses(lambda: decimal_units({"quantity": text}, "quantity", decimals))
    assert value is None or (isinstance(value, int) and value >= 0)


@EXAMPLES
@given(TEXT)
def test_client_order_ids(text: str) -> None:
    value = answers_or_refuses(lambda: client_order_id({"newClientOrderId": text}))
    assert value is None or (isinstance(value, str) and value.isascii() and 1 <= len(value) <= 36)
    answers_or_refuses(lambda: client_order_id({"origClientOrderId": text}, "origClientOrderId"))


@EXAMPLES
@given(st.dictionaries(st.sampled_from(NAMES), st.one_of(TEXT, st.sampled_from(PLAUSIBLE_VALUES))))
def test_new_order_parameters(params: dict[str, str]) -> None:
    answers_or_refuses(lambda: parse_new_order(params, MARKETS))


@EXAMPLES
@given(st.dictionaries(st.sampled_from(NAMES), TEXT, max_size=2))
def test_new_order_parameters_wild_values_among_plausible_ones(wild: dict[str, str]) -> None:
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "0.001", "price": "20000", **wild}  # fmt: skip
    answers_or_refuses(lambda: parse_new_order(params, MARKETS))


@EXAMPLES
@given(TEXT)
def test_symbols(text: str) -> None:
    market = answers_or_refuses(lambda: market_of({"symbol": text}, MARKETS))
    assert market is None or market in MARKETS.values()
    chosen = answers_or_refuses(lambda: markets_named(text, MARKETS))
    assert chosen is None or all(m in MARKETS.values() for m in chosen)  # type: ignore[attr-defined]


@EXAMPLES
@given(TEXT, st.sampled_from(["", "btcusdt@", "btcusdt@kline_", "btcusdt@depth", "BTCUSDT@depth5@"]))
def test_intervals_stream_names_and_paths(text: str, head: str) -> None:
    assert (text in INTERVALS) == (INTERVALS.get(text) is not None)
    spec = parse_stream(head + text, SYMBOLS)
    assert spec is None or spec.symbol in SYMBOLS
    route = parse_route("/ws/" + head + text)
    assert route is None or all(isinstance(n, str) for n in route.names)
    parse_route("/stream?streams=" + head + text)


@EXAMPLES
@given(TEXT)
def test_time_zones_windows_and_types(text: str) -> None:
    offset = answers_or_refuses(lambda: time_zone_param({"timeZone": text}))
    assert offset is None or -12 * 3_600_000 <= offset <= 14 * 3_600_000  # type: ignore[operator]
    window = answers_or_refuses(lambda: window_ms({"windowSize": text}))
    assert window is None or 60_000 <= window <= 7 * 86_400_000  # type: ignore[operator]
    answers_or_refuses(lambda: mini_of({"type": text}))


@EXAMPLES
@given(TEXT, st.sampled_from(['{"id":1,"method":"SUBSCRIBE","params":[', '{"id":', '{"id":1,"method":']))
def test_request_frames_of_both_websocket_tiers(text: str, head: str) -> None:
    for frame in (text, head + text, head + text + "]}"):
        try:
            parse_ws_request(frame)
        except RequestError as error:
            assert error.code in (0, 1, 2, 3)
        try:
            parse_wsapi_frame(frame)
        except BadFrame as bad:
            assert bad.error.status == 400
        try:
            parse_wsapi_frame(frame.encode("utf-8", "surrogatepass"))
        except BadFrame as bad:
            assert bad.error.status == 400
