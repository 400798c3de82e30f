"""Binance's official Spot SDK (binance-sdk-spot) over every method of its REST API, WebSocket API
and WebSocket streams, configured with the stack's URLs (base_path, stream_url) and a key; every
answer goes through the SDK's own response models (pydantic), which is part of what is checked."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx
from binance_common.configuration import (  # type: ignore[import-untyped]
    ConfigurationRestAPI,
    ConfigurationWebSocketAPI,
    ConfigurationWebSocketStreams,
)
from binance_sdk_spot.spot import Spot  # type: ignore[import-untyped]

from tests.client import Trader
from tests.conformance.conftest import Venue
from tests.conformance.ledger import Ledger, holds
from tests.conformance.reasons import (
    AMENDMENTS,
    BLOCK,
    EXECUTION_RULES,
    OPO,
    REFERENCE,
    SOR,
)

SYMBOL = "BTCUSDT"
OUT_OF_SCOPE: dict[str, str] = {
    "sor_order": SOR,
    "sor_order_test": SOR,
    "sor_order_place": SOR,
    "historical_block_trades": BLOCK,
    "block_trades_historical": BLOCK,
    "block_trade": BLOCK,
    "order_list_opo": OPO,
    "order_list_opoco": OPO,
    "order_list_place_opo": OPO,
    "order_list_place_opoco": OPO,
    "reference_price": REFERENCE,
    "reference_price_calculation": REFERENCE,
    "execution_rules": EXECUTION_RULES,
    "order_amendments": AMENDMENTS,
}
NOT_METHODS = {
    "send_request",
    "send_signed_request",
    "send_message",
    "send_signed_message",
    "close_connection",
    "ping_server",
    "subscribe",
    "unsubscribe",
    "on",
    "list_subscribe",
    "create_connection",
}


def offered(api: Any) -> list[str]:
    """The API methods of the SDK's class (its own, not the connection plumbing it inherits)."""
    names = [m for m, value in vars(type(api)).items() if not m.startswith("_") and callable(value)]
    return [m for m in names if m not in NOT_METHODS]


def prices(url: str) -> tuple[float, float]:
    """(buy, sell): 5% inside the book's best bid and ask, so they rest and pass PERCENT_PRICE_BY_SIDE."""
    book = httpx.get(f"{url}/api/v3/depth", params={"symbol": SYMBOL, "limit": 5}, timeout=10).json()
    bid, ask = Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])
    return float(round(bid * Decimal("0.95"), 2)), float(round(ask * Decimal("1.05"), 2))


def order_calls(buy: float, sell: float) -> dict[str, dict[str, Any]]:
    """Arguments shared by the REST and WebSocket APIs: a resting limit buy ("limit") and each
    order list kind."""
    working = {
        "symbol": SYMBOL,
        "working_type": "LIMIT",
        "working_side": "BUY",
        "working_price": buy,
        "working_quantity": 0.001,
        "working_time_in_force": "GTC",
    }
    return {
        "limit": {
            "symbol": SYMBOL,
            "side": "BUY",
            "type": "LIMIT",
            "time_in_force": "GTC",
            "quantity": 0.001,
            "price": buy,
        },
        "oco": {
            "symbol": SYMBOL,
            "side": "SELL",
            "quantity": 0.001,
            "above_type": "LIMIT_MAKER",
            "above_price": sell,
            "below_type": "STOP_LOSS",
            "below_stop_price": buy,
        },
        "oto": {
            **working,
            "pending_type": "LIMIT",
            "pending_side": "SELL",
            "pending_quantity": 0.001,
            "pending_price": sell,
            "pending_time_in_force": "GTC",
        },
        "otoco": {
            **working,
            "pending_side": "SELL",
            "pending_quantity": 0.001,
            "pending_above_type": "LIMIT_MAKER",
            "pending_above_price": sell,
            "pending_below_type": "STOP_LOSS",
            "pending_below_stop_price": round(buy * 0.98, 2),
        },
        "opo": {
            **working,
            "pending_type": "LIMIT",
            "pending_side": "SELL",
            "pending_price": sell,
            "pending_time_in_force": "GTC",
        },
        "opoco": {
            **working,
            "pending_side": "SELL",
            "pending_above_type": "LIMIT_MAKER",
            "pending_above_price": sell,
        },
    }


