"""The streams added for Binance parity, without I/O: names, time-zone candles, rolling-window
tickers, the 5-minute average price, and the WebSocket API's market-data request weights."""

import json

import pytest

from gateway.wsapi import weights
from marketdata.candles import HOUR, MINUTE, SECOND, CandleSeries, interval_end, interval_start
from marketdata.streams import ALL_MARKETS, Kind, parse_stream
from marketdata.tickers import RollingStats, average_volumes, ticker_window
from matching import Side
from tests.unit.test_marketdata_feed import P, make_feed, md, snapshot, trade
from ws.server import parse_route

SYMBOLS = {"BTCUSDT", "ETHBTC"}
ZONE = 8 * HOUR


@pytest.mark.parametrize(
    ("name", "canonical", "symbol", "kind", "interval", "zoned"),
    [
        ("!ticker@arr", "!ticker@arr", ALL_MARKETS, Kind.ALL_TICKERS, "", False),
        ("!miniTicker@arr", "!miniTicker@arr", ALL_MARKETS, Kind.ALL_MINI_TICKERS, "", False),
        ("!miniTicker@arr@1000ms", "!miniTicker@arr", ALL_MARKETS, Kind.ALL_MINI_TICKERS, "", False),
        ("!ticker_4h@arr", "!ticker_4h@arr", ALL_MARKETS, Kind.ALL_WINDOW_TICKERS, "4h", False),
        ("BTCUSDT@ticker_1h", "btcusdt@ticker_1h", "BTCUSDT", Kind.WINDOW_TICKER, "1h", False),
        ("ethbtc@ticker_1d", "ethbtc@ticker_1d", "ETHBTC", Kind.WINDOW_TICKER, "1d", False),
        ("btcusdt@avgPrice", "btcusdt@avgPrice", "BTCUSDT", Kind.AVG_PRICE, "", False),
        ("btcusdt@kline_1s", "btcusdt@kline_1s", "BTCUSDT", Kind.KLINE, "1s", False),
        ("BTCUSDT@kline_1d@+08:00", "btcusdt@kline_1d@+08:00", "BTCUSDT", Kind.KLINE, "1d", True),
    ],
)
def test_new_stream_names(
    name: str, canonical: str, symbol: str, kind: Kind, interval: str, zoned: bool
) -> None:
    spec = parse_stream(name, SYMBOLS)
    assert spec is not None
    assert (spec.name, spec.symbol, spec.kind, spec.interval, spec.zoned) == (
        canonical, symbol, kind, interval, zoned
    )  # fmt: skip
    assert spec.all_markets == (symbol == ALL_MARKETS)


@pytest.mark.parametrize(
    "name",
    ["!ticker", "!ticker@arr@1000ms", "!ticker_2h@arr", "!bookTicker@arr", "btcusdt@ticker_2h",
     "btcusdt@kline_1d@+09:00", "btcusdt@kline_1d@08:00", "btcusdt@avgprice", "btcusdt@ticker_1h@arr",
     "!trade@arr", "btcusdt@kline_1s@100ms", "!miniTicker@arr@100ms"],
)  # fmt: skip
def test_not_new_stream_names(name: str) -> None:
    assert parse_stream(name, SYMBOLS) is None


def test_interval_boundaries_in_a_time_zone() -> None:
    ts = 1_700_000_123_456  # 2023-11-14 22:15:23.456 UTC: Wednesday 2023-11-15 06:15 at +08:00
    assert interval_start(ts, "1d", ZONE) == 1_699_977_600_000  # 2023-11-15 00:00 +08:00
    assert interval_start(ts, "1w", ZONE) == 1_699_804_800_000  # Monday 2023-11-13 00:00 +08:00
    assert interval_start(ts, "1M", ZONE) == 1_698_768_000_000  # 2023-11-01 00:00 +08:00
    assert interval_end(1_698_768_000_000, "1M", ZONE) == 1_701_359_999_999  # 2023-11-30 23:59:59.999 +08:00
    assert interval_start(ts, "12h", ZONE) == 1_699_977_600_000
    assert interval_start(ts, "1h", ZONE) == interval_start(ts, "1h") == 1_699_999_200_000
    assert interval_start(ts, "1s", ZONE) == ts - 456
    series = CandleSeries("1d", ZONE)
    series.add_trade(ts, 100, 1, 100, 1, True)
    assert series.current is not None and series.current.close_time == 1_699_977_600_000 + 24 * HOUR - 1


