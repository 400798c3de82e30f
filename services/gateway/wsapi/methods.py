"""The WebSocket API's methods: each one is the REST endpoint's operation (the same functions,
the same answers and errors), with Binance's security type.

Security types (Binance's): NONE (public), USER_STREAM (the `apiKey` parameter alone), USER_DATA
(signed: apiKey, timestamp, signature; any key), TRADE (signed, a key with the trading
permission). A method that `places_orders` counts against the ORDERS rate limits of its apiKey,
as POST /api/v3/order does on REST.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from exchange_core import listenkeys
from exchange_core.clock import now_ms
from exchange_core.errors import ApiError
from gateway.context import GatewayContext
from gateway.formatting import amend_json, cancel_json, new_order_json, order_json, trade_json
from gateway.listformat import cancel_all_json, cancel_order_list_json, new_order_list_json, order_list_json
from gateway.orders import OrderService
from gateway.prevented import prevented_matches
from gateway.ratelimit import RateLimiter
from gateway.replace import cancel_replace, test_order
from gateway.restweights import weigher_of
from gateway.routes.account import account_info, allocations, commission_rates
from gateway.routes.market import (
    aggregate_trades,
    average_price,
    candles,
    latest_trades,
    older_trades,
    order_book,
)
from gateway.routes.public import exchange_info_body, my_filters_body
from gateway.routes.tickers import (
    book_tickers,
    last_prices,
    tickers_24hr,
    trading_day_tickers,
    window_tickers,
)
from gateway.routes.userstream import owned_listen_key
from gateway.validation import int_param, market_of
from gateway.wsapi import weights
from gateway.wsapi.userdata import UserDataSubscriptions

NONE = "NONE"
USER_STREAM = "USER_STREAM"
USER_DATA = "USER_DATA"
TRADE = "TRADE"
SIGNED = frozenset({USER_DATA, TRADE})
# Binance's answer to session.logon with a key that is not Ed25519: only Ed25519 keys may log a
# session on.
KEY_TYPE_NOT_SUPPORTED = -4056
_LOGON_REFUSALS = {"HMAC": "HMAC_SHA256 API key is not supported.", "RSA": "RSA API key is not supported."}


@dataclass(slots=True)
class Session:
    """A connection's own state: when it opened (ms), whether its answers carry rateLimits, and
    the Ed25519 key it is logged on with (session.logon) and since when (ms); None: not logged on."""

    connected_since: int
    return_rate_limits: bool
    api_key: str | None = None
    authorized_since: int | None = None


@dataclass(slots=True)
class Call:
    """One request as a method sees it: `user_id` and `api_key` are the authenticated caller's
    (None for a NONE method)."""

    ctx: GatewayContext
    limiter: RateLimiter
    session: Session
    params: dict[str, str]
    user_id: int = 0
    api_key: str | None = None
    key_type: str | None = None
    streams: UserDataSubscriptions | None = None

    @property
    def orders(self) -> OrderService:
        return self.ctx.orders


Handler = Callable[[Call], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Method:
    """`weight`: the request's REQUEST_WEIGHT from its parameters (Binance's; 1 by default).
    `by_logon`: whether a connection's session.logon may stand in for the request's apiKey and
    signature (every secure method but session.logon itself). `timestamped`: whether a request on a
    logged-on connection still carries a timestamp (Binance's userDataStream.subscribe takes no
    parameter at all: the logon alone authorizes it)."""

    security: str
    handler: Handler
    places_orders: bool = False
    # how many orders one call places (an OCO counts as two)
    order_count: int = 1
    weight: weights.Weigher = field(default=weights.fixed(1))
    by_logon: bool = True
    timestamped: bool = True


async def _ping(call: Call) -> object:
    return {}


async def _time(call: Call) -> object:
    return {"serverTime": now_ms()}


async def _exchange_info(call: Call) -> object:
    return exchange_info_body(call.ctx, call.params)


async def _depth(call: Call) -> object:
    return await order_book(call.ctx, call.params)


async def _recent_trades(call: Call) -> object:
    return await latest_trades(call.ctx, call.params)


async def _klines(call: Call) -> object:
    return await candles(call.ctx, call.params)


async def _historical_trades(call: Call) -> object:
    return await older_trades(call.ctx, call.params)


async def _agg_trades(call: Call) -> object:
    return await aggregate_trades(call.ctx, call.params)


async def _avg_price(call: Call) -> object:
    return await average_price(call.ctx, call.params)


async def _ticker_24hr(call: Call) -> object:
    return await tickers_24hr(call.ctx, call.params)


async def _ticker(call: Call) -> object:
    return await window_tickers(call.ctx, call.params)


async def _trading_day(call: Call) -> object:
    return await trading_day_tickers(call.ctx, call.params)


async def _ticker_price(call: Call) -> object:
    return await last_prices(call.ctx, call.params)


async def _ticker_book(call: Call) -> object:
    return await book_tickers(call.ctx, call.params)


async def _place(call: Call) -> object:
    return new_order_json(await call.orders.place(call.user_id, call.params, call.api_key))


async def _test(call: Call) -> object:
    return await test_order(call.orders, call.params)


async def _status(call: Call) -> object:
    return order_json(await call.orders.get_order(call.user_id, call.params))


async def _cancel(call: Call) -> object:
    return cancel_json(await call.orders.cancel(call.user_id, call.params))


async def _amend(call: Call) -> object:
    return amend_json(await call.orders.amend(call.user_id, call.params))


async def _cancel_replace(call: Call) -> object:
    """As REST: both halves, else an error answer (409 -2021, 400 -2022: replace.ReplaceFailed)
    whose `data` says what happened to each half."""
    return await cancel_replace(call.orders, call.user_id, call.params, call.api_key)


async def _place_oco(call: Call) -> object:
    return new_order_list_json(await call.ctx.order_lists.place_oco(call.user_id, call.params))


async def _place_oto(call: Call) -> object:
    return new_order_list_json(await call.ctx.order_lists.place_oto(call.user_id, call.params))


async def _place_otoco(call: Call) -> object:
    return new_order_list_json(await call.ctx.order_lists.place_otoco(call.user_id, call.params))


async def _place_deprecated_oco(call: Call) -> object:
    return new_order_list_json(await call.ctx.order_lists.place_deprecated_oco(call.user_id, call.params))


async def _list_status(call: Call) -> object:
    return order_list_json(await call.ctx.order_lists.get(call.user_id, call.params))


async def _list_cancel(call: Call) -> object:
    return cancel_order_list_json(await call.ctx.order_lists.cancel(call.user_id, call.params))


async def _open_lists(call: Call) -> object:
    return [order_list_json(s) for s in await call.ctx.order_lists.open_lists(call.user_id)]


async def _all_lists(call: Call) -> object:
    return [order_list_json(s) for s in await call.ctx.order_lists.all_lists(call.user_id, call.params)]


async def _open_orders(call: Call) -> object:
    return [order_json(o) for o in await call.orders.open_orders(call.user_id, call.params)]


async def _cancel_all(call: Call) -> object:
    return cancel_all_json(await call.ctx.order_lists.cancel_all(call.user_id, call.params))


async def _all_orders(call: Call) -> object:
    return [order_json(o) for o in await call.orders.all_orders(call.user_id, call.params)]


async def _my_trades(call: Call) -> object:
    return [trade_json(t) for t in await call.orders.my_trades(call.user_id, call.params)]


async def _my_prevented_matches(call: Call) -> object:
    return await prevented_matches(call.ctx, call.user_id, call.params)


async def _my_allocations(call: Call) -> object:
    return allocations(call.ctx, call.params)


async def _account(call: Call) -> object:
    return await account_info(call.ctx, call.user_id, call.params)


async def _order_rate_limits(call: Call) -> object:
    return call.limiter.order_counts(call.api_key)


async def _commission(call: Call) -> object:
    return commission_rates(market_of(call.params, call.ctx.markets))


async def _my_filters(call: Call) -> object:
    return my_filters_body(call.ctx, call.params)


async def _stream_start(call: Call) -> object:
    return {"listenKey": await listenkeys.create(call.ctx.redis, call.ctx.keys, call.user_id, call.api_key)}


async def _stream_ping(call: Call) -> object:
    key = await owned_listen_key(call.ctx, call.params, call.user_id)
    await listenkeys.keepalive(call.ctx.redis, call.ctx.keys, key, call.api_key)
    return {}


async def _stream_stop(call: Call) -> object:
    key = await owned_listen_key(call.ctx, call.params, call.user_id)
    await listenkeys.close(call.ctx.redis, call.ctx.keys, key)
    return {}


def _streams(call: Call) -> UserDataSubscriptions:
    assert call.streams is not None, "a connection always passes its subscriptions"
    return call.streams


async def _subscribe(call: Call) -> object:
    """Binance's userDataStream.subscribe.signature: the caller's events on this connection
    (gateway.wsapi.userdata: one per account, at most MAX_ACTIVE)."""
    assert call.api_key is not None, "a signed method has a key"
    return {"subscriptionId": await _streams(call).subscribe(call.user_id, call.api_key)}


async def _unsubscribe(call: Call) -> object:
    """One subscription (`subscriptionId`) or all of this connection's."""
    await _streams(call).unsubscribe(int_param(call.params, "subscriptionId"))
    return {}