def test_sdk_rest(venue: Venue) -> None:
    trader = venue.trader()
    config = ConfigurationRestAPI(
        api_key=trader.api_key, api_secret=trader.secret, base_path=venue.stack.url, timeout=10_000
    )
    api = Spot(config_rest_api=config).rest_api
    ledger = Ledger("binance-sdk-spot (REST)", OUT_OF_SCOPE)
    buy, sell = prices(venue.stack.url)
    lists = order_calls(buy, sell)
    limit = lists["limit"]

    def data(name: str, **kwargs: Any) -> Any:
        return getattr(api, name)(**kwargs).data()

    def placed() -> int:
        order_id: int = data("new_order", **limit).order_id
        return order_id

    def cancel_one() -> None:
        assert data("delete_order", symbol=SYMBOL, order_id=placed()).status == "CANCELED"

    def cancel_all() -> None:
        placed()
        assert data("delete_open_orders", symbol=SYMBOL)

    def place_list(name: str, kind: str) -> None:
        made = data(name, **lists[kind])
        assert made.list_status_type == "EXEC_STARTED", made
        data("delete_order_list", symbol=SYMBOL, order_list_id=made.order_list_id)

    def amend() -> int:
        order_id = placed()
        amended = data("order_amend_keep_priority", symbol=SYMBOL, order_id=order_id, new_qty=0.0005)
        assert amended.amended_order.qty == "0.00050000", amended
        data("delete_order", symbol=SYMBOL, order_id=order_id)
        return order_id

    def cancel_replace() -> None:
        order_id = placed()
        replaced = data(
            "order_cancel_replace", **limit, cancel_replace_mode="STOP_ON_FAILURE", cancel_order_id=order_id
        )
        data("delete_order", symbol=SYMBOL, order_id=replaced.new_order_response.order_id)

    def legacy_oco() -> None:
        made = data("order_oco", symbol=SYMBOL, side="SELL", quantity=0.001, price=sell, stop_price=buy)
        data("delete_order_list", symbol=SYMBOL, order_list_id=made.order_list_id)

    def market() -> None:
        assert data("new_order", symbol=SYMBOL, side="BUY", type="MARKET", quantity=0.001).status == "FILLED"

    calls: dict[str, Callable[[], Any]] = {
        "ping": lambda: data("ping"),
        "time": lambda: data("time").server_time,
        "exchange_info": lambda: data("exchange_info", symbol=SYMBOL).symbols[0].filters,
        "execution_rules": lambda: data("execution_rules", symbol=SYMBOL),
        "depth": lambda: holds(data("depth", symbol=SYMBOL).bids),
        "get_trades": lambda: holds(data("get_trades", symbol=SYMBOL)),
        "historical_trades": lambda: holds(data("historical_trades", symbol=SYMBOL)),
        "agg_trades": lambda: holds(data("agg_trades", symbol=SYMBOL)),
        "klines": lambda: holds(data("klines", symbol=SYMBOL, interval="1m")),
        "ui_klines": lambda: holds(data("ui_klines", symbol=SYMBOL, interval="1m")),
        "avg_price": lambda: data("avg_price", symbol=SYMBOL).price,
        "ticker24hr": lambda: data("ticker24hr", symbol=SYMBOL),
        "ticker": lambda: data("ticker", symbol=SYMBOL, window_size="1h"),
        "ticker_trading_day": lambda: data("ticker_trading_day", symbol=SYMBOL),
        "ticker_price": lambda: data("ticker_price", symbol=SYMBOL),
        "ticker_book_ticker": lambda: data("ticker_book_ticker", symbol=SYMBOL),
        "reference_price": lambda: data("reference_price", symbol=SYMBOL),
        "reference_price_calculation": lambda: data("reference_price_calculation", symbol=SYMBOL),
        "get_account": lambda: holds(data("get_account").balances),
        "account_commission": lambda: data("account_commission", symbol=SYMBOL),
        "rate_limit_order": lambda: data("rate_limit_order"),
        "my_filters": lambda: data("my_filters", symbol=SYMBOL),
        "order_test": lambda: data("order_test", **limit),
        "new_order": market,
        "delete_order": cancel_one,
        "delete_open_orders": cancel_all,
        "get_order": lambda: data("get_order", symbol=SYMBOL, order_id=placed()),
        "get_open_orders": lambda: holds(data("get_open_orders", symbol=SYMBOL)),
        "all_orders": lambda: holds(data("all_orders", symbol=SYMBOL)),
        "my_trades": lambda: holds(data("my_trades", symbol=SYMBOL)),
        "my_prevented_matches": lambda: data("my_prevented_matches", symbol=SYMBOL, prevented_match_id=1),
        "my_allocations": lambda: data("my_allocations", symbol=SYMBOL),
        "order_cancel_replace": cancel_replace,
        "order_amend_keep_priority": amend,
        "order_amendments": lambda: holds(data("order_amendments", symbol=SYMBOL, order_id=amend())),
        "order_oco": legacy_oco,
        "order_list_oco": lambda: place_list("order_list_oco", "oco"),
        "order_list_oto": lambda: place_list("order_list_oto", "oto"),
        "order_list_otoco": lambda: place_list("order_list_otoco", "otoco"),
        "order_list_opo": lambda: place_list("order_list_opo", "opo"),
        "order_list_opoco": lambda: place_list("order_list_opoco", "opoco"),
        "delete_order_list": lambda: place_list("order_list_oco", "oco"),
        "all_order_list": lambda: holds(data("all_order_list")),
        "get_order_list": lambda: data(
            "get_order_list", order_list_id=data("all_order_list")[0].order_list_id
        ),
        "open_order_list": lambda: data("open_order_list"),
    }
    for name, call in calls.items():
        ledger.check(name, call)
    ledger.verdict(offered(api))


