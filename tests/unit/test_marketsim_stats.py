"""The market simulation's pure parts: the report's statistics on series with known answers, the
report's rows and targets, and the takers' decisions (sizes, inventory limit, momentum and mean
reversion, sweeps)."""

import math
import random

import pytest

from marketsim.decisions import (
    BUY,
    SELL,
    MidHistory,
    Position,
    mean_reversion_side,
    momentum_side,
    pareto_multiple,
    sweep_steps,
)
from marketsim.measures import BookSamples, Row, measure
from marketsim.settings import AgentMix, SimSettings, agent_names
from marketsim.stylized import (
    autocorrelation,
    bar_closes,
    depth_within,
    kurtosis,
    levels_within,
    log_returns,
    mean_abs_autocorrelation,
    median,
    spread_bps,
)


def test_autocorrelation_of_an_alternating_series_is_minus_one_at_lag_one() -> None:
    xs = [1.0, -1.0] * 50
    assert autocorrelation(xs, 1) == pytest.approx(-0.99, abs=1e-9)
    assert autocorrelation(xs, 2) == pytest.approx(0.98, abs=1e-9)
    assert autocorrelation([2.0] * 10, 1) == 0.0
    assert autocorrelation([1.0, 2.0], 1) == 0.0


def test_autocorrelation_of_independent_draws_is_near_zero() -> None:
    rng = random.Random(1)
    xs = [rng.gauss(0, 1) for _ in range(20_000)]
    assert abs(autocorrelation(xs, 1)) < 0.03
    assert abs(mean_abs_autocorrelation(xs)) < 0.02


def test_kurtosis_is_three_for_normal_and_more_for_a_mixture() -> None:
    rng = random.Random(2)
    normal = [rng.gauss(0, 1) for _ in range(50_000)]
    assert kurtosis(normal) == pytest.approx(3.0, abs=0.15)
    mixture = [rng.gauss(0, 1 if rng.random() < 0.9 else 5) for _ in range(50_000)]
    assert kurtosis(mixture) > 6
    assert kurtosis([1.0, -1.0, 1.0, -1.0]) == pytest.approx(1.0)
    assert kurtosis([1.0, 2.0]) == 0.0


