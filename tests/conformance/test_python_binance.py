"""python-binance (sync Client over REST and the WebSocket API, BinanceSocketManager's streams,
DepthCacheManager) with only its URLs moved to the stack: a subclass that sets the URL class
attributes, as python-binance does itself for its testnet."""

import asyncio
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from binance.async_client import AsyncClient  # type: ignore[import-untyped]
from binance.client import Client  # type: ignore[import-untyped]
from binance.ws.depthcache import DepthCacheManager  # type: ignore[import-untyped]
from binance.ws.streams import BinanceSocketManager  # type: ignore[import-untyped]

from tests.client import Trader
from tests.conformance.conftest import Venue
from tests.conformance.ledger import Ledger, holds
from tests.conformance.reasons import SOR

SYMBOL = "BTCUSDT"

NOT_SPOT = re.compile(
    r"futures|margin|options|isolated|savings|staking|lending|sub_account|subaccount|c2c|fiat|nft|pay_|mining"
    r"|convert|loan|gift|dual|simple_earn|portfolio|papi|universal_transfer|withdraw|deposit|dust|bnb_burn|cross"
    r"|rebate|coin_|_coin|eth_|sol_|algo|blvt|bswap|auto_invest|copy_trading|vip|fund|_us$|small_liability"
    r"|fixed_activity|personal_left_quota|dividend|transfer_history|get_products|get_account_snapshot"
    r"|get_asset_details|get_user_asset|get_future_hourly",
    re.I,
)
NOT_SPOT_REASON = (
    "not Binance Spot trading: futures, options, margin, earn/savings/staking, loans, convert, wallet "
    "(deposits, withdrawals, transfers, snapshots, dust), sub-accounts, Binance.US or website endpoints"
)
OUT_OF_SCOPE: dict[str, str] = {
    "v3_post_sor_order": SOR,
    "v3_post_sor_order_test": SOR,
    "ws_create_sor_order": SOR,
    "ws_create_test_sor_order": SOR,
    "v3_post_cancel_replace": "python-binance's generated placeholder posts to /api/v3/cancelReplace, a path "
    "Binance does not have (its is /api/v3/order/cancelReplace, which cancel_replace_order uses and passes)",
}
BOOK_TICKERS = "the all-market !bookTicker stream: Binance retired it (2022-12); <symbol>@bookTicker passes"
HELPERS = {"close_connection", "encode_uri_component", "uuid22"}  # no request; not counted


def offered() -> list[str]:
    names = [m for m in dir(Client) if not m.startswith("_") and callable(getattr(Client, m))]
    return [m for m in names if m not in HELPERS and m not in {"KLINE_INTERVAL_1MINUTE"}]


def out_of_scope() -> dict[str, str]:
    listed = {m: NOT_SPOT_REASON for m in offered() if NOT_SPOT.search(m)}
    return {**listed, **OUT_OF_SCOPE}


def local_client(venue: Venue, trader: Trader) -> Client:
    url, ws_api = venue.stack.url, venue.ws_api_url

    class Local(Client):  # type: ignore[misc]
        API_URL = f"{url}/api"
        MARGIN_API_URL = f"{url}/sapi"
        WS_API_URL = ws_api

    return Local(trader.api_key, trader.secret, ping=False)


def passive_price(client: Client, side: str) -> str:
    book = client.get_order_book(symbol=SYMBOL, limit=5)
    best = Decimal(book["bids"][0][0] if side == "BUY" else book["asks"][0][0])
    return str((best * Decimal("0.95" if side == "BUY" else "1.05")).quantize(Decimal("0.01")))


