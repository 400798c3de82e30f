"""Binance's request weights of the WebSocket API's market-data methods, from a request's
parameters. A weight never rejects: malformed parameters weigh the default and the method
itself answers the error."""

import json
from collections.abc import Callable

Weigher = Callable[[dict[str, str]], int]

# depth: (largest limit, weight), by ascending limit.
_DEPTH_WEIGHTS = ((100, 5), (500, 25), (1000, 50))
_DEPTH_MAX_WEIGHT = 250


def fixed(weight: int) -> Weigher:
    def weigh(params: dict[str, str]) -> int:
        return weight

    return weigh


def _symbol_count(params: dict[str, str]) -> int | None:
    """1 for `symbol`, the list's length for `symbols`, None for neither (every market)."""
    if params.get("symbol"):
        return 1
    try:
        names = json.loads(params.get("symbols") or "null")
    except (ValueError, RecursionError):
        return 1
    return len(names) if isinstance(names, list) else None


def depth(params: dict[str, str]) -> int:
    """5 up to limit 100 (the default), 25 to 500, 50 to 1000, 250 beyond."""
    try:
        limit = int(params.get("limit") or 100)
    except ValueError:
        return _DEPTH_WEIGHTS[0][1]
    return next((w for most, w in _DEPTH_WEIGHTS if limit <= most), _DEPTH_MAX_WEIGHT)


def ticker_24hr(params: dict[str, str]) -> int:
    """2 for 1 to 20 symbols, 40 for 21 to 100, 80 for more or every market."""
    count = _symbol_count(params)
    if count is None or count > 100:
        return 80
    return 2 if count <= 20 else 40


def per_symbol(params: dict[str, str]) -> int:
    """ticker and ticker.tradingDay: 4 per symbol, at most 200."""
    return min(4 * (_symbol_count(params) or 1), 200)


def one_or_all(params: dict[str, str]) -> int:
    """ticker.price and ticker.book: 2 for `symbol`, 4 for `symbols` or every market."""
    return 2 if params.get("symbol") else 4
