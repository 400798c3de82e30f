"""Market maker configuration from the environment (MM_* variables, GATEWAY_URL)."""

from pydantic import Field

from botkit.startup import DEFAULT_START_PRICES
from exchange_core.telemetry import ProbeSettings


class MarketMakerSettings(ProbeSettings):
    """Every knob of the bot. Spreads and spacings are in basis points of the fair price; sizes in
    multiples of the market's minNotional, so that one setting fits markets of any price."""

    gateway_url: str = "http://127.0.0.1:8000"
    # Its own API key (the launcher creates it: botkit.account).
    mm_api_key: str = ""
    mm_api_secret: str = ""
    # Markets to quote, comma-separated; empty: every market of exchangeInfo.
    mm_symbols: str = ""
    # Fair price at start when a market has no trade yet, "SYMBOL=price,...".
    mm_start_prices: str = DEFAULT_START_PRICES
    mm_seed: int = 7
    # Standard deviation of the fair price's log-return over one second, in bps.
    mm_volatility_bps: float = Field(default=2.0, ge=0)
    mm_levels: int = Field(default=12, ge=1, le=100)
    # Least distance between best bid and best ask, centred on the fair price.
    mm_spread_bps: float = Field(default=10.0, gt=0)
    # Distance between two levels of one side (quotes sit on a grid of this spacing).
    mm_level_spacing_bps: float = Field(default=5.0, gt=0)
    # Notional of the first level in multiples of minNotional; each further level grows by
    # mm_size_growth_pct, and every size varies by up to +-mm_size_jitter_pct.
    mm_size_multiplier: int = Field(default=20, ge=1)
    mm_size_growth_pct: int = Field(default=25, ge=0)
    mm_size_jitter_pct: int = Field(default=20, ge=0, le=90)
    mm_requote_seconds: float = Field(default=1.0, gt=0)
    # How often its open orders are re-read from the API (also after each of its taker orders).
    mm_reconcile_seconds: float = Field(default=5.0, gt=0)
    # Mean time between two taker (MARKET) orders in one market; 0 turns them off.
    mm_taker_seconds: float = Field(default=4.0, ge=0)
    mm_taker_multiplier: int = Field(default=3, ge=1)
    # Quotes shift by up to this much against the inventory...
    mm_skew_bps: float = Field(default=20.0, ge=0)
    # ...reached when the base asset held is this far (in %) from what it held at start.
    mm_inventory_range_pct: float = Field(default=20.0, gt=0)
    mm_account_seconds: float = Field(default=5.0, gt=0)
    mm_max_backoff_seconds: float = Field(default=30.0, gt=0)
    # Requests one market may have in flight at once.
    mm_concurrency: int = Field(default=8, ge=1)
    mm_request_timeout_seconds: float = Field(default=10.0, gt=0)
    mm_stats_seconds: float = Field(default=30.0, gt=0)

    def symbols(self) -> list[str]:
        return [s.strip().upper() for s in self.mm_symbols.split(",") if s.strip()]