def test_rolling_windows_and_average_price() -> None:
    stats = RollingStats()
    stats.add_trade(0, 100, 1, 100, 1)
    stats.add_trade(2 * HOUR, 110, 2, 220, 2)
    stats.add_trade(3 * HOUR + 30 * MINUTE, 120, 3, 360, 3)
    now = 4 * HOUR + 10 * SECOND
    hour = ticker_window(stats, now, HOUR)
    assert hour is not None
    assert (hour.open, hour.high, hour.low, hour.last, hour.volume, hour.quote_volume) == (
        120,
        120,
        120,
        120,
        3,
        360,
    )
    assert (hour.first_id, hour.last_id, hour.count, hour.prev_close) == (3, 3, 1, 110)
    assert (hour.open_time, hour.close_time) == (3 * HOUR + 30 * MINUTE, now)
    four = ticker_window(stats, now, 4 * HOUR)
    assert four is not None
    assert (four.open, four.low, four.high, four.count, four.first_id, four.volume) == (
        100,
        100,
        120,
        3,
        1,
        6,
    )
    assert four.open_time == 10 * SECOND  # now - 4h, inside the first trade's minute
    assert ticker_window(stats, 6 * HOUR, HOUR) is None
    assert average_volumes(stats, now) is None  # the last trade was 30 minutes ago
    stats.add_trade(now - 6 * MINUTE, 90, 1, 90, 4)
    stats.add_trade(now - 4 * MINUTE, 130, 1, 130, 5)
    stats.add_trade(now - 1 * MINUTE, 140, 3, 420, 6)
    assert average_volumes(stats, now) == (550, 4)


def test_feed_publishes_window_tickers_average_price_and_zoned_klines() -> None:
    feed, hub, _ = make_feed()
    feed.on_subscribed()
    feed.on_snapshot(snapshot(0, [], []))
    fills = (trade(1, 7, 50, 100 * P, 10**8, Side.BUY), trade(2, 8, 51, 99 * P, 3 * 10**8, Side.SELL))
    feed.on_md(md(1, 2, trades=fills))  # at ts 1_000
    feed.publish_windows(2_000)
    (hour,) = hub.of("btcusdt@ticker_1h")
    assert hour == {
        "e": "1hTicker", "E": 2_000, "s": "BTCUSDT", "p": "-1.00000000", "P": "-1.000", "o": "100.00000000",
        "h": "100.00000000", "l": "99.00000000", "c": "99.00000000", "w": "99.25000000",
        "v": "4.00000000", "q": "397.00000000", "O": 0, "C": 2_000, "F": 7, "L": 8, "n": 2,
    }  # fmt: skip
    assert hub.of("btcusdt@ticker_4h")[0]["e"] == "4hTicker"
    assert hub.of("btcusdt@ticker_1d")[0] == {**hour, "e": "1dTicker"}
    assert hub.of("btcusdt@avgPrice") == [
        {"e": "avgPrice", "E": 2_000, "s": "BTCUSDT", "i": "5m", "w": "99.25000000", "T": 1_000}
    ]
    feed.publish_klines(2_000)
    (zoned_day,) = hub.of("btcusdt@kline_1d@+08:00")
    (utc_day,) = hub.of("btcusdt@kline_1d")
    assert (zoned_day["k"]["t"], zoned_day["k"]["T"]) == (-ZONE, 16 * HOUR - 1)
    assert (utc_day["k"]["t"], utc_day["k"]["T"]) == (0, 24 * HOUR - 1)
    assert zoned_day["k"]["V"] == utc_day["k"]["V"] == "1.00000000"  # the taker bought 1 of the 4
    assert zoned_day["k"]["Q"] == utc_day["k"]["Q"] == "100.00000000"
    assert hub.of("btcusdt@kline_1m@+08:00") == hub.of("btcusdt@kline_1m")  # the same boundaries
    closed, current = [m["k"] for m in hub.of("btcusdt@kline_1s")]
    assert (closed["i"], closed["t"], closed["T"], closed["n"], closed["x"]) == ("1s", 1_000, 1_999, 2, True)
    assert (current["t"], current["n"], current["c"], current["x"]) == (2_000, 0, "99.00000000", False)


@pytest.mark.parametrize(
    ("weigh", "params", "weight"),
    [
        (weights.depth, {"symbol": "BTCUSDT"}, 5),
        (weights.depth, {"limit": "500"}, 25),
        (weights.depth, {"limit": "1000"}, 50),
        (weights.depth, {"limit": "5000"}, 250),
        (weights.depth, {"limit": "x"}, 5),
        (weights.ticker_24hr, {"symbol": "BTCUSDT"}, 2),
        (weights.ticker_24hr, {"symbols": json.dumps(["A"] * 21)}, 40),
        (weights.ticker_24hr, {}, 80),
        (weights.per_symbol, {"symbols": json.dumps(["A"] * 3)}, 12),
        (weights.per_symbol, {"symbols": json.dumps(["A"] * 80)}, 200),
        (weights.one_or_all, {"symbol": "BTCUSDT"}, 2),
        (weights.one_or_all, {}, 4),
    ],
)
def test_market_data_request_weights(weigh: weights.Weigher, params: dict[str, str], weight: int) -> None:
    assert weigh(params) == weight


def test_time_zone_streams_in_paths() -> None:
    """A "+" in the query stays a "+" (Binance's clients send it unencoded), %2B decodes to one."""
    for zone in ("+08:00", "%2B08:00"):
        route = parse_route(f"/stream?streams=btcusdt@kline_1d@{zone}/!ticker@arr")
        assert route is not None and route.names == ["btcusdt@kline_1d@+08:00", "!ticker@arr"]
    route = parse_route("/ws/btcusdt@kline_1w@+08:00")
    assert route is not None and route.names == ["btcusdt@kline_1w@+08:00"]