def test_python_binance_rest_and_ws_api(venue: Venue) -> None:
    client = local_client(venue, venue.trader())
    ledger = Ledger("python-binance (REST + WebSocket API)", out_of_scope())
    now = int(time.time() * 1000)
    buy = passive_price(client, "BUY")
    sell = passive_price(client, "SELL")
    limit = {"symbol": SYMBOL, "quantity": "0.001"}

    def place_cancel(make: Callable[[], dict[str, Any]], cancel: str = "cancel_order") -> None:
        placed = make()
        assert placed["status"] == "NEW", placed
        getattr(client, cancel)(symbol=SYMBOL, orderId=placed["orderId"])

    def oco(make: Callable[..., dict[str, Any]], side: str, cancel: Callable[..., Any]) -> None:
        book = client.get_order_book(symbol=SYMBOL, limit=5)
        if side == "SELL":
            above, below = passive_price(client, "SELL"), Decimal(book["bids"][0][0]) * Decimal("0.95")
            params = {
                "side": "SELL",
                "aboveType": "LIMIT_MAKER",
                "abovePrice": above,
                "belowType": "STOP_LOSS",
                "belowStopPrice": str(below.quantize(Decimal("0.01"))),
            }
        else:
            above, below = Decimal(book["asks"][0][0]) * Decimal("1.05"), passive_price(client, "BUY")
            params = {
                "side": "BUY",
                "aboveType": "STOP_LOSS",
                "aboveStopPrice": str(above.quantize(Decimal("0.01"))),
                "belowType": "LIMIT_MAKER",
                "belowPrice": below,
            }
        placed = make(symbol=SYMBOL, quantity="0.001", **params)
        assert placed["listStatusType"] == "EXEC_STARTED", placed
        cancel(symbol=SYMBOL, orderListId=placed["orderListId"])

    def oto(make: Callable[..., dict[str, Any]], otoco: bool) -> None:
        params: dict[str, Any] = {
            "symbol": SYMBOL,
            "workingType": "LIMIT",
            "workingSide": "BUY",
            "workingPrice": buy,
            "workingQuantity": "0.001",
            "workingTimeInForce": "GTC",
            "pendingSide": "SELL",
            "pendingQuantity": "0.001",
        }
        if otoco:
            params |= {
                "pendingAboveType": "LIMIT_MAKER",
                "pendingAbovePrice": sell,
                "pendingBelowType": "STOP_LOSS",
                "pendingBelowStopPrice": str((Decimal(buy) * Decimal("0.98")).quantize(Decimal("0.01"))),
            }
        else:
            params |= {"pendingType": "LIMIT", "pendingPrice": sell, "pendingTimeInForce": "GTC"}
        placed = make(**params)
        assert placed["listStatusType"] == "EXEC_STARTED", placed
        client.v3_delete_order_list(symbol=SYMBOL, orderListId=placed["orderListId"])

    def market_buy() -> None:
        order = client.order_market_buy(symbol=SYMBOL, quantity="0.001")
        assert order["status"] == "FILLED" and order["fills"], order

    def history_iter() -> None:
        trades = list(client.aggregate_trade_iter(SYMBOL, start_str=now - 3_600_000))
        assert trades and all("a" in t for t in trades)

    def klines_generator() -> None:
        assert list(client.get_historical_klines_generator(SYMBOL, "1m", now - 3_600_000))

    def cancel_replace(method: Callable[..., dict[str, Any]]) -> None:
        placed = client.order_limit_buy(price=buy, **limit)
        replaced = method(
            symbol=SYMBOL,
            side="BUY",
            type="LIMIT",
            timeInForce="GTC",
            quantity="0.002",
            price=buy,
            cancelReplaceMode="STOP_ON_FAILURE",
            cancelOrderId=placed["orderId"],
        )
        assert replaced["cancelResult"] == "SUCCESS", replaced
        client.cancel_order(symbol=SYMBOL, orderId=replaced["newOrderResponse"]["orderId"])

    checks: dict[str, Callable[[], Any]] = {
        "ping": lambda: client.ping(),
        "get_server_time": lambda: client.get_server_time()["serverTime"],
        "get_system_status": lambda: holds(client.get_system_status()["status"] == 0),
        "get_exchange_info": lambda: holds(client.get_exchange_info()["symbols"]),
        "get_symbol_info": lambda: holds(client.get_symbol_info(SYMBOL)["filters"]),
        "get_all_tickers": lambda: holds(client.get_all_tickers()),
        "get_ticker": lambda: client.get_ticker(symbol=SYMBOL)["lastPrice"],
        "get_symbol_ticker": lambda: client.get_symbol_ticker(symbol=SYMBOL)["price"],
        "get_symbol_ticker_window": lambda: client.get_symbol_ticker_window(symbol=SYMBOL, windowSize="1h")[
            "lastPrice"
        ],
        "v3_get_ticker_trading_day": lambda: client.v3_get_ticker_trading_day(symbol=SYMBOL)["lastPrice"],
        "get_orderbook_ticker": lambda: client.get_orderbook_ticker(symbol=SYMBOL)["bidPrice"],
        "get_orderbook_tickers": lambda: holds(client.get_orderbook_tickers()),
        "get_order_book": lambda: client.get_order_book(symbol=SYMBOL)["lastUpdateId"],
        "get_recent_trades": lambda: holds(client.get_recent_trades(symbol=SYMBOL)),
        "get_historical_trades": lambda: holds(client.get_historical_trades(symbol=SYMBOL)),
        "get_aggregate_trades": lambda: holds(client.get_aggregate_trades(symbol=SYMBOL)),
        "aggregate_trade_iter": history_iter,
        "get_klines": lambda: holds(client.get_klines(symbol=SYMBOL, interval="1m")),
        "get_ui_klines": lambda: holds(client.get_ui_klines(symbol=SYMBOL, interval="1m")),
        "get_historical_klines": lambda: holds(client.get_historical_klines(SYMBOL, "1m", now - 3_600_000)),
        "get_historical_klines_generator": klines_generator,
        "get_avg_price": lambda: client.get_avg_price(symbol=SYMBOL)["price"],
        "get_account": lambda: client.get_account()["balances"],
        "get_asset_balance": lambda: client.get_asset_balance(asset="USDT")["free"],
        "get_trade_fee": lambda: client.get_trade_fee(symbol=SYMBOL)[0]["makerCommission"],
        "v3_get_account_commission": lambda: client.v3_get_account_commission(symbol=SYMBOL)[
            "standardCommission"
        ],
        "get_account_status": lambda: client.get_account_status()["data"],
        "get_account_api_trading_status": lambda: client.get_account_api_trading_status()["data"],
        "get_account_api_permissions": lambda: client.get_account_api_permissions()["enableReading"],
        "get_current_order_count": lambda: client.get_current_order_count(),
        "get_spot_delist_schedule": lambda: client.get_spot_delist_schedule(),
        "create_test_order": lambda: client.create_test_order(
            side="BUY", type="LIMIT", timeInForce="GTC", price=buy, **limit
        ),
        "create_order": lambda: place_cancel(
            lambda: client.create_order(side="BUY", type="LIMIT", timeInForce="GTC", price=buy, **limit)
        ),
        "order_limit": lambda: place_cancel(lambda: client.order_limit(side="BUY", price=buy, **limit)),
        "order_limit_buy": lambda: place_cancel(lambda: client.order_limit_buy(price=buy, **limit)),
        "order_limit_sell": lambda: place_cancel(lambda: client.order_limit_sell(price=sell, **limit)),
        "cancel_order": lambda: place_cancel(lambda: client.order_limit_buy(price=buy, **limit)),
        "order_market_buy": market_buy,
        "order_market": lambda: holds(client.order_market(side="SELL", **limit)["status"] == "FILLED"),
        "order_market_sell": lambda: holds(client.order_market_sell(**limit)["status"] == "FILLED"),
        "get_order": lambda: client.get_order(
            symbol=SYMBOL, orderId=client.get_all_orders(symbol=SYMBOL)[0]["orderId"]
        ),
        "get_all_orders": lambda: holds(client.get_all_orders(symbol=SYMBOL)),
        "get_open_orders": lambda: holds(client.get_open_orders(symbol=SYMBOL) == []),
        "get_my_trades": lambda: holds(client.get_my_trades(symbol=SYMBOL)),
        "get_prevented_matches": lambda: client.get_prevented_matches(symbol=SYMBOL, preventedMatchId=1),
        "get_allocations": lambda: client.get_allocations(symbol=SYMBOL),
        "cancel_all_open_orders": lambda: place_cancel(
            lambda: client.order_limit_buy(price=buy, **limit), "cancel_all_open_orders"
        ),
        "cancel_replace_order": lambda: cancel_replace(client.cancel_replace_order),
        "v3_post_cancel_replace": lambda: cancel_replace(client.v3_post_cancel_replace),
        "create_oco_order": lambda: oco(client.create_oco_order, "SELL", client.v3_delete_order_list),
        "order_oco_sell": lambda: oco(client.order_oco_sell, "SELL", client.v3_delete_order_list),
        "order_oco_buy": lambda: oco(client.order_oco_buy, "BUY", client.v3_delete_order_list),
        "v3_post_order_list_oto": lambda: oto(client.v3_post_order_list_oto, False),
        "v3_post_order_list_otoco": lambda: oto(client.v3_post_order_list_otoco, True),
        "v3_delete_order_list": lambda: oco(client.create_oco_order, "SELL", client.v3_delete_order_list),
        "v3_get_all_order_list": lambda: holds(client.v3_get_all_order_list()),
        "v3_get_order_list": lambda: client.v3_get_order_list(
            orderListId=client.v3_get_all_order_list()[0]["orderListId"]
        ),
        "get_open_oco_orders": lambda: holds(client.get_open_oco_orders() == []),
        "stream_get_listen_key": lambda: client.stream_get_listen_key(),
        "stream_keepalive": lambda: client.stream_keepalive(client.stream_get_listen_key()),
        "stream_close": lambda: client.stream_close(client.stream_get_listen_key()),
    }
    for name, call in checks.items():
        ledger.check(name, call)

    ws_checks: dict[str, Callable[[], Any]] = {
        "ws_ping": lambda: client.ws_ping(),
        "ws_get_time": lambda: client.ws_get_time()["serverTime"],
        "ws_get_exchange_info": lambda: client.ws_get_exchange_info(symbol=SYMBOL)["symbols"],
        "ws_get_order_book": lambda: holds(client.ws_get_order_book(symbol=SYMBOL)["bids"]),
        "ws_get_recent_trades": lambda: holds(client.ws_get_recent_trades(symbol=SYMBOL)),
        "ws_get_historical_trades": lambda: holds(client.ws_get_historical_trades(symbol=SYMBOL)),
        "ws_get_aggregate_trades": lambda: holds(client.ws_get_aggregate_trades(symbol=SYMBOL)),
        "ws_get_klines": lambda: holds(client.ws_get_klines(symbol=SYMBOL, interval="1m")),
        "ws_get_uiKlines": lambda: holds(client.ws_get_uiKlines(symbol=SYMBOL, interval="1m")),
        "ws_get_avg_price": lambda: client.ws_get_avg_price(symbol=SYMBOL)["price"],
        "ws_get_ticker": lambda: client.ws_get_ticker(symbol=SYMBOL)["lastPrice"],
        "ws_get_trading_day_ticker": lambda: client.ws_get_trading_day_ticker(symbol=SYMBOL)["lastPrice"],
        "ws_get_symbol_ticker_window": lambda: client.ws_get_symbol_ticker_window(symbol=SYMBOL)["lastPrice"],
        "ws_get_symbol_ticker": lambda: client.ws_get_symbol_ticker(symbol=SYMBOL)["price"],
        "ws_get_orderbook_ticker": lambda: client.ws_get_orderbook_ticker(symbol=SYMBOL)["bidPrice"],
        "ws_get_account": lambda: client.ws_get_account()["balances"],
        "ws_get_account_rate_limits_orders": lambda: client.ws_get_account_rate_limits_orders(),
        "ws_get_commission_rates": lambda: client.ws_get_commission_rates(symbol=SYMBOL)[
            "standardCommission"
        ],
        "ws_create_test_order": lambda: client.ws_create_test_order(
            side="BUY", type="LIMIT", timeInForce="GTC", price=buy, **limit
        ),
        "ws_create_order": lambda: place_cancel(
            lambda: client.ws_create_order(side="BUY", type="LIMIT", timeInForce="GTC", price=buy, **limit)
        ),
        "ws_order_limit": lambda: place_cancel(lambda: client.ws_order_limit(side="BUY", price=buy, **limit)),
        "ws_order_limit_buy": lambda: place_cancel(lambda: client.ws_order_limit_buy(price=buy, **limit)),
        "ws_order_limit_sell": lambda: place_cancel(lambda: client.ws_order_limit_sell(price=sell, **limit)),
        "ws_cancel_order": lambda: place_cancel(
            lambda: client.ws_order_limit_buy(price=buy, **limit), "ws_cancel_order"
        ),
        "ws_order_market": lambda: holds(client.ws_order_market(side="BUY", **limit)["status"] == "FILLED"),
        "ws_order_market_buy": lambda: holds(client.ws_order_market_buy(**limit)["status"] == "FILLED"),
        "ws_order_market_sell": lambda: holds(client.ws_order_market_sell(**limit)["status"] == "FILLED"),
        "ws_get_order": lambda: client.ws_get_order(
            symbol=SYMBOL, orderId=client.get_all_orders(symbol=SYMBOL)[0]["orderId"]
        ),
        "ws_get_open_orders": lambda: holds(isinstance(client.ws_get_open_orders(symbol=SYMBOL), list)),
        "ws_get_all_orders": lambda: holds(client.ws_get_all_orders(symbol=SYMBOL)),
        "ws_get_my_trades": lambda: holds(client.ws_get_my_trades(symbol=SYMBOL)),
        "ws_get_prevented_matches": lambda: client.ws_get_prevented_matches(
            symbol=SYMBOL, preventedMatchId=1
        ),
        "ws_get_allocations": lambda: client.ws_get_allocations(symbol=SYMBOL),
        "ws_cancel_all_open_orders": lambda: place_cancel(
            lambda: client.ws_order_limit_buy(price=buy, **limit), "ws_cancel_all_open_orders"
        ),
        "ws_cancel_and_replace_order": lambda: cancel_replace(client.ws_cancel_and_replace_order),
        "ws_create_oco_order": lambda: oco(client.ws_create_oco_order, "SELL", client.ws_cancel_oco_order),
        "ws_cancel_oco_order": lambda: oco(client.ws_create_oco_order, "SELL", client.ws_cancel_oco_order),
        "ws_create_oto_order": lambda: oto(client.ws_create_oto_order, False),
        "ws_create_otoco_order": lambda: oto(client.ws_create_otoco_order, True),
        "ws_get_oco_order": lambda: client.ws_get_oco_order(
            orderListId=client.v3_get_all_order_list()[0]["orderListId"]
        ),
        "ws_get_oco_open_orders": lambda: holds(client.ws_get_oco_open_orders() == []),
    }
    for name, call in ws_checks.items():
        ledger.check(name, call)
    client.close_connection()
    ledger.verdict(offered())


