"""A market's trading rules as exchangeInfo states them, and exact conversions to the wire.

Prices are counted in ticks and quantities in steps (integers); the decimal strings sent are
tick * n and step * n computed with Decimal, so they are on the grid by construction.
"""

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any


class RulesError(ValueError):
    """exchangeInfo does not describe the market as expected."""


@dataclass(frozen=True, slots=True)
class MarketRules:
    symbol: str
    base_asset: str
    quote_asset: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    max_price: Decimal
    min_notional: Decimal

    def price_text(self, ticks: int) -> str:
        """The decimal string of a price of `ticks` ticks."""
        return format(self.tick * ticks, "f")

    def qty_text(self, steps: int) -> str:
        """The decimal string of a quantity of `steps` steps."""
        return format(self.step * steps, "f")

    def notional(self, ticks: int, steps: int) -> Decimal:
        return self.tick * ticks * self.step * steps

    def ticks_exact(self, price: str) -> int:
        """A price string from the API (on the grid) as ticks. Raises RulesError when off the grid."""
        return _whole(Decimal(price) / self.tick, f"{self.symbol}: price {price} is off the tick grid")

    def steps_exact(self, qty: str) -> int:
        """A quantity string from the API (on the grid) as steps. Raises RulesError when off the grid."""
        return _whole(Decimal(qty) / self.step, f"{self.symbol}: quantity {qty} is off the step grid")

    def ticks_of(self, price: Decimal) -> float:
        """`price` in ticks, for the price model (never sent)."""
        return float(price / self.tick)

    @property
    def max_ticks(self) -> int:
        return int((self.max_price / self.tick).to_integral_value(ROUND_FLOOR))

    @property
    def min_steps(self) -> int:
        return max(1, int((self.min_qty / self.step).to_integral_value(ROUND_CEILING)))

    @property
    def max_steps(self) -> int:
        return int((self.max_qty / self.step).to_integral_value(ROUND_FLOOR))

    def steps_for_notional(self, ticks: int, notional: Decimal) -> int:
        """The fewest steps worth at least `notional` (and at least minNotional and minQty) at a
        price of `ticks`, capped at maxQty."""
        price = self.tick * ticks
        steps = int((notional / (price * self.step)).to_integral_value(ROUND_CEILING))
        steps = max(steps, self.min_steps)
        while self.notional(ticks, steps) < max(notional, self.min_notional):
            steps += 1
        return min(steps, self.max_steps)


def _whole(value: Decimal, error: str) -> int:
    if value != value.to_integral_value():
        raise RulesError(error)
    return int(value)


def rules_from_exchange_info(symbol_info: dict[str, Any]) -> MarketRules:
    """The rules of one entry of exchangeInfo's `symbols`. Raises RulesError when a filter the
    market maker relies on (PRICE_FILTER, LOT_SIZE, NOTIONAL or MIN_NOTIONAL) is missing."""
    filters = {f.get("filterType"): f for f in symbol_info.get("filters", [])}
    try:
        price, lot = filters["PRICE_FILTER"], filters["LOT_SIZE"]
        notional = filters.get("NOTIONAL") or filters["MIN_NOTIONAL"]
        rules = MarketRules(
            symbol=str(symbol_info["symbol"]),
            base_asset=str(symbol_info["baseAsset"]),
            quote_asset=str(symbol_info["quoteAsset"]),
            tick=Decimal(price["tickSize"]),
            step=Decimal(lot["stepSize"]),
            min_qty=Decimal(lot["minQty"]),
            max_qty=Decimal(lot["maxQty"]),
            max_price=Decimal(price["maxPrice"]),
            min_notional=Decimal(notional["minNotional"]),
        )
    except (KeyError, TypeError, ArithmeticError) as exc:
        raise RulesError(f"{symbol_info.get('symbol')}: unusable exchangeInfo entry ({exc!r})") from exc
    if rules.tick <= 0 or rules.step <= 0:
        raise RulesError(f"{rules.symbol}: tick and step sizes must be positive")
    return rules
