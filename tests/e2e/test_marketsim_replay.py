"""A replayed recording through the real stack: the simulation replays the sample tool's 1m
klines of BTCUSDT at 20x, and the exchange's own 1-minute closes track the recorded ones.
`make soak` runs this module (about 5 minutes; `make test` leaves it out).

At 20x one recorded minute passes in three real seconds, so a simulated "1m candle" of the replay
is three real seconds of the exchange's trades: its close is the last trade before they end
(from our GET /api/v3/aggTrades). The test compares those closes with the recorded 1m closes over
REPLAY_MINUTES recorded minutes (under five real minutes): correlation > 0.99 and the tracking
error (RMS of the log difference) under MAX_TRACKING_BPS; it prints both, and how far behind the
replayed fair price the trades are. A replay at 1x would take the day; the lag of the makers
(about half a real second on a loaded machine) is 10 recorded seconds at 20x, so the tracking
error here is an upper bound of the one at 1x. Our own /api/v3/klines 1m candles each span 20
minutes of the recording; their closes are checked against the recorded close of the minute each ends in.
"""

import asyncio
import math
import statistics
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from launcher.stack import Stack, running_stack
from marketsim.binance_files import read_klines, replay_files
from marketsim.replay import ReplaySource, file_anchors
from marketsim.sample import main as sample_main
from tests import services
from tests.e2e.sim_sources import THIN_MIX, own_trades, price_clock_ms, wait_for_trades_after

SYMBOL = "BTCUSDT"
SPEED = 20.0
TICK = Decimal("0.01")
REPLAY_MINUTES = 100  # recorded minutes compared
WARM_UP_MINUTES = 5  # the makers' first quotes
MIN_CORRELATION = 0.99
MAX_TRACKING_BPS = 15.0


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("replay")
    assert sample_main(["--symbol", SYMBOL, "--day", "2026-01-01", "--hours", "2", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def replay_stack(pg_dsn: str, redis_url: str, recording: Path) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(
            pg_dsn,
            prefix,
            [SYMBOL],
            with_dbwriter=True,
            with_marketsim=True,
            SIM_MIX=THIN_MIX,
            SIM_SKEW_BPS="0",
            SIM_PRICE_SOURCE="replay",
            SIM_REPLAY_PATH=str(recording),
            SIM_REPLAY_SPEED=str(SPEED),
        ) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def log_bps(a: float, b: float) -> float:
    return math.log(a / b) * 10_000


def print_lag(recording: Path, seconds: list[float], ours: list[float]) -> None:
    """How far behind the replayed fair price our trades were: the RMS distance of our trade
    prices from the fair price `lag` seconds before each, for a few lags (the simulation's path
    is a pure function of the files and its seed, SIM_SEED 16)."""
    files = replay_files(recording, SYMBOL)
    for lag in (0.0, 0.25, 0.5, 1.0):
        points, steps = file_anchors(files, TICK, f"16:{SYMBOL}")
        fair = ReplaySource(points, SPEED, True, steps)
        fairs = [float(fair.price_at(max(0.0, t - lag))) * float(TICK) for t in seconds]
        rms = math.sqrt(statistics.fmean(log_bps(a, b) ** 2 for a, b in zip(ours, fairs, strict=True)))
        print(f"trade price vs fair price {lag} s earlier: {rms:.1f} bps RMS")


def test_replayed_closes_track_the_recorded_ones(replay_stack: Stack, recording: Path) -> None:
    recorded = [float(k.close) for k in read_klines(replay_files(recording, SYMBOL)[0])]
    zero_ms = price_clock_ms(replay_stack, SYMBOL)
    minute_ms = 60_000 / SPEED
    last = WARM_UP_MINUTES + REPLAY_MINUTES
    with httpx.Client(base_url=replay_stack.url, timeout=30) as http:
        wait_for_trades_after(
            http, SYMBOL, zero_ms + round(last * minute_ms), 60.0 + REPLAY_MINUTES * minute_ms / 500
        )
        trades = own_trades(http, SYMBOL, zero_ms, zero_ms + round(last * minute_ms))
        klines = http.get(
            "/api/v3/klines", params={"symbol": SYMBOL, "interval": "1m", "startTime": zero_ms}
        ).json()
    pairs: list[tuple[float, float]] = []
    at_ms: list[int] = []
    index = 0
    for minute in range(WARM_UP_MINUTES, last):
        end_ms = zero_ms + (minute + 1) * minute_ms
        while index < len(trades) and trades[index][0] <= end_ms:
            index += 1
        if index and trades[index - 1][0] > end_ms - minute_ms:  # a trade in this replayed minute
            pairs.append((float(trades[index - 1][1]), recorded[minute]))
            at_ms.append(trades[index - 1][0])
    assert len(pairs) >= REPLAY_MINUTES * 0.8, f"{len(pairs)} replayed minutes with a trade"
    ours, theirs = zip(*pairs, strict=True)
    correlation = statistics.correlation(ours, theirs)
    tracking = math.sqrt(statistics.fmean(log_bps(a, b) ** 2 for a, b in pairs))
    moved = log_bps(max(theirs), min(theirs))
    print(f"\n{len(pairs)} minutes: correlation {correlation:.4f}, tracking error {tracking:.1f} bps RMS "
          f"(recorded range {moved:.0f} bps)")  # fmt: skip
    print_lag(recording, [(t - zero_ms) / 1000 for t in at_ms], list(ours))
    assert correlation > MIN_CORRELATION
    assert tracking < MAX_TRACKING_BPS
    ends = {int((int(k[6]) - zero_ms) / minute_ms): Decimal(k[4]) for k in klines}
    full = {minute: close for minute, close in ends.items() if WARM_UP_MINUTES <= minute < last}
    assert full, klines
    for minute, close in full.items():
        assert abs(log_bps(float(close), recorded[minute])) < 4 * MAX_TRACKING_BPS, (minute, close)
