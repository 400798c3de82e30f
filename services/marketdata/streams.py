"""Stream names (Binance Spot WebSocket Streams): parsing and their canonical form.

A market stream is `<symbol>@<kind>[...]` with the symbol in lower case: `@trade`, `@aggTrade`,
`@depth[@100ms|@1000ms]`, `@depth<5|10|20>[@100ms|@1000ms]`, `@kline_<interval>[@+08:00]`,
`@ticker`, `@ticker_<1h|4h|1d>`, `@miniTicker`, `@bookTicker`, `@avgPrice`. The all-market
streams are `!ticker@arr`, `!miniTicker@arr` (also spelled `!miniTicker@arr@1000ms`, as
python-binance's miniticker_socket asks for it) and `!ticker_<1h|4h|1d>@arr`; their spec's symbol
is ALL_MARKETS. Anything else is not a market stream (it may be a listen key).
"""

from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum

from marketdata.candles import DAY, HOUR, INTERVALS

PARTIAL_LEVELS = (5, 10, 20)
SPEEDS_MS = (100, 1000)
# Rolling-window ticker streams: window name -> width (ms).
WINDOWS = {"1h": HOUR, "4h": 4 * HOUR, "1d": DAY}
# The one time zone kline streams have besides UTC (Binance's `@+08:00`), as text and ms.
KLINE_ZONE = "+08:00"
KLINE_ZONE_OFFSET = 8 * HOUR
ALL_MARKETS = ""


class Kind(Enum):
    TRADE = "trade"
    AGG_TRADE = "aggTrade"
    DEPTH = "depth"
    PARTIAL_DEPTH = "partialDepth"
    KLINE = "kline"
    TICKER = "ticker"
    MINI_TICKER = "miniTicker"
    BOOK_TICKER = "bookTicker"
    WINDOW_TICKER = "windowTicker"
    AVG_PRICE = "avgPrice"
    ALL_TICKERS = "allTickers"
    ALL_MINI_TICKERS = "allMiniTickers"
    ALL_WINDOW_TICKERS = "allWindowTickers"


_SIMPLE = {
    "trade": Kind.TRADE,
    "aggTrade": Kind.AGG_TRADE,
    "ticker": Kind.TICKER,
    "miniTicker": Kind.MINI_TICKER,
    "bookTicker": Kind.BOOK_TICKER,
    "avgPrice": Kind.AVG_PRICE,
}


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One market stream. `name` is canonical: the symbol in lower case, the rest as Binance.
    `interval` is a kline interval or a rolling ticker's window; `zoned` marks a kline stream
    in KLINE_ZONE."""

    name: str
    symbol: str
    kind: Kind
    speed_ms: int = 0
    levels: int = 0
    interval: str = ""
    zoned: bool = False

    @property
    def all_markets(self) -> bool:
        return self.symbol == ALL_MARKETS


def depth_name(symbol: str, speed_ms: int) -> str:
    base = f"{symbol.lower()}@depth"
    return base if speed_ms == 1000 else f"{base}@{speed_ms}ms"


def partial_name(symbol: str, levels: int, speed_ms: int) -> str:
    base = f"{symbol.lower()}@depth{levels}"
    return base if speed_ms == 1000 else f"{base}@{speed_ms}ms"


# The partial depth levels by their exact ASCII text: no other spelling ("05", "²") names one.
_PARTIAL_BY_TEXT = {str(n): n for n in PARTIAL_LEVELS}


def kline_name(symbol: str, interval: str, zoned: bool) -> str:
    base = f"{symbol.lower()}@kline_{interval}"
    return f"{base}@{KLINE_ZONE}" if zoned else base


def window_name(symbol: str, window: str) -> str:
    return f"{symbol.lower()}@ticker_{window}"


def _all_markets(name: str) -> StreamSpec | None:
    if name == "!ticker@arr":
        return StreamSpec(name, ALL_MARKETS, Kind.ALL_TICKERS)
    if name in ("!miniTicker@arr", "!miniTicker@arr@1000ms"):
        return StreamSpec("!miniTicker@arr", ALL_MARKETS, Kind.ALL_MINI_TICKERS)
    if name.startswith("!ticker_") and name.endswith("@arr") and name[8:-4] in WINDOWS:
        return StreamSpec(name, ALL_MARKETS, Kind.ALL_WINDOW_TICKERS, interval=name[8:-4])
    return None


def parse_stream(name: str, symbols: Collection[str]) -> StreamSpec | None:
    """The market stream `name` names, or None when it is no stream of a market in `symbols`
    (upper-case symbol names). The symbol part may be in any case."""
    if name.startswith("!"):
        return _all_markets(name)
    parts = name.split("@")
    if len(parts) < 2 or len(parts) > 3:
        return None
    symbol = parts[0].upper()
    if symbol not in symbols:
        return None
    lower = symbol.lower()
    kind_text = parts[1]
    speed_text = parts[2] if len(parts) == 3 else None
    if kind_text in _SIMPLE and speed_text is None:
        return StreamSpec(f"{lower}@{kind_text}", symbol, _SIMPLE[kind_text])
    if kind_text.startswith("kline_") and speed_text in (None, KLINE_ZONE):
        interval = kind_text[len("kline_") :]
        if interval not in INTERVALS:
            return None
        zoned = speed_text is not None
        return StreamSpec(
            kline_name(symbol, interval, zoned), symbol, Kind.KLINE, interval=interval, zoned=zoned
        )
    if kind_text.startswith("ticker_") and speed_text is None:
        window = kind_text[len("ticker_") :]
        if window not in WINDOWS:
            return None
        return StreamSpec(window_name(symbol, window), symbol, Kind.WINDOW_TICKER, interval=window)
    if kind_text.startswith("depth"):
        speed = _speed(speed_text)
        if speed is None:
            return None
        levels_text = kind_text[len("depth") :]
        if not levels_text:
            return StreamSpec(depth_name(symbol, speed), symbol, Kind.DEPTH, speed_ms=speed)
        levels = _PARTIAL_BY_TEXT.get(levels_text)
        if levels is not None:
            return StreamSpec(
                partial_name(symbol, levels, speed), symbol, Kind.PARTIAL_DEPTH, speed_ms=speed, levels=levels
            )
    return None


def _speed(text: str | None) -> int | None:
    if text is None or text == "1000ms":
        return 1000
    if text == "100ms":
        return 100
    return None
