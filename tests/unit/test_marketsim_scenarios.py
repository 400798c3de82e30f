"""Scenarios' pure parts: the fair price overlay (regimes, flash crashes), the drought's ladder,
and the scenario file's steps turned into scheduled actions."""

import itertools
import math
import statistics
from pathlib import Path

import pytest
from pydantic import ValidationError

from botkit.quoter import QuoterConfig
from exchange_core.simcontrol import DroughtAction, FlashCrashAction, HaltAction, RegimeAction
from exchange_core.simscript import RegimeRequest, Scenario
from marketsim.drought import drought_at, in_drought
from marketsim.overlay import ScenarioOverlay
from marketsim.price import RegimeJumpModel

ORIGIN = 1_700_000_000_000


class Flat:
    """A source without volatility control: always 1000 ticks."""

    def price_at(self, seconds: float) -> float:
        return 1000.0


def path(overlay: ScenarioOverlay, seconds: int, step: float = 1.0) -> list[float]:
    return [overlay.price_at(i * step) for i in range(int(seconds / step) + 1)]


def realised_bps(prices: list[float]) -> float:
    return statistics.pstdev(math.log(b / a) for a, b in itertools.pairwise(prices)) * 10_000


def median_move_bps(prices: list[float]) -> float:
    return statistics.median(abs(math.log(b / a)) for a, b in itertools.pairwise(prices)) * 10_000


def test_without_actions_the_overlay_is_the_model() -> None:
    model = RegimeJumpModel(1000.0, "s")
    overlay = ScenarioOverlay(RegimeJumpModel(1000.0, "s"), ORIGIN, "s")
    assert path(overlay, 300) == [model.price_at(i) for i in range(301)]


def test_the_path_does_not_depend_on_when_it_is_read() -> None:
    crash = FlashCrashAction(start_ms=ORIGIN + 50_000, percent=5, fall_seconds=10, recover_seconds=20)
    regime = RegimeAction(start_ms=ORIGIN + 100_000, end_ms=ORIGIN + 200_000, volatility_bps=8)
    overlays = [ScenarioOverlay(RegimeJumpModel(1000.0, 7), ORIGIN, 7) for _ in range(2)]
    for overlay in overlays:
        overlay.actions = [crash, regime]
    fine = path(overlays[0], 300, 0.25)
    coarse = path(overlays[1], 300, 3.0)
    assert fine[::12] == coarse


def test_a_flash_crash_falls_then_recovers() -> None:
    overlay = ScenarioOverlay(Flat(), ORIGIN, 1)
    overlay.actions = [
        FlashCrashAction(start_ms=ORIGIN + 10_000, percent=10, fall_seconds=4, recover_seconds=8)
    ]
    assert overlay.price_at(10) == 1000.0
    assert overlay.price_at(12) == pytest.approx(950.0)
    assert overlay.price_at(14) == pytest.approx(900.0)
    assert overlay.price_at(18) == pytest.approx(950.0)
    assert overlay.price_at(22) == 1000.0
    up = ScenarioOverlay(Flat(), ORIGIN, 1)
    up.actions = [
        FlashCrashAction(start_ms=ORIGIN, percent=10, fall_seconds=4, recover_seconds=8, direction="up")
    ]
    assert up.price_at(4) == pytest.approx(1100.0)


@pytest.mark.parametrize("make_base", [lambda: RegimeJumpModel(1000.0, 3), Flat])
def test_a_volatile_regime_raises_realised_volatility(make_base: object) -> None:
    assert callable(make_base)
    overlay = ScenarioOverlay(make_base(), ORIGIN, 3)
    overlay.actions = [RegimeAction(start_ms=ORIGIN + 600_000, end_ms=ORIGIN + 1_200_000, volatility_bps=10)]
    prices = path(overlay, 1800)
    before, during, after = prices[:600], prices[601:1200], prices[1201:]
    assert realised_bps(during) > 8
    assert realised_bps(during) > 3 * realised_bps(before)
    assert realised_bps(after) < realised_bps(during) / 2


def test_a_calm_regime_lowers_the_model_s_volatility() -> None:
    free = ScenarioOverlay(RegimeJumpModel(1000.0, 4), ORIGIN, 4)
    calm = ScenarioOverlay(RegimeJumpModel(1000.0, 4), ORIGIN, 4)
    calm.actions = [RegimeRequest(volatility_bps=0.2).to_action(ORIGIN)]
    # the median move: the model's jumps go on in any regime
    assert median_move_bps(path(calm, 600)) < median_move_bps(path(free, 600)) / 2


def test_a_drought_thins_and_widens_the_ladder() -> None:
    config = QuoterConfig(250, 30.0, 1.9, 40, 0, 0, 30.0, 0.0, 1, 4)
    drought = DroughtAction(start_ms=0, end_ms=10_000, depth_fraction=0.2, spread_multiple=3)
    thin = in_drought(config, drought)
    assert (thin.shape_levels, thin.size_multiplier, thin.spread_bps) == (50, 8, 90.0)
    assert in_drought(config, None) == config
    assert drought_at([drought], 5_000) == drought
    assert drought_at([drought], 10_000) is None


def test_a_scenario_file_becomes_timed_actions_per_market() -> None:
    scenario = Scenario.model_validate_json(
        '{"name": "x", "steps": ['
        '{"at_seconds": 0, "market": "btcusdt", "action": "regime", "regime": "volatile",'
        ' "duration_seconds": 30},'
        '{"at_seconds": 2.5, "market": "ETHUSDT", "action": "halt", "reason": "test"},'
        '{"at_seconds": 10, "market": "BTCUSDT", "action": "drought", "depth_fraction": 0.1,'
        ' "duration_seconds": 5}]}'
    )
    schedule = scenario.schedule(ORIGIN)
    assert scenario.markets() == ["BTCUSDT", "ETHUSDT"]
    assert schedule["BTCUSDT"][0] == RegimeAction(start_ms=ORIGIN, end_ms=ORIGIN + 30_000, volatility_bps=4.0)
    assert schedule["ETHUSDT"] == [HaltAction(start_ms=ORIGIN + 2_500, reason="test")]
    assert schedule["BTCUSDT"][1].start_ms == ORIGIN + 10_000


@pytest.mark.parametrize(
    "body",
    [
        '{"steps": []}',
        '{"steps": [{"at_seconds": 0, "market": "BTCUSDT", "action": "explode"}]}',
        '{"steps": [{"at_seconds": -1, "market": "BTCUSDT", "action": "resume"}]}',
        '{"steps": [{"at_seconds": 0, "market": "BTCUSDT", "action": "regime"}]}',
        '{"steps": [{"at_seconds": 0, "market": "BTCUSDT", "action": "flash_crash", "percent": 95,'
        ' "fall_seconds": 1, "recover_seconds": 1}]}',
        '{"steps": [{"at_seconds": 0, "market": "BTCUSDT", "action": "resume", "typo": 1}]}',
    ],
)
def test_a_bad_scenario_is_refused(body: str) -> None:
    with pytest.raises(ValidationError):
        Scenario.model_validate_json(body)


def test_the_example_scenario_file_is_a_scenario() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "scenario-flash-crash.json"
    scenario = Scenario.model_validate_json(example.read_bytes())
    assert scenario.markets() == ["BTCUSDT", "ETHUSDT"]
    kinds = [a.kind for a in scenario.schedule(ORIGIN)["BTCUSDT"]]
    assert kinds == ["regime", "flash_crash", "drought", "halt", "resume", "regime"]