def test_absolute_returns_of_a_regime_series_cluster() -> None:
    rng = random.Random(3)
    xs = [rng.gauss(0, 1 if (i // 200) % 2 else 4) for i in range(10_000)]
    assert mean_abs_autocorrelation(xs, 10) > 0.2
    assert abs(autocorrelation(xs, 1)) < 0.05


def test_returns_median_and_bar_closes() -> None:
    assert log_returns([100.0, 110.0, 99.0]) == pytest.approx([math.log(1.1), math.log(0.9)])
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert median([]) == 0.0
    trades = [(1_500, 10.0), (2_100, 11.0), (2_900, 12.0), (5_000, 9.0)]
    # bars [1000,2000) [2000,3000) [3000,4000) [4000,5000) [5000,6000)
    assert bar_closes(trades, 1_000, 6_000, 1_000) == [10.0, 12.0, 12.0, 12.0, 9.0]
    assert bar_closes(trades, 0, 1_000, 1_000) == []


def test_book_measures() -> None:
    bids = [(99.9, 1.0), (99.5, 2.0), (95.0, 10.0), (94.0, 5.0)]
    asks = [(100.1, 1.0), (100.4, 3.0), (104.9, 1.0), (106.0, 1.0)]
    assert spread_bps(bids, asks) == pytest.approx(20.0)
    assert spread_bps([], asks) is None
    assert depth_within(bids, asks, 50) == pytest.approx((99.9 + 199.0, 100.1 + 301.2))
    assert levels_within(bids, asks, 5.0) == (3, 3)
    assert depth_within(bids, [], 50) == (0.0, 0.0)


def test_report_rows_hold_the_targets() -> None:
    samples = BookSamples()
    bids = [(100.0 - 0.015 * i, 10.0) for i in range(1, 300)]
    asks = [(100.0 + 0.015 * i, 10.0) for i in range(1, 300)]
    samples.add(bids, asks)
    samples.add(bids[:150], asks)
    samples.add(bids, asks[:100])
    assert samples.mids == []  # no time, no mid
    samples.add(bids, asks, 0)
    assert samples.mids == [(0, pytest.approx(100.0))]
    rng = random.Random(4)
    price, mids = 100.0, []
    for second in range(3_600):
        scale = 0.01 if (second // 300) % 2 else 0.001
        price *= math.exp(rng.gauss(0, scale))
        mids.append((second * 1000, price))
    samples.mids = mids
    rows = measure(samples, 7_200, 0, 3_600_000, [10_000, 60_000], 5.0)

    def row(prefix: str) -> Row:
        return next(r for r in rows if r.name.startswith(prefix))

    assert row("median spread").value == pytest.approx(3.0)
    assert row("median spread").ok
    assert row("depth within 10 bps").value == pytest.approx(sum(p * 10 for p, _ in bids if p >= 99.9))
    assert row("levels a side within 5%").value == 224.5  # the median of 299, 150, 100 and 299
    assert row("trades per second").value == pytest.approx(2.0)
    assert row("trades per second").ok
    assert row("10s mid return kurtosis").name == "10s mid return kurtosis (359 returns)"
    assert row("10s mid return kurtosis").ok
    assert row("10s mid |return| autocorrelation").ok
    assert row("10s mid return autocorrelation, lag 1").ok
    assert row("1m mid return kurtosis").name == "1m mid return kurtosis (59 returns)"
    assert not measure(BookSamples(), 0, 0, 60_000, [60_000], 5.0)[0].ok  # no book: no spread


def test_pareto_sizes_are_heavy_tailed_and_capped() -> None:
    rng = random.Random(5)
    draws = [pareto_multiple(rng, 1.5, 100.0) for _ in range(20_000)]
    assert min(draws) >= 1.0
    assert max(draws) == 100.0
    assert sum(d > 10 for d in draws) / len(draws) == pytest.approx(10**-1.5, rel=0.2)


def test_position_limit() -> None:
    position = Position(limit_steps=100)
    assert position.allowed(BUY, 150) == 100
    position.filled(BUY, 80)
    assert position.allowed(BUY, 50) == 20
    assert position.allowed(SELL, 500) == 180
    assert position.reducing_side() == SELL
    position.filled(SELL, 180)
    assert position.net_steps == -100
    assert position.allowed(SELL, 10) == 0
    assert position.reducing_side() == BUY
    assert Position(10).reducing_side() is None


def test_momentum_follows_and_mean_reversion_fades() -> None:
    history = MidHistory(keep_s=30.0)
    history.add(0.0, 100.0)
    assert momentum_side(history, 3.0) is None
    history.add(10.0, 100.1)  # +10 bps
    assert momentum_side(history, 3.0) == BUY
    assert mean_reversion_side(history, 3.0) == SELL
    history.add(45.0, 99.9)  # the older points fall out of the 30 s window
    assert len(history.points) == 1
    history.add(50.0, 99.0)
    assert momentum_side(history, 3.0) == SELL
    assert mean_reversion_side(history, 3.0) == BUY
    assert sweep_steps([5, 7, 9, 11], 3) == 21
    assert sweep_steps([5], 3) == 5


def test_agent_mix_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIM_MIX", '{"depth_levels": 220, "makers": []}')
    monkeypatch.setenv("SIM_MARKET_MIX", '{"BTCUSDT": {"noise_per_minute": 90}}')
    monkeypatch.setenv("SIM_ACCOUNTS", '{"noise": ["k", "s"]}')
    settings = SimSettings()
    assert settings.mix_for("ETHUSDT").depth_levels == 220
    assert settings.mix_for("BTCUSDT").noise_per_minute == 90
    assert settings.mix_for("BTCUSDT").depth_levels == AgentMix().depth_levels
    assert settings.sim_accounts == {"noise": ("k", "s")}
    names = agent_names([settings.sim_mix, *settings.sim_market_mix.values()])
    assert names == [
        "maker-tight",
        "maker-medium",
        "maker-wide",
        "depth",
        "noise",
        "momentum",
        "meanrev",
        "sweeper",
    ]
