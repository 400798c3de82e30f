"""A market's trading rules in integer units, as the matching core needs them."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """One trading pair.

    Amounts are integers in each asset's smallest unit (10**-decimals of the asset).
    `tick_units` is the price increment in quote units per whole base unit; `step_units` the
    quantity increment in base units. A fill of one step at one tick must be a whole number of
    quote units (`notional_per_tick_step`), which `__post_init__` enforces. Fees are in parts
    per million of the amount received.
    """

    symbol: str
    base: str
    quote: str
    base_decimals: int
    quote_decimals: int
    tick_units: int
    step_units: int
    min_qty_units: int
    max_qty_units: int
    min_notional_units: int
    maker_fee_ppm: int
    taker_fee_ppm: int

    def __post_init__(self) -> None:
        if self.tick_units <= 0 or self.step_units <= 0:
            raise ValueError(f"{self.symbol}: tick and step must be positive")
        if (self.tick_units * self.step_units) % self.base_unit:
            raise ValueError(
                f"{self.symbol}: one step at one tick is not a whole number of {self.quote} units"
            )
        if self.min_qty_units % self.step_units or self.max_qty_units % self.step_units:
            raise ValueError(f"{self.symbol}: min/max quantity must be multiples of the step")
        if not 0 <= self.maker_fee_ppm < 1_000_000 or not 0 <= self.taker_fee_ppm < 1_000_000:
            raise ValueError(f"{self.symbol}: fees must be in [0, 1_000_000) ppm")

    @property
    def base_unit(self) -> int:
        """Smallest base units in one whole base unit."""
        unit: int = 10**self.base_decimals
        return unit

    @property
    def notional_per_tick_step(self) -> int:
        """Quote units paid for one quantity step at a price of one tick."""
        return self.tick_units * self.step_units // self.base_unit

    def notional(self, price_units: int, qty_units: int) -> int:
        """Quote units for `qty_units` of base at `price_units` (both on the tick and step grid)."""
        return (
            (price_units // self.tick_units) * (qty_units // self.step_units) * (self.notional_per_tick_step)
        )
