"""ccxt.pro's binance over every WebSocket method it offers (watch*, unWatch*, and the *Ws methods
of the WebSocket API), with only its URLs moved to the stack (streams to the ws tier, the
WebSocket API to the gateway). The watch methods run ccxt's own tests (ccxt/pro/test/Exchange),
which watch for up to 15 s and check every update with ccxt's validators, all at once while a
trader of the same account buys and sells every 0.7 s."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ccxt.pro.test.Exchange import (  # type: ignore[import-untyped]
    test_watch_balance,
    test_watch_bids_asks,
    test_watch_my_trades,
    test_watch_ohlcv,
    test_watch_ohlcv_for_symbols,
    test_watch_order_book,
    test_watch_order_book_for_symbols,
    test_watch_orders,
    test_watch_ticker,
    test_watch_tickers,
    test_watch_trades,
    test_watch_trades_for_symbols,
)
from ccxt.test.exchange import base as validators  # type: ignore[import-untyped]

from tests.client import Trader
from tests.conformance.ccxt_clients import ccxt_pro_binance
from tests.conformance.conftest import Venue
from tests.conformance.ledger import Ledger

SYMBOL, OTHER = "BTC/USDT", "ETH/USDT"
SKIP: dict[str, Any] = {}
NO_BOOK_TIME = {"timestamp": True, "datetime": True}  # as in test_ccxt_rest
FUTURES = "USD-M/COIN-M futures streams (liquidations, mark prices, positions): this venue is Spot only"
OUT_OF_SCOPE = dict.fromkeys(
    [
        "watchLiquidations",
        "watchLiquidationsForSymbols",
        "watchMarkPrice",
        "watchMarkPrices",
        "unWatchMarkPrice",
        "unWatchMarkPrices",
        "watchMyLiquidations",
        "watchMyLiquidationsForSymbols",
        "watchPositions",
        "fetchPositionForSymbolWs",
        "fetchPositionWs",
        "fetchPositionsWs",
    ],
    FUTURES,
)
CCXT_SWAP_ONLY = "ccxt: binance's method supports swap markets only (its own check, before any request)"
OUT_OF_SCOPE |= {
    "fetchOrderBookWs": CCXT_SWAP_ONLY,
    "fetchTickerWs": CCXT_SWAP_ONLY,
    "fetchCurrenciesWs": "ccxt: has['fetchCurrenciesWs'] is true, but binance lacks fetch_currencies_ws",
    "watchOrdersForSymbols": "ccxt: binance's watchOrdersForSymbols raises NotSupported before any request",
}
# Binance's trades.recent items carry no symbol, and ccxt's binance fetchTradesWs does not fill it in
# (the market it was asked for is not passed to its trade parser): everything else is checked.
NO_TRADE_SYMBOL = {"symbol": True}


def offered(exchange: Any) -> list[str]:
    return [
        name
        for name, value in exchange.has.items()
        if (value and name.startswith(("watch", "unWatch"))) or (name.endswith("Ws") and value)
    ]


async def keep_trading(trader: Trader, stop: asyncio.Event) -> None:
    """A market buy and sell of 0.001 BTC and 0.01 ETH, in turn, every 0.7 s until `stop`."""
    side = "BUY"
    while not stop.is_set():
        for symbol, qty in (("BTCUSDT", "0.001"), ("ETHUSDT", "0.01")):
            await asyncio.to_thread(
                trader.call, "POST", "/api/v3/order", symbol=symbol, side=side, type="MARKET", quantity=qty
            )
        side = "SELL" if side == "BUY" else "BUY"
        await asyncio.sleep(0.7)


async def orders_for_symbols(exchange: Any, skipped: dict[str, Any], symbols: list[str]) -> None:
    """watchOrdersForSymbols (ccxt ships no test of it): every order through test_order."""
    for order in await exchange.watch_orders_for_symbols(symbols):
        validators.test_order(
            exchange, skipped, "watchOrdersForSymbols", order, order["symbol"], exchange.milliseconds()
        )


async def run(venue: Venue, ledger: Ledger) -> list[str]:
    trader = venue.trader()
    exchange = ccxt_pro_binance(venue.stack, trader)
    await exchange.load_markets()
    # Each watch test on an instance of its own, as separate bots would: one instance watching one
    # symbol's book twice at once (watchOrderBook and watchOrderBookForSymbols) races its own
    # snapshots.
    own_tests: dict[str, tuple[Callable[..., Awaitable[Any]], dict[str, Any], Any]] = {
        "watchTrades": (test_watch_trades.test_watch_trades, SKIP, SYMBOL),
        "watchTradesForSymbols": (
            test_watch_trades_for_symbols.test_watch_trades_for_symbols,
            SKIP,
            [SYMBOL, OTHER],
        ),
        "watchOHLCV": (test_watch_ohlcv.test_watch_ohlcv, SKIP, SYMBOL),
        "watchOHLCVForSymbols": (test_watch_ohlcv_for_symbols.test_watch_ohlcv_for_symbols, SKIP, SYMBOL),
        "watchTicker": (test_watch_ticker.test_watch_ticker, SKIP, SYMBOL),
        "watchTickers": (test_watch_tickers.test_watch_tickers, SKIP, SYMBOL),
        "watchBidsAsks": (test_watch_bids_asks.test_watch_bids_asks, SKIP, SYMBOL),
        "watchOrderBook": (test_watch_order_book.test_watch_order_book, NO_BOOK_TIME, SYMBOL),
        "watchOrderBookForSymbols": (
            test_watch_order_book_for_symbols.test_watch_order_book_for_symbols,
            NO_BOOK_TIME,
            [SYMBOL, OTHER],
        ),
        "watchBalance": (test_watch_balance.test_watch_balance, SKIP, "USDT"),
        "watchMyTrades": (test_watch_my_trades.test_watch_my_trades, SKIP, SYMBOL),
        "watchOrders": (test_watch_orders.test_watch_orders, SKIP, SYMBOL),
        "watchOrdersForSymbols": (orders_for_symbols, SKIP, [SYMBOL, OTHER]),
    }
    clients = {name: ccxt_pro_binance(venue.stack, trader) for name in own_tests}
    for client in clients.values():
        client.set_markets(exchange.markets, exchange.currencies)

    async def own(name: str) -> Any:
        test, skipped, argument = own_tests[name]
        return await asyncio.wait_for(test(clients[name], skipped, argument), 40)

    stop = asyncio.Event()
    trading = asyncio.create_task(keep_trading(trader, stop))
    await asyncio.gather(*(ledger.acheck(name, lambda name=name: own(name)) for name in own_tests))
    stop.set()
    await trading

    unwatch: dict[str, Callable[[], Awaitable[Any]]] = {
        "unWatchTrades": lambda: clients["watchTrades"].un_watch_trades(SYMBOL),
        "unWatchTradesForSymbols": lambda: clients["watchTradesForSymbols"].un_watch_trades_for_symbols(
            [SYMBOL, OTHER]
        ),
        "unWatchOHLCV": lambda: clients["watchOHLCV"].un_watch_ohlcv(SYMBOL),
        "unWatchOHLCVForSymbols": lambda: clients["watchOHLCVForSymbols"].un_watch_ohlcv_for_symbols(
            [[SYMBOL, "1m"]]
        ),
        "unWatchTicker": lambda: clients["watchTicker"].un_watch_ticker(SYMBOL),
        "unWatchTickers": lambda: clients["watchTickers"].un_watch_tickers([SYMBOL]),
        "unWatchBidsAsks": lambda: clients["watchBidsAsks"].un_watch_bids_asks([SYMBOL]),
        "unWatchOrderBook": lambda: clients["watchOrderBook"].un_watch_order_book(SYMBOL),
        "unWatchOrderBookForSymbols": lambda: clients[
            "watchOrderBookForSymbols"
        ].un_watch_order_book_for_symbols([SYMBOL, OTHER]),
    }
    for name, call in unwatch.items():
        await ledger.acheck(name, lambda call=call: asyncio.wait_for(call(), 15))

    book = await exchange.fetch_order_book(SYMBOL)
    buy = float(exchange.price_to_precision(SYMBOL, book["bids"][0][0] * 0.95))

    async def order_ws(
        method: str, make: Callable[[], Awaitable[dict[str, Any]]], cancel: bool = True
    ) -> None:
        order = await make()
        validators.test_order(exchange, SKIP, method, order, SYMBOL, exchange.milliseconds())
        if cancel:
            await exchange.cancel_order_ws(order["id"], SYMBOL)

    async def edit_ws() -> None:
        placed = await exchange.create_order_ws(SYMBOL, "limit", "buy", 0.001, buy)
        edited = await exchange.edit_order_ws(placed["id"], SYMBOL, "limit", "buy", 0.002, buy)
        validators.test_order(exchange, SKIP, "editOrderWs", edited, SYMBOL, exchange.milliseconds())
        await exchange.cancel_all_orders_ws(SYMBOL)

    async def checked(method: str, items: Any, check: Callable[[Any], None]) -> None:
        for item in await items:
            check(item)

    now = exchange.milliseconds
    ws_api: dict[str, Callable[[], Awaitable[Any]]] = {
        "fetchOrderBookWs": lambda: exchange.fetch_order_book_ws(SYMBOL),
        "fetchTickerWs": lambda: exchange.fetch_ticker_ws(SYMBOL),
        "fetchTradesWs": lambda: checked(
            "fetchTradesWs",
            exchange.fetch_trades_ws(SYMBOL),
            lambda t: validators.test_trade(
                exchange, NO_TRADE_SYMBOL, "fetchTradesWs", t, SYMBOL, now(), True
            ),
        ),
        "fetchOHLCVWs": lambda: checked(
            "fetchOHLCVWs",
            exchange.fetch_ohlcv_ws(SYMBOL, "1m"),
            lambda c: validators.test_ohlcv(exchange, SKIP, "fetchOHLCVWs", c, SYMBOL, now()),
        ),
        "fetchBalanceWs": lambda: exchange.fetch_balance_ws(),
        "fetchCurrenciesWs": lambda: exchange.fetch_currencies_ws(),
        "createOrderWs": lambda: order_ws(
            "createOrderWs", lambda: exchange.create_order_ws(SYMBOL, "limit", "buy", 0.001, buy)
        ),
        "createLimitOrderWs": lambda: order_ws(
            "createLimitOrderWs", lambda: exchange.create_limit_order_ws(SYMBOL, "buy", 0.001, buy)
        ),
        "createMarketOrderWs": lambda: order_ws(
            "createMarketOrderWs", lambda: exchange.create_market_order_ws(SYMBOL, "buy", 0.001), cancel=False
        ),
        "cancelOrderWs": lambda: order_ws(
            "cancelOrderWs", lambda: exchange.create_order_ws(SYMBOL, "limit", "buy", 0.001, buy)
        ),
        "editOrderWs": edit_ws,
        "cancelAllOrdersWs": edit_ws,
        "fetchOrderWs": lambda: fetch_order_ws(),
        "fetchOrdersWs": lambda: checked(
            "fetchOrdersWs",
            exchange.fetch_orders_ws(SYMBOL),
            lambda o: validators.test_order(exchange, SKIP, "fetchOrdersWs", o, SYMBOL, now()),
        ),
        "fetchOpenOrdersWs": lambda: exchange.fetch_open_orders_ws(SYMBOL),
        "fetchMyTradesWs": lambda: checked(
            "fetchMyTradesWs",
            exchange.fetch_my_trades_ws(SYMBOL),
            lambda t: validators.test_trade(exchange, SKIP, "fetchMyTradesWs", t, SYMBOL, now(), False),
        ),
    }

    async def fetch_order_ws() -> None:
        placed = await exchange.create_order_ws(SYMBOL, "limit", "buy", 0.001, buy)
        fetched = await exchange.fetch_order_ws(placed["id"], SYMBOL)
        validators.test_order(exchange, SKIP, "fetchOrderWs", fetched, SYMBOL, now())
        await exchange.cancel_order_ws(placed["id"], SYMBOL)

    for name, call in ws_api.items():
        await ledger.acheck(name, lambda call=call: asyncio.wait_for(call(), 20))
    for client in [exchange, *clients.values()]:
        await client.close()
    return offered(exchange)


def test_ccxt_pro(venue: Venue) -> None:
    ledger = Ledger("ccxt.pro binance (WebSocket)", OUT_OF_SCOPE)
    names = asyncio.run(run(venue, ledger))
    ledger.verdict(names)