async def ws_api_calls(venue: Venue, ledger: Ledger) -> list[str]:
    """Every WebSocket API method, with an Ed25519 key (session.logon, and the SDK's
    userDataStream.subscribe after it, need one, as on Binance)."""
    api_key, private_pem = venue.ed25519_key()
    config = ConfigurationWebSocketAPI(
        api_key=api_key, private_key=private_pem, stream_url=venue.ws_api_url, timeout=10_000
    )
    api = Spot(config_ws_api=config).websocket_api
    connection = await api.create_connection()
    buy, sell = prices(venue.stack.url)
    lists = order_calls(buy, sell)
    limit = lists["limit"]

    async def data(name: str, **kwargs: Any) -> Any:
        """The result of one request, through the SDK's response model; an error answer raises."""
        answer = (await getattr(connection, name)(**kwargs)).data()
        assert not isinstance(answer, dict), answer
        return getattr(answer, "result", answer)

    async def placed() -> int:
        order_id: int = (await data("order_place", **limit)).order_id
        return order_id

    async def cancel_one() -> None:
        assert (await data("order_cancel", symbol=SYMBOL, order_id=await placed())).status == "CANCELED"

    async def cancel_all() -> None:
        await placed()
        assert await data("open_orders_cancel_all", symbol=SYMBOL)

    async def place_list(name: str, kind: str) -> None:
        made = await data(name, **lists[kind])
        assert made.list_status_type == "EXEC_STARTED", made
        await data("order_list_cancel", symbol=SYMBOL, order_list_id=made.order_list_id)

    async def legacy_list() -> None:
        made = await data(
            "order_list_place", symbol=SYMBOL, side="SELL", quantity=0.001, price=sell, stop_price=buy
        )
        await data("order_list_cancel", symbol=SYMBOL, order_list_id=made.order_list_id)

    async def amend() -> int:
        order_id = await placed()
        amended = await data("order_amend_keep_priority", symbol=SYMBOL, order_id=order_id, new_qty=0.0005)
        assert amended.amended_order.qty == "0.00050000", amended
        await data("order_cancel", symbol=SYMBOL, order_id=order_id)
        return order_id

    async def amendments() -> None:
        assert await data("order_amendments", symbol=SYMBOL, order_id=await amend())

    async def cancel_replace() -> None:
        order_id = await placed()
        replaced = await data(
            "order_cancel_replace", **limit, cancel_replace_mode="STOP_ON_FAILURE", cancel_order_id=order_id
        )
        await data("order_cancel", symbol=SYMBOL, order_id=replaced.new_order_response.order_id)

    async def market() -> None:
        made = await data("order_place", symbol=SYMBOL, side="BUY", type="MARKET", quantity=0.001)
        assert made.status == "FILLED", made

    async def user_stream() -> None:
        subscribed = await connection.user_data_stream_subscribe()
        events: list[Any] = []
        subscribed.stream.on("message", events.append)
        await placed()
        deadline = time.monotonic() + 15
        while not events and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert events, "no user data event"
        assert await data("session_subscriptions")
        await data("user_data_stream_unsubscribe")
        await data("open_orders_cancel_all", symbol=SYMBOL)

    async def list_status() -> None:
        lists_made = await data("all_order_lists")
        assert lists_made
        await data("order_list_status", order_list_id=lists_made[0].order_list_id)

    calls: dict[str, Callable[[], Awaitable[Any]]] = {
        "session_logon": lambda: data("session_logon"),
        "session_status": lambda: data("session_status"),
        "ping": lambda: data("ping"),
        "time": lambda: data("time"),
        "exchange_info": lambda: data("exchange_info", symbol=SYMBOL),
        "execution_rules": lambda: data("execution_rules", symbol=SYMBOL),
        "depth": lambda: data("depth", symbol=SYMBOL),
        "trades_recent": lambda: data("trades_recent", symbol=SYMBOL),
        "trades_historical": lambda: data("trades_historical", symbol=SYMBOL),
        "trades_aggregate": lambda: data("trades_aggregate", symbol=SYMBOL),
        "klines": lambda: data("klines", symbol=SYMBOL, interval="1m"),
        "ui_klines": lambda: data("ui_klines", symbol=SYMBOL, interval="1m"),
        "avg_price": lambda: data("avg_price", symbol=SYMBOL),
        "ticker24hr": lambda: data("ticker24hr", symbol=SYMBOL),
        "ticker": lambda: data("ticker", symbol=SYMBOL, window_size="1h"),
        "ticker_trading_day": lambda: data("ticker_trading_day", symbol=SYMBOL),
        "ticker_price": lambda: data("ticker_price", symbol=SYMBOL),
        "ticker_book": lambda: data("ticker_book", symbol=SYMBOL),
        "reference_price": lambda: data("reference_price", symbol=SYMBOL),
        "reference_price_calculation": lambda: data("reference_price_calculation", symbol=SYMBOL),
        "account_status": lambda: data("account_status"),
        "account_commission": lambda: data("account_commission", symbol=SYMBOL),
        "account_rate_limits_orders": lambda: data("account_rate_limits_orders"),
        "my_filters": lambda: data("my_filters", symbol=SYMBOL),
        "order_test": lambda: data("order_test", **limit),
        "order_place": market,
        "order_cancel": cancel_one,
        "open_orders_cancel_all": cancel_all,
        "order_status": lambda: placed_status(),
        "open_orders_status": lambda: data("open_orders_status", symbol=SYMBOL),
        "all_orders": lambda: data("all_orders", symbol=SYMBOL),
        "my_trades": lambda: data("my_trades", symbol=SYMBOL),
        "my_prevented_matches": lambda: data("my_prevented_matches", symbol=SYMBOL, prevented_match_id=1),
        "my_allocations": lambda: data("my_allocations", symbol=SYMBOL),
        "order_cancel_replace": cancel_replace,
        "order_amend_keep_priority": amend,
        "order_amendments": amendments,
        "order_list_place": legacy_list,
        "order_list_place_oco": lambda: place_list("order_list_place_oco", "oco"),
        "order_list_place_oto": lambda: place_list("order_list_place_oto", "oto"),
        "order_list_place_otoco": lambda: place_list("order_list_place_otoco", "otoco"),
        "order_list_place_opo": lambda: place_list("order_list_place_opo", "opo"),
        "order_list_place_opoco": lambda: place_list("order_list_place_opoco", "opoco"),
        "order_list_cancel": lambda: place_list("order_list_place_oco", "oco"),
        "all_order_lists": lambda: data("all_order_lists"),
        "order_list_status": list_status,
        "open_order_lists_status": lambda: data("open_order_lists_status"),
        "user_data_stream_subscribe": user_stream,
        "user_data_stream_unsubscribe": user_stream,
        "session_subscriptions": user_stream,
        "user_data_stream_subscribe_signature": lambda: subscribe_signature(),
        "session_logout": lambda: data("session_logout"),
    }

    async def subscribe_signature() -> None:
        subscribed = await connection.user_data_stream_subscribe_signature()
        assert subscribed.response.data().result.subscription_id is not None

    async def placed_status() -> None:
        order_id = await placed()
        assert (await data("order_status", symbol=SYMBOL, order_id=order_id)).order_id == order_id
        await data("order_cancel", symbol=SYMBOL, order_id=order_id)

    for name, call in calls.items():
        await ledger.acheck(name, call)
    names = offered(connection)
    await connection.close_connection()
    return names