async def _subscriptions(call: Call) -> object:
    return [{"subscriptionId": sid} for sid in _streams(call).ids()]


async def _session_status(call: Call) -> object:
    """The connection's state: the key it is logged on with (null when not), since when."""
    return {
        "apiKey": call.session.api_key,
        "authorizedSince": call.session.authorized_since,
        "connectedSince": call.session.connected_since,
        "returnRateLimits": call.session.return_rate_limits,
        "serverTime": now_ms(),
        "userDataStream": bool(call.streams and call.streams.ids()),
    }


async def _session_logon(call: Call) -> object:
    """Log the connection on with the request's key, signed as any USER_DATA request: later
    requests may leave out apiKey and signature. Only Ed25519 keys may (Binance): -4056 for an
    HMAC or RSA key. A second logon replaces the first one's key."""
    assert call.api_key is not None and call.key_type is not None, "a signed method has a key"
    if call.key_type != "ED25519":
        raise ApiError(
            KEY_TYPE_NOT_SUPPORTED, _LOGON_REFUSALS.get(call.key_type, "API key type is not supported.")
        )
    call.session.api_key = call.api_key
    call.session.authorized_since = now_ms()
    return await _session_status(call)


async def _session_logout(call: Call) -> object:
    """Forget the key the connection is logged on with (nothing when none); later secure
    requests carry apiKey and signature again."""
    call.session.api_key = None
    call.session.authorized_since = None
    return await _session_status(call)


