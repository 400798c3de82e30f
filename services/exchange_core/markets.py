"""The markets registry: every service reads the same file (a ConfigMap in Kubernetes).

The file is TOML (see markets.toml beside this module); `MARKETS_FILE` points at another one.
"""

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from exchange_core.units import fraction_to_ppm, to_units
from matching.market import MarketSpec

DEFAULT_FILE = Path(__file__).with_name("markets.toml")


@dataclass(frozen=True, slots=True)
class Asset:
    name: str
    decimals: int


@dataclass(frozen=True, slots=True)
class Market:
    """A market as the edges show it (decimal strings) and as the core uses it (`spec`)."""

    spec: MarketSpec
    base: Asset
    quote: Asset
    tick_size: str
    step_size: str
    min_qty: str
    max_qty: str
    min_notional: str
    maker_fee: str
    taker_fee: str

    @property
    def symbol(self) -> str:
        return self.spec.symbol


class MarketsError(ValueError):
    """The registry file is malformed or a market breaks a rule."""


def load_markets(path: Path | None = None) -> dict[str, Market]:
    """All markets of the registry, by symbol, in file order.

    Reads `path`, else `$MARKETS_FILE`, else the bundled markets.toml.
    """
    source = path or Path(os.environ.get("MARKETS_FILE") or DEFAULT_FILE)
    with source.open("rb") as fh:
        doc = tomllib.load(fh)
    return parse_markets(doc)


def parse_markets(doc: dict[str, object]) -> dict[str, Market]:
    """Markets from an already parsed registry document."""
    raw_assets = doc.get("assets")
    raw_markets = doc.get("markets")
    if not isinstance(raw_assets, dict) or not isinstance(raw_markets, list):
        raise MarketsError("registry needs an [assets] table and [[markets]] entries")
    assets = {name: Asset(name, int(cfg["decimals"])) for name, cfg in raw_assets.items()}
    markets: dict[str, Market] = {}
    for entry in raw_markets:
        market = _parse_market(entry, assets)
        if market.symbol in markets:
            raise MarketsError(f"{market.symbol} is listed twice")
        markets[market.symbol] = market
    return markets


def _parse_market(entry: dict[str, str], assets: dict[str, Asset]) -> Market:
    symbol = str(entry["symbol"])
    try:
        base, quote = assets[entry["base"]], assets[entry["quote"]]
    except KeyError as exc:
        raise MarketsError(f"{symbol}: unknown asset {exc}") from exc
    try:
        spec = MarketSpec(
            symbol=symbol,
            base=base.name,
            quote=quote.name,
            base_decimals=base.decimals,
            quote_decimals=quote.decimals,
            tick_units=to_units(entry["tick_size"], quote.decimals),
            step_units=to_units(entry["step_size"], base.decimals),
            min_qty_units=to_units(entry["min_qty"], base.decimals),
            max_qty_units=to_units(entry["max_qty"], base.decimals),
            min_notional_units=to_units(entry["min_notional"], quote.decimals),
            maker_fee_ppm=fraction_to_ppm(entry["maker_fee"]),
            taker_fee_ppm=fraction_to_ppm(entry["taker_fee"]),
        )
    except (KeyError, ValueError) as exc:
        raise MarketsError(f"{symbol}: {exc}") from exc
    return Market(
        spec=spec,
        base=base,
        quote=quote,
        tick_size=entry["tick_size"],
        step_size=entry["step_size"],
        min_qty=entry["min_qty"],
        max_qty=entry["max_qty"],
        min_notional=entry["min_notional"],
        maker_fee=entry["maker_fee"],
        taker_fee=entry["taker_fee"],
    )
