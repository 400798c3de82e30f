"""The fair price model alone (no exchange): reproducible from its seed, and over several seeds
its 1-minute returns show the stylized facts the report checks on the exchange's data: heavy
tails (kurtosis > 3), volatility clustering (absolute returns positively autocorrelated over 10
lags) and hardly any autocorrelation of the returns themselves."""

import itertools
import math

import pytest

from marketsim.price import NORMAL, ModelParams, RegimeJumpModel, simulate
from marketsim.stylized import autocorrelation, kurtosis, mean_abs_autocorrelation

SEEDS = [1, 2, 3, 4, 5, 6]
MINUTES = 2_000


def minute_returns(seed: int) -> list[float]:
    path = simulate(seed, MINUTES * 60)
    closes = path[::60]
    return [b - a for a, b in itertools.pairwise(closes)]


def test_the_path_is_a_pure_function_of_the_seed() -> None:
    assert simulate(7, 600) == simulate(7, 600)
    assert simulate(7, 600) != simulate(8, 600)
    model = RegimeJumpModel(1000.0, 7)
    path = simulate(7, 600)
    for t in (0.0, 0.4, 1.0, 59.9, 60.0, 333.3, 600.0):
        assert model.price_at(t) == pytest.approx(1000.0 * math.exp(path[int(t)]), rel=1e-12)


def test_a_model_without_regimes_or_jumps_is_a_plain_random_walk() -> None:
    path = simulate(3, 200_000, ModelParams(regimes=(NORMAL,), start_regime=0, jumps_per_hour=0.0))
    returns = [b - a for a, b in itertools.pairwise(path)]
    assert kurtosis(returns) == pytest.approx(3.0, abs=0.1)
    assert abs(mean_abs_autocorrelation(returns)) < 0.02


@pytest.mark.parametrize("seed", SEEDS)
def test_minute_returns_have_the_stylized_facts(seed: int) -> None:
    returns = minute_returns(seed)
    assert len(returns) == MINUTES
    assert kurtosis(returns) > 3.0
    assert mean_abs_autocorrelation(returns, 10) > 0.0
    assert abs(autocorrelation(returns, 1)) < 0.1


def test_a_start_price_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RegimeJumpModel(0.0, 1)
