"""Replayed price paths without the exchange: Binance public-data files read in every published
variant (milliseconds or microseconds, header line or none, .csv or .zip), the sample tool's
files, and the replay path through each candle, at any speed, looping or not."""

import random
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from marketsim.binance_files import (
    AggTrade,
    Kline,
    ReplayFileError,
    epoch_seconds,
    file_kind,
    read_agg_trades,
    read_klines,
    replay_files,
)
from marketsim.replay import ReplaySource, file_anchors, kline_anchors
from marketsim.sample import main as sample_main
from marketsim.settings import SimSettings

TICK = Decimal("0.01")
# Two BTCUSDT 1m klines as Binance publishes them, in milliseconds (2024) and microseconds (2025+).
KLINES_MS = (
    "1704067200000,42283.58000000,42298.62000000,42261.02000000,42298.61000000,35.92724000,"
    "1704067259999,1519541.75,1327,19.37,819423.11,0\n"
    "1704067260000,42298.62000000,42320.00000000,42298.61000000,42320.00000000,21.05082000,"
    "1704067319999,890574.08,984,13.86,586380.62,0\n"
)
KLINES_US = (
    KLINES_MS.replace("1704067200000,", "1704067200000000,")
    .replace("1704067259999,", "1704067259999999,")
    .replace("1704067260000,", "1704067260000000,")
    .replace("1704067319999,", "1704067319999999,")
)
KLINE_HEADER = (
    "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
    "taker_buy_volume,taker_buy_quote_volume,ignore\n"
)
AGG_TRADES_US = (
    "3344542795,42283.58000000,0.00118000,3350000001,3350000001,1704067200012345,False,True\n"
    "3344542796,42283.57000000,0.20000000,3350000002,3350000004,1704067200512345,True,True\n"
)
AGG_HEADER = (
    "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker,is_best_match\n"
)


