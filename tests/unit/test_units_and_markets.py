"""Decimal strings <-> integer units, and the markets registry."""

import pytest

from exchange_core.markets import MarketsError, load_markets, parse_markets
from exchange_core.units import UnitError, from_units, to_units


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [
        ("0.01", 8, 1_000_000),
        ("65000.12", 8, 6_500_012_000_000),
        ("5", 0, 5),
        ("0.00000001", 8, 1),
        ("-1.5", 2, -150),
    ],
)
def test_to_units_is_exact(text: str, decimals: int, units: int) -> None:
    assert to_units(text, decimals) == units


@pytest.mark.parametrize("text", ["0.000000001", "abc", "NaN", "Infinity", "", "1e-9"])
def test_to_units_refuses_what_does_not_fit(text: str) -> None:
    with pytest.raises(UnitError):
        to_units(text, 8)


@pytest.mark.parametrize("value", [0.01, 1, None, b"0.01"])
def test_to_units_refuses_what_is_not_a_string(value: object) -> None:
    """A number from TOML or JSON is a configuration or input error with a message, compiled
    (mypyc) or not: never a TypeError from the call's boundary."""
    with pytest.raises(UnitError, match="not a decimal number"):
        to_units(value, 8)


def test_from_units_shows_every_place() -> None:
    assert from_units(6_500_012_000_000, 8) == "65000.12000000"
    assert from_units(1, 8) == "0.00000001"
    assert from_units(-150, 2) == "-1.50"
    assert from_units(7, 0) == "7"


def test_bundled_registry_has_the_four_markets_on_exact_grids() -> None:
    markets = load_markets()
    assert list(markets)[:4] == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ETHBTC"]
    btc = markets["BTCUSDT"].spec
    assert (btc.tick_units, btc.step_units, btc.min_notional_units) == (1_000_000, 1_000, 500_000_000)
    assert btc.notional_per_tick_step == 10
    assert (btc.maker_fee_ppm, btc.taker_fee_ppm) == (1000, 1000)
    for market in markets.values():
        assert market.spec.notional_per_tick_step >= 1


def test_registry_rejects_a_grid_finer_than_the_quote_unit() -> None:
    doc = {
        "assets": {"AAA": {"decimals": 8}, "BBB": {"decimals": 8}},
        "markets": [
            {
                "symbol": "AAABBB",
                "base": "AAA",
                "quote": "BBB",
                "tick_size": "0.00001",
                "step_size": "0.0001",
                "min_qty": "0.0001",
                "max_qty": "10",
                "min_notional": "0.0001",
                "maker_fee": "0.001",
                "taker_fee": "0.001",
            }
        ],
    }
    with pytest.raises(MarketsError, match="whole number"):
        parse_markets(doc)


def test_registry_rejects_unknown_assets() -> None:
    doc = {"assets": {}, "markets": [{"symbol": "X", "base": "A", "quote": "B"}]}
    with pytest.raises(MarketsError, match="unknown asset"):
        parse_markets(doc)