# Binance's weight of the session and user-data-stream methods (no REST twin weighs the same).
SESSION_WEIGHT = weights.fixed(2)

METHODS: dict[str, Method] = {
    "ping": Method(NONE, _ping),
    "time": Method(NONE, _time),
    "exchangeInfo": Method(NONE, _exchange_info, weight=weigher_of("GET", "/api/v3/exchangeInfo")),
    "depth": Method(NONE, _depth, weight=weights.depth),
    "trades.recent": Method(NONE, _recent_trades, weight=weights.fixed(25)),
    "trades.historical": Method(NONE, _historical_trades, weight=weights.fixed(25)),
    "trades.aggregate": Method(NONE, _agg_trades, weight=weights.fixed(4)),
    "klines": Method(NONE, _klines, weight=weights.fixed(2)),
    "uiKlines": Method(NONE, _klines, weight=weights.fixed(2)),
    "avgPrice": Method(NONE, _avg_price, weight=weights.fixed(2)),
    "ticker.24hr": Method(NONE, _ticker_24hr, weight=weights.ticker_24hr),
    "ticker": Method(NONE, _ticker, weight=weights.per_symbol),
    "ticker.tradingDay": Method(NONE, _trading_day, weight=weights.per_symbol),
    "ticker.price": Method(NONE, _ticker_price, weight=weights.one_or_all),
    "ticker.book": Method(NONE, _ticker_book, weight=weights.one_or_all),
    "session.status": Method(NONE, _session_status, weight=SESSION_WEIGHT),
    "session.logon": Method(USER_DATA, _session_logon, by_logon=False, weight=SESSION_WEIGHT),
    "session.logout": Method(NONE, _session_logout, weight=SESSION_WEIGHT),
    "order.place": Method(TRADE, _place, places_orders=True),
    "order.test": Method(TRADE, _test, weight=weigher_of("POST", "/api/v3/order/test")),
    "order.status": Method(USER_DATA, _status, weight=weigher_of("GET", "/api/v3/order")),
    "order.cancel": Method(TRADE, _cancel),
    "order.cancelReplace": Method(TRADE, _cancel_replace, places_orders=True),
    "order.amend.keepPriority": Method(
        TRADE, _amend, weight=weigher_of("PUT", "/api/v3/order/amend/keepPriority")
    ),
    "orderList.place.oco": Method(TRADE, _place_oco, places_orders=True, order_count=2),
    "orderList.place": Method(TRADE, _place_deprecated_oco, places_orders=True, order_count=2),
    "orderList.place.oto": Method(TRADE, _place_oto, places_orders=True, order_count=2),
    "orderList.place.otoco": Method(TRADE, _place_otoco, places_orders=True, order_count=3),
    "orderList.status": Method(USER_DATA, _list_status, weight=weigher_of("GET", "/api/v3/orderList")),
    "orderList.cancel": Method(TRADE, _list_cancel),
    "openOrderLists.status": Method(
        USER_DATA, _open_lists, weight=weigher_of("GET", "/api/v3/openOrderList")
    ),
    "allOrderLists": Method(USER_DATA, _all_lists, weight=weigher_of("GET", "/api/v3/allOrderList")),
    "openOrders.status": Method(USER_DATA, _open_orders, weight=weigher_of("GET", "/api/v3/openOrders")),
    "openOrders.cancelAll": Method(TRADE, _cancel_all),
    "allOrders": Method(USER_DATA, _all_orders, weight=weigher_of("GET", "/api/v3/allOrders")),
    "myTrades": Method(USER_DATA, _my_trades, weight=weigher_of("GET", "/api/v3/myTrades")),
    "myPreventedMatches": Method(
        USER_DATA, _my_prevented_matches, weight=weigher_of("GET", "/api/v3/myPreventedMatches")
    ),
    "myAllocations": Method(USER_DATA, _my_allocations, weight=weigher_of("GET", "/api/v3/myAllocations")),
    "account.status": Method(USER_DATA, _account, weight=weigher_of("GET", "/api/v3/account")),
    "account.rateLimits.orders": Method(
        USER_DATA, _order_rate_limits, weight=weigher_of("GET", "/api/v3/rateLimit/order")
    ),
    "account.commission": Method(
        USER_DATA, _commission, weight=weigher_of("GET", "/api/v3/account/commission")
    ),
    "myFilters": Method(USER_DATA, _my_filters, weight=weigher_of("GET", "/api/v3/myFilters")),
    "userDataStream.start": Method(USER_STREAM, _stream_start, weight=SESSION_WEIGHT),
    "userDataStream.ping": Method(USER_STREAM, _stream_ping, weight=SESSION_WEIGHT),
    "userDataStream.stop": Method(USER_STREAM, _stream_stop, weight=SESSION_WEIGHT),
    "userDataStream.subscribe.signature": Method(USER_DATA, _subscribe, weight=SESSION_WEIGHT),
    "userDataStream.subscribe": Method(USER_DATA, _subscribe, weight=SESSION_WEIGHT, timestamped=False),
    "userDataStream.unsubscribe": Method(NONE, _unsubscribe, weight=SESSION_WEIGHT),
    "session.subscriptions": Method(NONE, _subscriptions, weight=SESSION_WEIGHT),
}