def zipped(path: Path, text: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(path.with_suffix(".csv").name, text)
    return path


def test_timestamps_in_milliseconds_and_microseconds() -> None:
    assert epoch_seconds("1704067200000") == 1704067200.0
    assert epoch_seconds("1704067200000000") == 1704067200.0
    assert epoch_seconds("1704067259999999") == pytest.approx(1704067259.999999)


@pytest.mark.parametrize(
    "name,text",
    [
        ("BTCUSDT-1m-2024-01-01.csv", KLINES_MS),
        ("BTCUSDT-1m-2025-01-01.csv", KLINES_US),
        ("BTCUSDT-1m-2024-01-02.csv", KLINE_HEADER + KLINES_MS),
        ("BTCUSDT-1m-2025-01-02.zip", KLINE_HEADER + KLINES_US),
        ("BTCUSDT-1m-2024-01-03.zip", KLINES_MS),
    ],
)
def test_klines_read_alike_in_every_variant(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    if path.suffix == ".zip":
        zipped(path, text)
    else:
        path.write_text(text)
    assert file_kind(path) == "klines"
    assert list(read_klines(path)) == [
        Kline(
            1704067200.0,
            Decimal("42283.58"),
            Decimal("42298.62"),
            Decimal("42261.02"),
            Decimal("42298.61"),
            pytest.approx(1704067259.999, abs=1e-3),  # type: ignore[arg-type]
        ),
        Kline(
            1704067260.0,
            Decimal("42298.62"),
            Decimal("42320"),
            Decimal("42298.61"),
            Decimal("42320"),
            pytest.approx(1704067319.999, abs=1e-3),  # type: ignore[arg-type]
        ),
    ]


@pytest.mark.parametrize("header", ["", AGG_HEADER])
def test_agg_trades_read_with_or_without_header_zipped(tmp_path: Path, header: str) -> None:
    path = zipped(tmp_path / "BTCUSDT-aggTrades-2025-01-01.zip", header + AGG_TRADES_US)
    assert file_kind(path) == "aggTrades"
    trades = list(read_agg_trades(path))
    assert trades[0] == AggTrade(3344542795, Decimal("42283.58"), Decimal("0.00118"), trades[0].time, False)
    assert trades[0].time == pytest.approx(1704067200.012345)
    assert trades[1].is_buyer_maker and trades[1].price == Decimal("42283.57")


def test_other_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-trades-2025-01-01.csv"
    path.write_text("1,2,3,4,5\n")
    with pytest.raises(ReplayFileError):
        file_kind(path)
    with pytest.raises(ReplayFileError):
        list(read_klines(zipped(tmp_path / "BTCUSDT-1m-x.zip", AGG_TRADES_US)))
    with pytest.raises(ReplayFileError):
        replay_files(tmp_path, "ETHUSDT")


def test_sample_tool_writes_binance_files_that_agree(tmp_path: Path) -> None:
    assert sample_main(["--out", str(tmp_path), "--day", "2026-01-01", "--hours", "1"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "BTCUSDT-1m-2026-01-01.zip",
        "BTCUSDT-aggTrades-2026-01-01.zip",
    ]
    with zipfile.ZipFile(tmp_path / "BTCUSDT-1m-2026-01-01.zip") as archive:
        assert archive.namelist() == ["BTCUSDT-1m-2026-01-01.csv"]
        first = archive.read("BTCUSDT-1m-2026-01-01.csv").decode().splitlines()[0].split(",")
    assert len(first) == 12 and first[0] == "1767225600000000" and first[6] == "1767225659999999"
    klines = list(read_klines(replay_files(tmp_path, "BTCUSDT")[0]))
    trades = list(read_agg_trades(replay_files(tmp_path, "BTCUSDT", "aggTrades")[0]))
    assert len(klines) == 60 and len(trades) > 3000
    for k in klines:
        inside = [t.price for t in trades if k.open_time <= t.time <= k.close_time]
        if inside:
            assert (k.open, k.high, k.low, k.close) == (inside[0], max(inside), min(inside), inside[-1])


def test_sample_variants_milliseconds_header_csv(tmp_path: Path) -> None:
    argv = ["--out", str(tmp_path), "--day", "2024-06-01", "--hours", "0.1", "--header", "--csv"]
    assert sample_main(argv) == 0
    text = (tmp_path / "BTCUSDT-1m-2024-06-01.csv").read_text().splitlines()
    assert text[0].startswith("open_time,") and text[1].startswith("1717200000000,")
    assert len(list(read_klines(tmp_path / "BTCUSDT-1m-2024-06-01.csv"))) == 6


def candle(open_time: float, o: str, h: str, lo: str, c: str) -> Kline:
    return Kline(open_time, Decimal(o), Decimal(h), Decimal(lo), Decimal(c), open_time + 59.999)


CANDLES = [
    candle(0, "100.00", "101.00", "99.50", "100.50"),
    candle(60, "100.50", "100.80", "98.00", "98.20"),
    candle(120, "98.20", "99.00", "98.10", "98.90"),
]


def kline_source(speed: float = 1.0, loop: bool = True, seed: int = 1) -> ReplaySource:
    return ReplaySource(lambda: kline_anchors(CANDLES, TICK, random.Random(seed)), speed, loop, False)


def test_a_candle_path_visits_open_high_low_close_and_stays_inside() -> None:
    source = kline_source()
    for k in CANDLES:
        seen = [source.price_at(k.open_time + i * 0.05) for i in range(int(59.999 / 0.05) + 1)]
        seen.append(source.price_at(k.close_time))
        assert seen[0] == pytest.approx(float(k.open / TICK))
        assert seen[-1] == pytest.approx(float(k.close / TICK))
        assert max(seen) == pytest.approx(float(k.high / TICK), abs=0.5)
        assert min(seen) == pytest.approx(float(k.low / TICK), abs=0.5)
        assert float(k.low / TICK) - 1e-9 <= min(seen) and max(seen) <= float(k.high / TICK) + 1e-9


def test_the_path_is_a_pure_function_of_the_seed_whatever_the_query_times() -> None:
    dense = kline_source()
    every_tenth = [dense.price_at(i / 10) for i in range(1750)]
    sparse = kline_source()
    assert [sparse.price_at(7 * i / 10) for i in range(250)] == pytest.approx(every_tenth[::7])
    other = kline_source(seed=2)
    assert [other.price_at(i / 10) for i in range(1750)] != pytest.approx(every_tenth)


def test_speed_maps_real_seconds_to_recorded_ones() -> None:
    fast = kline_source(speed=60)
    closes = [fast.price_at(i * 59.999 / 60 + i * 0.001 / 60) for i in range(1, 3)]
    assert closes[0] == pytest.approx(float(CANDLES[0].close / TICK), abs=0.01)
    assert fast.recorded_time(2.0) == 120.0


def test_loop_continues_from_the_last_price_and_no_loop_holds_it() -> None:
    looping = kline_source(loop=True)
    end = float(CANDLES[-1].close / TICK)
    assert looping.price_at(179.999) == pytest.approx(end)
    assert looping.price_at(180.001) == pytest.approx(end, rel=1e-3)  # no jump back to the start
    second_close = looping.price_at(180.0 + 59.999 + 0.001)
    assert second_close == pytest.approx(end * float(CANDLES[0].close / CANDLES[0].open), rel=1e-4)
    assert looping.passes == 2
    holding = kline_source(loop=False)
    assert holding.price_at(10_000.0) == pytest.approx(end)


def test_agg_trades_replay_as_a_step_path(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-aggTrades-2025-01-01.csv"
    path.write_text(AGG_TRADES_US)
    points, steps = file_anchors(replay_files(path, "BTCUSDT"), TICK, "s")
    source = ReplaySource(points, 1.0, False, steps)
    assert steps
    assert source.price_at(0.0) == 4228358.0
    assert source.price_at(0.4) == 4228358.0
    assert source.price_at(0.6) == 4228357.0


def test_a_replay_of_sample_klines_ends_each_minute_on_its_recorded_close(tmp_path: Path) -> None:
    sample_main(["--out", str(tmp_path), "--hours", "2"])
    files = replay_files(tmp_path, "BTCUSDT")
    points, steps = file_anchors(files, TICK, "16")
    source = ReplaySource(points, 60.0, True, steps)
    closes = [float(k.close / TICK) for k in read_klines(files[0])]
    replayed = [source.price_at((i + 1) - 1e-6) for i in range(len(closes))]
    assert replayed == pytest.approx(closes, rel=1e-6)
    assert len(set(closes)) > 100  # the path moves


def test_price_settings_per_market_replace_the_defaults() -> None:
    env = {
        "SIM_PRICE_SOURCE": "replay",
        "SIM_REPLAY_PATH": "/data",
        "SIM_REPLAY_SPEED": "10",
        "SIM_MARKET_PRICE": '{"ETHUSDT": {"source": "mirror", "mirror_url": "ws://x/ws/{symbol}@aggTrade"}}',
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        settings = SimSettings()
    btc = settings.price_for("BTCUSDT")
    assert (btc.source, btc.replay_path, btc.replay_speed) == ("replay", "/data", 10)
    eth = settings.price_for("ETHUSDT")
    assert (eth.source, eth.mirror_url, eth.replay_path) == ("mirror", "ws://x/ws/{symbol}@aggTrade", "/data")
