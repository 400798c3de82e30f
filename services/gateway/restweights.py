"""Binance's REQUEST_WEIGHT of each REST endpoint, from the method, the path and the query
parameters; the endpoints whose weight depends on their parameters use the weighers of their
WebSocket API twins (gateway.wsapi.weights). Paths not listed weigh 1. A weight never rejects:
malformed parameters weigh the default and the endpoint answers the error. The WebSocket API's
methods that are a REST endpoint's twin weigh what it weighs (`weigher_of`)."""

from urllib.parse import parse_qsl

from gateway.wsapi import weights

_FIXED: dict[tuple[str, str], int] = {
    ("GET", "/api/v3/trades"): 25,
    ("GET", "/api/v3/historicalTrades"): 25,
    ("GET", "/api/v3/aggTrades"): 4,
    ("GET", "/api/v3/klines"): 2,
    ("GET", "/api/v3/uiKlines"): 2,
    ("GET", "/api/v3/avgPrice"): 2,
    ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/account"): 20,
    ("GET", "/api/v3/allOrders"): 20,
    ("GET", "/api/v3/order"): 4,
    ("GET", "/api/v3/rateLimit/order"): 40,
    ("GET", "/api/v3/myFilters"): 40,
    ("PUT", "/api/v3/order/amend/keepPriority"): 4,
    ("GET", "/api/v3/account/commission"): 20,
    ("GET", "/api/v3/orderList"): 4,
    ("GET", "/api/v3/openOrderList"): 6,
    ("GET", "/api/v3/allOrderList"): 20,
    ("GET", "/api/v3/myAllocations"): 20,
    ("POST", "/api/v3/userDataStream"): 2,
    ("PUT", "/api/v3/userDataStream"): 2,
    ("DELETE", "/api/v3/userDataStream"): 2,
}


def _open_orders(params: dict[str, str]) -> int:
    """GET openOrders: 6 for one market, 80 for every market."""
    return 6 if params.get("symbol") else 80


def _my_trades(params: dict[str, str]) -> int:
    """GET myTrades: 5 with orderId, else 20."""
    return 5 if params.get("orderId") else 20


def _my_prevented_matches(params: dict[str, str]) -> int:
    """GET myPreventedMatches: 20 by orderId, else (by preventedMatchId, or refused) 2."""
    return 20 if params.get("orderId") and not params.get("preventedMatchId") else 2


def _order_test(params: dict[str, str]) -> int:
    """POST order/test: 20 with computeCommissionRates=true, else 1."""
    return 20 if params.get("computeCommissionRates", "").lower() == "true" else 1


_BY_PARAMS: dict[tuple[str, str], weights.Weigher] = {
    ("GET", "/api/v3/depth"): weights.depth,
    ("GET", "/api/v3/ticker/24hr"): weights.ticker_24hr,
    ("GET", "/api/v3/ticker"): weights.per_symbol,
    ("GET", "/api/v3/ticker/tradingDay"): weights.per_symbol,
    ("GET", "/api/v3/ticker/price"): weights.one_or_all,
    ("GET", "/api/v3/ticker/bookTicker"): weights.one_or_all,
    ("GET", "/api/v3/openOrders"): _open_orders,
    ("GET", "/api/v3/myTrades"): _my_trades,
    ("GET", "/api/v3/myPreventedMatches"): _my_prevented_matches,
    ("POST", "/api/v3/order/test"): _order_test,
}


def weigher_of(method: str, path: str) -> weights.Weigher:
    """The weigher of the REST endpoint `method` `path` (1 when it is not listed), for its
    WebSocket API twin."""
    fixed = _FIXED.get((method, path))
    if fixed is not None:
        return weights.fixed(fixed)
    return _BY_PARAMS.get((method, path), weights.fixed(1))


def request_weight(method: str, path: str, query_string: bytes) -> int:
    """The weight of a REST request (the query string is parsed only where it matters)."""
    route = (method, path)
    fixed = _FIXED.get(route)
    if fixed is not None:
        return fixed
    weigher = _BY_PARAMS.get(route)
    if weigher is None:
        return 1
    params = dict(parse_qsl(query_string.decode("latin-1")))
    return weigher(params)
