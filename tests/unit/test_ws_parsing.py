"""The WebSocket tier's pure parts: stream names, client requests, paths, candle intervals."""

import json

import pytest

from marketdata.candles import CandleSeries, interval_end, interval_start
from marketdata.streams import Kind, parse_stream
from ws.requests import RequestError, parse_request
from ws.server import parse_route

SYMBOLS = {"BTCUSDT", "ETHBTC"}


@pytest.mark.parametrize(
    ("name", "canonical", "kind", "speed", "levels", "interval"),
    [
        ("btcusdt@trade", "btcusdt@trade", Kind.TRADE, 0, 0, ""),
        ("BTCUSDT@aggTrade", "btcusdt@aggTrade", Kind.AGG_TRADE, 0, 0, ""),
        ("btcusdt@depth", "btcusdt@depth", Kind.DEPTH, 1000, 0, ""),
        ("btcusdt@depth@1000ms", "btcusdt@depth", Kind.DEPTH, 1000, 0, ""),
        ("btcusdt@depth@100ms", "btcusdt@depth@100ms", Kind.DEPTH, 100, 0, ""),
        ("ethbtc@depth20@100ms", "ethbtc@depth20@100ms", Kind.PARTIAL_DEPTH, 100, 20, ""),
        ("ethbtc@depth5", "ethbtc@depth5", Kind.PARTIAL_DEPTH, 1000, 5, ""),
        ("btcusdt@kline_1M", "btcusdt@kline_1M", Kind.KLINE, 0, 0, "1M"),
        ("btcusdt@ticker", "btcusdt@ticker", Kind.TICKER, 0, 0, ""),
        ("btcusdt@miniTicker", "btcusdt@miniTicker", Kind.MINI_TICKER, 0, 0, ""),
        ("btcusdt@bookTicker", "btcusdt@bookTicker", Kind.BOOK_TICKER, 0, 0, ""),
    ],
)
def test_stream_names(name: str, canonical: str, kind: Kind, speed: int, levels: int, interval: str) -> None:
    spec = parse_stream(name, SYMBOLS)
    assert spec is not None
    assert (spec.name, spec.kind, spec.speed_ms, spec.levels, spec.interval) == (
        canonical,
        kind,
        speed,
        levels,
        interval,
    )


@pytest.mark.parametrize(
    "name",
    [
        "btcusdt",
        "dogeusdt@trade",
        "btcusdt@depth7",
        "btcusdt@depth@10ms",
        "btcusdt@kline_2m",
        "btcusdt@trade@100ms",
        "btcusdt@aggtrade",
        "@trade",
        "btcusdt@depth5@100ms@x",
        "btcusdt@depth\u00b2",
        "btcusdt@depth\u0665",
        "btcusdt@depth\uff15",
        "btcusdt@depth1\uff10",
        "btcusdt@depth05",
        "btcusdt@depth+5",
    ],
)
def test_not_stream_names(name: str) -> None:
    assert parse_stream(name, SYMBOLS) is None


def test_requests() -> None:
    r = parse_request('{"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":1}')
    assert (r.method, r.params, r.id) == ("SUBSCRIBE", ["btcusdt@trade"], 1)
    assert parse_request('{"method":"LIST_SUBSCRIPTIONS","id":"a1"}').id == "a1"
    assert parse_request('{"method":"GET_PROPERTY","params":["combined"]}').id is None
    uuid_id = "7d3b9b46-5f4f-4c8b-9a2d-0a8f9a4a0f5b"
    assert parse_request('{"method":"LIST_SUBSCRIPTIONS","id":"' + uuid_id + '"}').id == uuid_id
    assert parse_request('{"method":"LIST_SUBSCRIPTIONS","id":-3}').id == -3
    for text, code in [
        ("nope", 3),
        ('{"method":"SUBSCRIBE","params":[1],"id":1}', 2),
        ('{"method":"SUBSCRIBE","params":[],"id":true}', 2),
        ('{"method":"SUBSCRIBE","params":[],"id":"' + "x" * 37 + '"}', 2),
        ('{"method":"SUBSCRIBE","params":[],"id":"a b"}', 2),
        ('{"method":"SUBSCRIBE","params":[],"id":1.5}', 2),
        ('{"method":"SUBSCRIBE","params":[],"id":' + str(1 << 63) + "}", 2),
        ('{"method":"SET_PROPERTY","params":["combined"],"id":1}', 2),
        ('{"method":"SET_PROPERTY","params":["combined", 1],"id":1}', 1),
        ('{"method":"GET_PROPERTY","params":["other"],"id":1}', 0),
        ("[" * 50_000 + "]" * 50_000, 3),
        ('{"method":"SUBSCRIBE","params":' + "[" * 50_000 + "]" * 50_000 + ',"id":1}', 3),
        ('{"method":"SUBSCRIBE","params":[],"id":' + "9" * 5000 + "}", 3),
    ]:
        with pytest.raises(RequestError) as info:
            parse_request(text)
        assert info.value.code == code, text
        reply = json.loads(info.value.reply())
        assert reply["error"]["code"] == code and "id" in reply


def test_routes() -> None:
    assert parse_route("/ws") == parse_route("/ws/") == parse_route("/ws/0")
    route = parse_route("/ws/btcusdt@trade")
    assert route is not None and (route.combined, route.names) == (False, ["btcusdt@trade"])
    route = parse_route("/stream?streams=btcusdt@trade/ethbtc@depth")
    assert route is not None and (route.combined, route.names) == (True, ["btcusdt@trade", "ethbtc@depth"])
    key = "0a" * 32
    route = parse_route(f"/ws/{key}")
    assert route is not None and route.names == [key]
    assert parse_route("/api/v3/ping") is None


def test_interval_boundaries() -> None:
    ts = 1_700_000_123_456  # 2023-11-14 22:15:23.456 UTC, a Tuesday
    assert interval_start(ts, "1m") == 1_700_000_100_000
    assert interval_end(interval_start(ts, "1m"), "1m") == 1_700_000_159_999
    assert interval_start(ts, "1w") == 1_699_833_600_000  # Monday 2023-11-13 00:00 UTC
    assert interval_start(ts, "1M") == 1_698_796_800_000  # 2023-11-01
    assert interval_end(1_698_796_800_000, "1M") == 1_701_388_799_999  # 2023-11-30 23:59:59.999


def test_candles_roll_and_repeat_the_close() -> None:
    series = CandleSeries("1m")
    series.add_trade(60_500, 100, 2, 200, 1, True)
    series.add_trade(61_000, 90, 1, 90, 2, False)
    series.add_trade(130_000, 110, 1, 110, 3, True)
    (closed,) = series.take_closed()
    assert (closed.open, closed.high, closed.low, closed.close, closed.volume, closed.count) == (
        100,
        100,
        90,
        90,
        3,
        2,
    )
    assert (closed.first_id, closed.last_id, closed.taker_base, closed.taker_quote) == (1, 2, 2, 200)
    series.roll(250_000)
    empty = series.current
    assert empty is not None and empty.start == 240_000
    assert (empty.open, empty.close, empty.volume, empty.count, empty.first_id) == (110, 110, 0, 0, -1)
    assert [c.start for c in series.take_closed()] == [120_000]