async def streams(venue: Venue, trader: Trader, ledger: Ledger) -> None:
    url = venue.stack.url

    class Local(AsyncClient):  # type: ignore[misc]
        API_URL = f"{url}/api"
        MARGIN_API_URL = f"{url}/sapi"
        WS_API_URL = venue.ws_api_url

    client = Local(trader.api_key, trader.secret)
    manager = BinanceSocketManager(client)
    manager.STREAM_URL = f"{venue.stack.ws_url}/"
    sym = SYMBOL.lower()

    async def first(name: str, socket: Any, want: Callable[[dict[str, Any]], bool]) -> None:
        async def read() -> None:
            async with socket as stream:
                while True:
                    message = await asyncio.wait_for(stream.recv(), 20)
                    if want(message):
                        return

        await ledger.acheck(name, read)

    def data(m: dict[str, Any]) -> dict[str, Any]:
        inner: dict[str, Any] = m.get("data", m)
        return inner

    async def trade() -> None:
        """A market buy once the sockets are open: a trade, a depth change, an executionReport."""
        await asyncio.sleep(2)
        await asyncio.to_thread(
            trader.call, "POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.001"
        )

    await asyncio.gather(
        first("trade_socket", manager.trade_socket(SYMBOL), lambda m: m.get("e") == "trade"),
        first("aggtrade_socket", manager.aggtrade_socket(SYMBOL), lambda m: m.get("e") == "aggTrade"),
        first("kline_socket", manager.kline_socket(SYMBOL), lambda m: m.get("e") == "kline"),
        first("depth_socket", manager.depth_socket(SYMBOL), lambda m: m.get("e") == "depthUpdate"),
        first("miniticker_socket", manager.miniticker_socket(), lambda m: isinstance(m, list) or "data" in m),
        first(
            "symbol_miniticker_socket",
            manager.symbol_miniticker_socket(SYMBOL),
            lambda m: m.get("e") == "24hrMiniTicker",
        ),
        first(
            "symbol_ticker_socket", manager.symbol_ticker_socket(SYMBOL), lambda m: m.get("e") == "24hrTicker"
        ),
        first("ticker_socket", manager.ticker_socket(), lambda m: isinstance(m, list) or "data" in m),
        first("symbol_book_ticker_socket", manager.symbol_book_ticker_socket(SYMBOL), lambda m: "b" in m),
        first("book_ticker_socket", manager.book_ticker_socket(), lambda m: "b" in data(m)),
        first(
            "multiplex_socket",
            manager.multiplex_socket([f"{sym}@trade", f"{sym}@depth5"]),
            lambda m: m.get("stream") == f"{sym}@trade",
        ),
        first("user_socket", manager.user_socket(), lambda m: data(m).get("e") == "executionReport"),
        trade(),
    )

    async def depth_cache() -> None:
        async with DepthCacheManager(client, SYMBOL, bm=manager) as cache:
            book = await asyncio.wait_for(cache.recv(), 20)
            bids, asks = book.get_bids(), book.get_asks()
            assert bids and asks and bids[0][0] < asks[0][0], (bids[:2], asks[:2])

    await ledger.acheck("DepthCacheManager", depth_cache)
    await client.close_connection()


def test_python_binance_streams(venue: Venue) -> None:
    names = [m for m in dir(BinanceSocketManager) if m.endswith("_socket") and not m.startswith("_")]
    ledger = Ledger(
        "python-binance (streams)",
        {
            m: NOT_SPOT_REASON
            for m in names
            if NOT_SPOT.search(m)
            or m.startswith(
                (
                    "options_",
                    "index_",
                    "symbol_mark",
                    "all_mark",
                    "all_ticker_futures",
                    "individual_symbol_ticker_futures",
                    "symbol_ticker_futures",
                )
            )
        },
    )
    ledger.out_of_scope = {**ledger.out_of_scope, "book_ticker_socket": BOOK_TICKERS}
    asyncio.run(streams(venue, venue.trader(), ledger))
    ledger.verdict([*names, "DepthCacheManager"])
