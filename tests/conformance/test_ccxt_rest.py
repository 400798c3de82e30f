"""ccxt's binance over every method it offers, with only its URLs moved to the stack; where ccxt
ships a test of the method (ccxt/test/exchange/sync), that test runs it and checks the answer
with ccxt's own validators (ccxt/test/exchange/base); otherwise the call is made here and its
answer is given to the validator of its structure (test_order, test_trade, test_ticker, ...)."""

import time
from collections.abc import Callable
from typing import Any

import ccxt  # type: ignore[import-untyped]
from ccxt.test.exchange import base as validators  # type: ignore[import-untyped]
from ccxt.test.exchange.sync import (  # type: ignore[import-untyped]
    test_fetch_balance,
    test_fetch_closed_orders,
    test_fetch_currencies,
    test_fetch_l2_order_book,
    test_fetch_last_prices,
    test_fetch_my_trades,
    test_fetch_ohlcv,
    test_fetch_open_orders,
    test_fetch_order_book,
    test_fetch_orders,
    test_fetch_status,
    test_fetch_ticker,
    test_fetch_tickers,
    test_fetch_trades,
    test_fetch_trading_fee,
    test_fetch_trading_fees,
)

from tests.conformance.ccxt_clients import ccxt_binance
from tests.conformance.conftest import Venue
from tests.conformance.ledger import Ledger

SYMBOL = "BTC/USDT"
SKIP: dict[str, Any] = {}
# Binance Spot's /api/v3/depth has no time field (here as on Binance): ccxt's order book has no
# timestamp to check.
NO_BOOK_TIME = {"timestamp": True, "datetime": True}
# ccxt's fetchTrades test guesses each trade's side from the price's direction, and names this skip
# itself for when that does not hold: here the market maker requotes between trades (a buy can print
# below the sell before it), as any market with moving quotes does.
NO_SIDE_SEQUENCE = {"sideSequence": True}
# A stop order not triggered yet answers `workingTime: -1` (here as on Binance, docs/rest.md), and
# ccxt's binance parser takes workingTime before transactTime as the order's timestamp.
NO_ORDER_TIME = {"timestamp": True}

# What ccxt offers for binance that is not Binance Spot (futures, options, margin, convert,
# wallet transfers), each with why it fails here.
FUTURES = "USD-M/COIN-M futures (fapi/dapi): this venue is Spot only"
OPTIONS = "options (eapi): this venue is Spot only"
MARGIN = "margin (sapi/v1/margin): this venue has no margin trading"
WALLET = "deposits, withdrawals and wallet transfers (sapi/v1/capital, asset/transfer): no wallet here"
CONTRACT_ONLY = "ccxt: binance's method refuses spot markets (NotSupported/BadRequest before any request)"
CONVERT = "Binance Convert (sapi/v1/convert): not a Spot order book feature"
OUT_OF_SCOPE: dict[str, str] = {
    **dict.fromkeys(["createOrders", "cancelOrders", "editOrders", "fetchOpenOrder"], CONTRACT_ONLY),
    **dict.fromkeys(
        [
            "addMargin",
            "reduceMargin",
            "fetchADLRank",
            "fetchPositionADLRank",
            "fetchPositionsADLRank",
            "fetchFundingHistory",
            "fetchFundingInterval",
            "fetchFundingIntervals",
            "fetchFundingRate",
            "fetchFundingRateHistory",
            "fetchFundingRates",
            "fetchIndexOHLCV",
            "fetchLeverage",
            "fetchLeverageTiers",
            "fetchLeverages",
            "fetchLongShortRatioHistory",
            "fetchMarginAdjustmentHistory",
            "fetchMarkOHLCV",
            "fetchMarkPrice",
            "fetchMarkPrices",
            "fetchMarketLeverageTiers",
            "fetchMyLiquidations",
            "fetchOpenInterest",
            "fetchOpenInterestHistory",
            "fetchPosition",
            "fetchPositionMode",
            "fetchPositions",
            "fetchPositionsRisk",
            "fetchPremiumIndexOHLCV",
            "setLeverage",
            "setPositionMode",
            "createReduceOnlyOrder",
        ],
        FUTURES,
    ),
    **dict.fromkeys(
        [
            "fetchAllGreeks",
            "fetchGreeks",
            "fetchOption",
            "fetchMySettlementHistory",
            "fetchSettlementHistory",
            "fetchLedger",
            "fetchLedgerEntry",
        ],
        OPTIONS,
    ),
    **dict.fromkeys(
        [
            "borrowCrossMargin",
            "borrowIsolatedMargin",
            "repayCrossMargin",
            "repayIsolatedMargin",
            "fetchBorrowInterest",
            "fetchBorrowRateHistory",
            "fetchCrossBorrowRate",
            "fetchIsolatedBorrowRate",
            "fetchIsolatedBorrowRates",
            "fetchMarginMode",
            "fetchMarginModes",
            "setMarginMode",
        ],
        MARGIN,
    ),
    **dict.fromkeys(
        [
            "fetchDepositAddress",
            "fetchDeposits",
            "fetchWithdrawals",
            "fetchTransfers",
            "transfer",
            "withdraw",
            "fetchTransactionFee",
            "fetchTransactionFees",
        ],
        WALLET,
    ),
    **dict.fromkeys(
        [
            "createConvertTrade",
            "fetchConvertCurrencies",
            "fetchConvertQuote",
            "fetchConvertTrade",
            "fetchConvertTradeHistory",
        ],
        CONVERT,
    ),
}