def test_sdk_ws_api(venue: Venue) -> None:
    ledger = Ledger("binance-sdk-spot (WebSocket API)", OUT_OF_SCOPE)
    names = asyncio.run(ws_api_calls(venue, ledger))
    ledger.verdict(names)


async def stream_calls(venue: Venue, trader: Trader, ledger: Ledger) -> list[str]:
    config = ConfigurationWebSocketStreams(stream_url=venue.stack.ws_url)
    streams = Spot(config_ws_streams=config).websocket_streams
    connection = await streams.create_connection()
    sym = SYMBOL.lower()
    listen_key = httpx.post(
        f"{venue.stack.url}/api/v3/userDataStream", headers={"X-MBX-APIKEY": trader.api_key}, timeout=10
    ).json()["listenKey"]
    subscriptions: dict[str, Callable[[], Awaitable[Any]]] = {
        "user_data": lambda: connection.user_data(listen_key),
        "trade": lambda: connection.trade(symbol=sym),
        "agg_trade": lambda: connection.agg_trade(symbol=sym),
        "kline": lambda: connection.kline(symbol=sym, interval="1m"),
        "kline_offset": lambda: connection.kline_offset(symbol=sym, interval="1m"),
        "mini_ticker": lambda: connection.mini_ticker(symbol=sym),
        "all_mini_ticker": lambda: connection.all_mini_ticker(),
        "ticker": lambda: connection.ticker(symbol=sym),
        "rolling_window_ticker": lambda: connection.rolling_window_ticker(symbol=sym, window_size="1h"),
        "all_market_rolling_window_ticker": lambda: connection.all_market_rolling_window_ticker(
            window_size="1h"
        ),
        "book_ticker": lambda: connection.book_ticker(symbol=sym),
        "avg_price": lambda: connection.avg_price(symbol=sym),
        "partial_book_depth": lambda: connection.partial_book_depth(symbol=sym, levels=5),
        "diff_book_depth": lambda: connection.diff_book_depth(symbol=sym),
        "reference_price": lambda: connection.reference_price(symbol=sym),
        "block_trade": lambda: connection.block_trade(symbol=sym),
    }
    received: dict[str, list[Any]] = {}
    for name, subscribe in subscriptions.items():
        handle = await ledger.acheck(name, subscribe)
        if handle is not None:
            received[name] = []
            handle.on("message", received[name].append)
    await asyncio.sleep(1)
    await asyncio.to_thread(
        trader.call, "POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.001"
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(received.values()):
        await asyncio.sleep(0.2)
    for name, messages in received.items():
        if not messages:
            ledger.results[name] = "subscribed, but no message in 20 s"
    names = offered(connection)
    await connection.close_connection()
    return names


def test_sdk_streams(venue: Venue) -> None:
    ledger = Ledger("binance-sdk-spot (WebSocket streams)", OUT_OF_SCOPE)
    names = asyncio.run(stream_calls(venue, venue.trader(), ledger))
    ledger.verdict(names)