def offered(exchange: ccxt.binance) -> list[str]:
    """The methods ccxt says binance has (its `has` entries that are methods, not market types)."""
    return [name for name, value in exchange.has.items() if value and callable(getattr(exchange, name, None))]


def far_price(exchange: ccxt.binance, side: str) -> float:
    """A price 5% off the book on the passive side (resting, inside PERCENT_PRICE_BY_SIDE)."""
    book = exchange.fetch_order_book(SYMBOL, 5)
    return float(
        exchange.price_to_precision(
            SYMBOL, book["bids"][0][0] * 0.95 if side == "buy" else book["asks"][0][0] * 1.05
        )
    )


def checked_order(exchange: ccxt.binance, method: str, order: dict[str, Any]) -> dict[str, Any]:
    validators.test_order(exchange, SKIP, method, order, SYMBOL, exchange.milliseconds())
    return order


def resting(
    exchange: ccxt.binance, method: str, make: Callable[[float], dict[str, Any]], side: str = "buy"
) -> None:
    """Place a resting order with `make(price)`, check it, cancel it."""
    order = checked_order(exchange, method, make(far_price(exchange, side)))
    exchange.cancel_order(order["id"], SYMBOL)


def test_ccxt_rest(venue: Venue) -> None:
    exchange = ccxt_binance(venue.stack, venue.trader())
    ledger = Ledger("ccxt binance (REST)", OUT_OF_SCOPE)
    own = {
        "fetchCurrencies": lambda: test_fetch_currencies.test_fetch_currencies(exchange, SKIP),
        "fetchStatus": lambda: test_fetch_status.test_fetch_status(exchange, SKIP),
        "fetchTicker": lambda: test_fetch_ticker.test_fetch_ticker(exchange, SKIP, SYMBOL),
        "fetchTickers": lambda: test_fetch_tickers.test_fetch_tickers(exchange, SKIP, SYMBOL),
        "fetchOrderBook": lambda: test_fetch_order_book.test_fetch_order_book(exchange, NO_BOOK_TIME, SYMBOL),
        "fetchL2OrderBook": lambda: test_fetch_l2_order_book.test_fetch_l2_order_book(
            exchange, NO_BOOK_TIME, SYMBOL
        ),
        "fetchTrades": lambda: test_fetch_trades.test_fetch_trades(exchange, NO_SIDE_SEQUENCE, SYMBOL),
        "fetchOHLCV": lambda: test_fetch_ohlcv.test_fetch_ohlcv(exchange, SKIP, SYMBOL),
        "fetchLastPrices": lambda: test_fetch_last_prices.test_fetch_last_prices(exchange, SKIP, SYMBOL),
        "fetchTradingFee": lambda: test_fetch_trading_fee.test_fetch_trading_fee(exchange, SKIP, SYMBOL),
        "fetchTradingFees": lambda: test_fetch_trading_fees.test_fetch_trading_fees(exchange, SKIP),
        "fetchBalance": lambda: test_fetch_balance.test_fetch_balance(exchange, SKIP),
        "fetchMyTrades": lambda: test_fetch_my_trades.test_fetch_my_trades(exchange, SKIP, SYMBOL),
        "fetchOpenOrders": lambda: test_fetch_open_orders.test_fetch_open_orders(exchange, SKIP, SYMBOL),
        "fetchClosedOrders": lambda: test_fetch_closed_orders.test_fetch_closed_orders(
            exchange, SKIP, SYMBOL
        ),
        "fetchOrders": lambda: test_fetch_orders.test_fetch_orders(exchange, SKIP, SYMBOL),
    }

    def load_markets() -> None:
        markets = exchange.load_markets(reload=True)
        assert SYMBOL in markets and exchange.symbols == sorted(markets)
        for market in markets.values():
            validators.test_market(exchange, SKIP, "loadMarkets", market)

    def fetch_markets() -> None:
        markets = exchange.fetch_markets()
        assert {m["symbol"] for m in markets} == set(exchange.markets)
        for market in markets:
            validators.test_market(exchange, SKIP, "fetchMarkets", market)

    def time_() -> None:
        assert abs(exchange.fetch_time() - time.time() * 1000) < 60_000

    def bids_asks() -> None:
        for ticker in exchange.fetch_bids_asks([SYMBOL, "ETH/USDT"]).values():
            validators.test_ticker(exchange, SKIP, "fetchBidsAsks", ticker, None)

    def market_buy() -> None:
        order = checked_order(
            exchange, "createMarketBuyOrder", exchange.create_market_buy_order(SYMBOL, 0.001)
        )
        assert order["status"] == "closed" and order["filled"] == 0.001
        for trade in exchange.fetch_order_trades(order["id"], SYMBOL):
            validators.test_trade(
                exchange, SKIP, "fetchOrderTrades", trade, SYMBOL, exchange.milliseconds(), False
            )
        fetched = checked_order(exchange, "fetchOrder", exchange.fetch_order(order["id"], SYMBOL))
        assert fetched["status"] == "closed"

    def with_cost(method: str, side: str) -> None:
        call = getattr(exchange, method)
        order = call(SYMBOL, 10) if method != "createMarketOrderWithCost" else call(SYMBOL, side, 10)
        assert checked_order(exchange, method, order)["status"] == "closed"

    def canceled() -> None:
        for method in ("fetchCanceledOrders", "fetchCanceledAndClosedOrders"):
            orders = getattr(exchange, method)(SYMBOL)
            assert orders, method
            for order in orders:
                checked_order(exchange, method, order)

    def edit() -> None:
        price = far_price(exchange, "buy")
        placed = exchange.create_limit_buy_order(SYMBOL, 0.001, price)
        edited = checked_order(
            exchange, "editOrder", exchange.edit_order(placed["id"], SYMBOL, "limit", "buy", 0.002, price)
        )
        assert edited["amount"] == 0.002
        exchange.cancel_order(edited["id"], SYMBOL)

    def cancel_all() -> None:
        for _ in range(2):
            exchange.create_limit_buy_order(SYMBOL, 0.001, far_price(exchange, "buy"))
        exchange.cancel_all_orders(SYMBOL)
        assert exchange.fetch_open_orders(SYMBOL) == []

    def stop(method: str) -> None:
        book = exchange.fetch_order_book(SYMBOL, 5)
        bid = book["bids"][0][0]
        trigger = float(exchange.price_to_precision(SYMBOL, bid * 0.97))
        limit = float(exchange.price_to_precision(SYMBOL, bid * 0.96))
        sell: dict[str, Callable[[], dict[str, Any]]] = {
            "createStopLossOrder": lambda: exchange.create_stop_loss_order(
                SYMBOL, "limit", "sell", 0.001, limit, trigger
            ),
            "createStopLimitOrder": lambda: exchange.create_stop_limit_order(
                SYMBOL, "sell", 0.001, limit, trigger
            ),
            "createStopOrder": lambda: exchange.create_stop_order(
                SYMBOL, "limit", "sell", 0.001, limit, trigger
            ),
            "createTriggerOrder": lambda: exchange.create_trigger_order(
                SYMBOL, "limit", "sell", 0.001, limit, trigger
            ),
            "createTakeProfitOrder": lambda: exchange.create_take_profit_order(
                SYMBOL, "limit", "buy", 0.001, limit, trigger
            ),
            "createTrailingPercentOrder": lambda: exchange.create_trailing_percent_order(
                SYMBOL, "limit", "sell", 0.001, limit, 1.0, trigger, {"stopLossOrTakeProfit": "stopLoss"}
            ),
        }
        order = sell[method]()
        validators.test_order(exchange, NO_ORDER_TIME, method, order, SYMBOL, exchange.milliseconds())
        assert order["info"]["workingTime"] == -1 and order["status"] == "open", order["info"]
        exchange.cancel_order(order["id"], SYMBOL)

    def trading_limits() -> None:
        limits = exchange.fetch_trading_limits([SYMBOL])
        assert limits, limits

    def withdraw_fees() -> None:
        fees = exchange.fetch_deposit_withdraw_fees(["BTC", "USDT"])
        assert set(fees) >= {"BTC", "USDT"}
        assert exchange.fetch_deposit_withdraw_fee("BTC")["networks"]

    direct: dict[str, Callable[[], Any]] = {
        "loadMarkets": load_markets,
        "fetchMarkets": fetch_markets,
        "createOrder": lambda: resting(
            exchange, "createOrder", lambda p: exchange.create_order(SYMBOL, "limit", "buy", 0.001, p)
        ),
        "fetchTime": time_,
        "fetchBidsAsks": bids_asks,
        "createMarketBuyOrder": market_buy,
        "createMarketOrder": lambda: checked_order(
            exchange, "createMarketOrder", exchange.create_market_order(SYMBOL, "sell", 0.001)
        ),
        "createMarketSellOrder": lambda: checked_order(
            exchange, "createMarketSellOrder", exchange.create_market_sell_order(SYMBOL, 0.001)
        ),
        "createMarketBuyOrderWithCost": lambda: with_cost("createMarketBuyOrderWithCost", "buy"),
        "createMarketSellOrderWithCost": lambda: with_cost("createMarketSellOrderWithCost", "sell"),
        "createMarketOrderWithCost": lambda: with_cost("createMarketOrderWithCost", "buy"),
        "createLimitOrder": lambda: resting(
            exchange, "createLimitOrder", lambda p: exchange.create_limit_order(SYMBOL, "buy", 0.001, p)
        ),
        "createLimitBuyOrder": lambda: resting(
            exchange, "createLimitBuyOrder", lambda p: exchange.create_limit_buy_order(SYMBOL, 0.001, p)
        ),
        "createLimitSellOrder": lambda: resting(
            exchange,
            "createLimitSellOrder",
            lambda p: exchange.create_limit_sell_order(SYMBOL, 0.001, p),
            "sell",
        ),
        "createPostOnlyOrder": lambda: resting(
            exchange,
            "createPostOnlyOrder",
            lambda p: exchange.create_post_only_order(SYMBOL, "limit", "buy", 0.001, p),
        ),
        "cancelOrder": lambda: resting(
            exchange, "cancelOrder", lambda p: exchange.create_limit_buy_order(SYMBOL, 0.001, p)
        ),
        "fetchOrder": lambda: None,  # checked in createMarketBuyOrder
        "fetchOrderTrades": lambda: None,  # checked in createMarketBuyOrder
        "fetchCanceledOrders": canceled,
        "fetchCanceledAndClosedOrders": canceled,
        "editOrder": edit,
        "cancelAllOrders": cancel_all,
        "fetchTradingLimits": trading_limits,
        "createOrders": lambda: exchange.create_orders(
            [{"symbol": SYMBOL, "type": "market", "side": "buy", "amount": 0.001}]
        ),
        "cancelOrders": lambda: exchange.cancel_orders(["1"], SYMBOL),
        "editOrders": lambda: exchange.edit_orders(
            [{"id": "1", "symbol": SYMBOL, "type": "market", "side": "buy", "amount": 0.001}]
        ),
        "fetchOpenOrder": lambda: exchange.fetch_open_order("1", SYMBOL),
        "fetchDepositWithdrawFees": withdraw_fees,
        "fetchDepositWithdrawFee": withdraw_fees,
        **{
            name: (lambda name=name: stop(name))
            for name in (
                "createStopLossOrder",
                "createStopLimitOrder",
                "createStopOrder",
                "createTriggerOrder",
                "createTakeProfitOrder",
                "createTrailingPercentOrder",
            )
        },
    }
    for name, call in direct.items():
        ledger.check(name, call)
    for name, call in own.items():  # after the orders above, so that the lists they check are not empty
        ledger.check(name, call)
    exchange.close()
    ledger.verdict(offered(exchange))
