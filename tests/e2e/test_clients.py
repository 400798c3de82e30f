"""Real clients against the running order path, changed only in their base URL: ccxt (sync
`ccxt.binance`) and python-binance (`binance.client.Client`).

Each test signs up users of its own (demo funds USDT=10000, BTC=0.5, ETH=5, SOL=50) and leaves no
order resting, since the module shares one stack and so one book per market. Amounts are what
each client returns: ccxt parses Binance's decimal strings into floats (compared with the float of
the same decimal literal), python-binance hands the strings through. Fees are 0.1%, rounded up in
the asset's smallest unit; the buyer pays in base, the seller in quote.
"""

import re
from collections.abc import Callable, Iterator
from typing import Any

import ccxt  # type: ignore[import-untyped]
import pytest
from binance.client import Client  # type: ignore[import-untyped]
from binance.exceptions import BinanceAPIException  # type: ignore[import-untyped]

from launcher.stack import Stack
from tests.client import sign_up

DEMO = {"BTC": 0.5, "ETH": 5.0, "SOL": 50.0, "USDT": 10000.0}
INSUFFICIENT = "Account has insufficient balance for requested action."
STOP_TYPES = ["STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]


def ccxt_exchange(url: str, api_key: str, secret: str) -> ccxt.binance:
    """A ccxt binance instance whose spot REST calls go to `url`.

    ccxt builds every URL as urls['api'][<api name>] + '/' + path; Binance Spot's endpoints are
    the 'public' and 'private' APIs, both under /api/v3. The other entries (sapi, fapi, dapi, eapi,
    papi) are left out, so that a call to an endpoint this spot-only venue lacks fails at once with
    NotSupported instead of leaving the machine. Options, each because ccxt otherwise calls such
    endpoints while loading markets:
    - fetchMarkets types ['spot']: the default also loads USD-M and COIN-M futures (fapi, dapi);
    - fetchMargins off: with credentials it also loads the margin pairs (sapi);
    - fetchCurrencies off: with credentials it loads the coins' network details (sapi).
    """
    exchange = ccxt.binance(
        {
            "apiKey": api_key,
            "secret": secret,
            "options": {
                "fetchMarkets": {"types": ["spot"]},
                "fetchMargins": False,
                "fetchCurrencies": False,
            },
        }
    )
    exchange.urls["api"] = {"public": f"{url}/api/v3", "private": f"{url}/api/v3"}
    return exchange


def binance_client(url: str, api_key: str, secret: str) -> Client:
    """A python-binance Client whose REST calls go to `url`.

    python-binance builds spot URLs as API_URL + '/' + version ('v3') + '/' + path; API_URL is
    formatted from tld and base_endpoint at construction and then assigned, as its documentation
    does for the testnet. ping=False: the constructor would otherwise ping api.binance.com first.
    """
    client = Client(api_key, secret, ping=False)
    client.API_URL = f"{url}/api"
    return client


@pytest.fixture
def new_ccxt(stack: Stack) -> Iterator[Callable[[], ccxt.binance]]:
    """Makes a ccxt client for a new user; closes them all afterwards."""
    made: list[ccxt.binance] = []

    def make() -> ccxt.binance:
        trader = sign_up(stack.url)
        made.append(ccxt_exchange(stack.url, trader.api_key, trader.secret))
        return made[-1]

    yield make
    for exchange in made:
        exchange.close()


@pytest.fixture
def new_binance(stack: Stack) -> Iterator[Callable[[], Client]]:
    """Makes a python-binance client for a new user; closes them all afterwards."""
    made: list[Client] = []

    def make() -> Client:
        trader = sign_up(stack.url)
        made.append(binance_client(stack.url, trader.api_key, trader.secret))
        return made[-1]

    yield make
    for client in made:
        client.close_connection()


def ccxt_funds(exchange: ccxt.binance, asset: str) -> tuple[float, float]:
    """(free, used) of one asset as ccxt's fetch_balance reports it."""
    entry = exchange.fetch_balance()[asset]
    assert entry["total"] == entry["free"] + entry["used"]
    return entry["free"], entry["used"]


def binance_funds(client: Client, asset: str) -> tuple[str, str]:
    """(free, locked) of one asset as python-binance's get_asset_balance reports it."""
    balance = client.get_asset_balance(asset=asset)
    return balance["free"], balance["locked"]


def order_view(order: dict[str, Any]) -> tuple[Any, ...]:
    """The fields of a ccxt order that every step of an order's life is checked on."""
    keys = ("symbol", "type", "side", "price", "amount", "filled", "remaining", "status")
    return tuple(order[k] for k in keys)


# ---------------------------------------------------------------- ccxt


def test_ccxt_load_markets_gives_precision_and_limits(new_ccxt: Callable[[], ccxt.binance]) -> None:
    exchange = new_ccxt()
    markets = exchange.load_markets()
    assert sorted(markets) == ["BTC/USDT", "ETH/BTC", "ETH/USDT", "SOL/USDT"]
    btc = markets["BTC/USDT"]
    assert (btc["id"], btc["base"], btc["quote"], btc["type"], btc["spot"], btc["active"]) == (
        "BTCUSDT", "BTC", "USDT", "spot", True, True)  # fmt: skip
    assert btc["precision"] == {"amount": 0.00001, "price": 0.01, "base": 0.00000001, "quote": 0.00000001}
    assert btc["limits"] == {
        "leverage": {"min": None, "max": None},
        "amount": {"min": 0.00001, "max": 9000.0},
        "price": {"min": 0.01, "max": 1000000.0},
        "cost": {"min": 5.0, "max": 9000000.0},
        "market": {"min": 0.00001, "max": 9000.0},
    }
    assert btc["info"]["orderTypes"] == ["LIMIT", "LIMIT_MAKER", "MARKET", *STOP_TYPES]
    assert markets["ETH/BTC"]["precision"]["price"] == 0.00001
    assert markets["ETH/BTC"]["precision"]["amount"] == 0.001
    # ccxt rounds with them (truncating amounts) before it sends an order
    assert exchange.price_to_precision("BTC/USDT", 30000.014) == "30000.01"
    assert exchange.amount_to_precision("BTC/USDT", 0.123456) == "0.12345"


def test_ccxt_fetch_balance_shows_the_demo_funds(new_ccxt: Callable[[], ccxt.binance]) -> None:
    balance = new_ccxt().fetch_balance()
    for asset, amount in DEMO.items():
        assert balance[asset] == {"free": amount, "used": 0.0, "total": amount}
    assert {"asset": "USDT", "free": "10000.00000000", "locked": "0.00000000"} in balance["info"]["balances"]


def test_ccxt_limit_order_fetch_open_and_cancel(new_ccxt: Callable[[], ccxt.binance]) -> None:
    exchange = new_ccxt()
    placed = exchange.create_order("BTC/USDT", "limit", "buy", 0.1, 20000, {"clientOrderId": "ccxt-limit-1"})
    assert order_view(placed) == ("BTC/USDT", "limit", "buy", 20000.0, 0.1, 0.0, 0.1, "open")
    assert (placed["clientOrderId"], placed["timeInForce"]) == ("ccxt-limit-1", "GTC")
    assert ccxt_funds(exchange, "USDT") == (8000.0, 2000.0)
    fetched = exchange.fetch_order(placed["id"], "BTC/USDT")
    assert (fetched["id"], fetched["clientOrderId"]) == (placed["id"], "ccxt-limit-1")
    assert order_view(fetched) == order_view(placed)
    assert [o["id"] for o in exchange.fetch_open_orders("BTC/USDT")] == [placed["id"]]
    cancelled = exchange.cancel_order(placed["id"], "BTC/USDT")
    assert (cancelled["id"], cancelled["status"], cancelled["filled"]) == (placed["id"], "canceled", 0.0)
    assert exchange.fetch_open_orders("BTC/USDT") == []
    assert exchange.fetch_order(placed["id"], "BTC/USDT")["status"] == "canceled"
    assert ccxt_funds(exchange, "USDT") == (10000.0, 0.0)


def test_ccxt_fill_between_two_users_fees_and_my_trades(new_ccxt: Callable[[], ccxt.binance]) -> None:
    maker, taker = new_ccxt(), new_ccxt()
    ask = maker.create_order("BTC/USDT", "limit", "sell", 0.00123, 30000.01)
    assert ask["status"] == "open"
    bid = taker.create_order("BTC/USDT", "limit", "buy", 0.00123, 30000.01)
    # 0.00123 BTC at 30000.01 = 36.9000123 USDT; the taker (buyer) pays 0.1% of 0.00123 BTC
    assert order_view(bid) == ("BTC/USDT", "limit", "buy", 30000.01, 0.00123, 0.00123, 0.0, "closed")
    assert (bid["cost"], bid["average"], bid["fee"]) == (
        36.9000123,
        30000.01,
        {"currency": "BTC", "cost": 0.00000123},
    )
    (bought,) = taker.fetch_my_trades("BTC/USDT")
    assert (bought["order"], bought["side"], bought["takerOrMaker"]) == (bid["id"], "buy", "taker")
    assert (bought["price"], bought["amount"], bought["cost"]) == (30000.01, 0.00123, 36.9000123)
    assert bought["fee"] == {"currency": "BTC", "cost": 0.00000123}
    (sold,) = maker.fetch_my_trades("BTC/USDT")
    assert (sold["id"], sold["order"], sold["side"], sold["takerOrMaker"]) == (
        bought["id"],
        ask["id"],
        "sell",
        "maker",
    )
    # the maker (seller) pays ceil(3690001230 * 0.001) = 3690002 USDT units
    assert sold["fee"] == {"currency": "USDT", "cost": 0.03690002}
    assert maker.fetch_order(ask["id"], "BTC/USDT")["status"] == "closed"
    assert ccxt_funds(taker, "USDT") == (9963.0999877, 0.0)
    assert ccxt_funds(taker, "BTC") == (0.50122877, 0.0)
    assert ccxt_funds(maker, "BTC") == (0.49877, 0.0)
    assert ccxt_funds(maker, "USDT") == (10036.86311228, 0.0)


def test_ccxt_market_buys_by_amount_and_by_cost(new_ccxt: Callable[[], ccxt.binance]) -> None:
    maker, taker = new_ccxt(), new_ccxt()
    ask = maker.create_order("ETH/USDT", "limit", "sell", 1, 2000)
    by_amount = taker.create_order("ETH/USDT", "market", "buy", 0.25)
    assert (by_amount["type"], by_amount["status"], by_amount["filled"], by_amount["cost"]) == (
        "market", "closed", 0.25, 500.0)  # fmt: skip
    assert (by_amount["average"], by_amount["fee"]) == (2000.0, {"currency": "ETH", "cost": 0.00025})
    by_cost = taker.create_market_buy_order_with_cost("ETH/USDT", 100)
    assert (by_cost["status"], by_cost["filled"], by_cost["cost"]) == ("closed", 0.05, 100.0)
    assert by_cost["info"]["origQuoteOrderQty"] == "100.00000000"
    by_param = taker.create_order("ETH/USDT", "market", "buy", None, None, {"quoteOrderQty": 50})
    assert (by_param["status"], by_param["filled"], by_param["cost"]) == ("closed", 0.025, 50.0)
    trades = taker.fetch_my_trades("ETH/USDT")
    assert [(t["order"], t["amount"], t["fee"]["cost"]) for t in trades] == [
        (by_amount["id"], 0.25, 0.00025),
        (by_cost["id"], 0.05, 0.00005),
        (by_param["id"], 0.025, 0.000025),
    ]
    # 0.325 ETH for 650 USDT, less 0.000325 ETH in fees
    assert ccxt_funds(taker, "USDT") == (9350.0, 0.0)
    assert ccxt_funds(taker, "ETH") == (5.324675, 0.0)
    rest = maker.fetch_order(ask["id"], "ETH/USDT")
    assert (rest["status"], rest["filled"], rest["remaining"], rest["cost"]) == ("open", 0.325, 0.675, 650.0)
    assert ccxt_funds(maker, "ETH") == (4.0, 0.675)
    assert ccxt_funds(maker, "USDT") == (10649.35, 0.0)
    maker.cancel_order(ask["id"], "ETH/USDT")
    assert ccxt_funds(maker, "ETH") == (4.675, 0.0)


def test_ccxt_errors_become_ccxt_exceptions(new_ccxt: Callable[[], ccxt.binance]) -> None:
    exchange = new_ccxt()
    with pytest.raises(ccxt.InsufficientFunds, match=re.escape(INSUFFICIENT)):
        exchange.create_order("BTC/USDT", "limit", "buy", 1, 60000)
    with pytest.raises(ccxt.InvalidOrder, match="PRICE_FILTER"):
        exchange.create_order("BTC/USDT", "limit", "buy", 0.00001, 1000000.01)
    with pytest.raises(ccxt.OrderNotFound, match=re.escape("Order does not exist.")):
        exchange.fetch_order("987654321", "BTC/USDT")
    with pytest.raises(ccxt.OrderNotFound, match=re.escape("Unknown order sent.")):
        exchange.cancel_order("987654321", "BTC/USDT")
    assert ccxt_funds(exchange, "USDT") == (10000.0, 0.0)


# ---------------------------------------------------------------- python-binance


def test_binance_exchange_info_and_symbol_info(new_binance: Callable[[], Client]) -> None:
    client = new_binance()
    assert client.ping() == {}
    info = client.get_exchange_info()
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "ETHBTC"]
    symbol = client.get_symbol_info("ETHBTC")
    assert (symbol["baseAsset"], symbol["quoteAsset"], symbol["status"]) == ("ETH", "BTC", "TRADING")
    assert symbol["orderTypes"] == ["LIMIT", "LIMIT_MAKER", "MARKET", *STOP_TYPES]
    filters = {f["filterType"]: f for f in symbol["filters"]}
    assert filters["PRICE_FILTER"] == {
        "filterType": "PRICE_FILTER",
        "minPrice": "0.00001000",
        "maxPrice": "1000000.00000000",
        "tickSize": "0.00001000",
    }
    assert filters["LOT_SIZE"] == {
        "filterType": "LOT_SIZE",
        "minQty": "0.00100000",
        "maxQty": "100000.00000000",
        "stepSize": "0.00100000",
    }
    assert filters["NOTIONAL"]["minNotional"] == "0.00010000"
    assert client.get_symbol_info("NOPEUSDT") is None


def test_binance_account_and_asset_balance(new_binance: Callable[[], Client]) -> None:
    client = new_binance()
    account = client.get_account()
    assert (account["accountType"], account["canTrade"], account["makerCommission"]) == ("SPOT", True, 10)
    assert account["balances"] == [
        {"asset": "BTC", "free": "0.50000000", "locked": "0.00000000"},
        {"asset": "ETH", "free": "5.00000000", "locked": "0.00000000"},
        {"asset": "SOL", "free": "50.00000000", "locked": "0.00000000"},
        {"asset": "USDT", "free": "10000.00000000", "locked": "0.00000000"},
    ]
    assert client.get_asset_balance(asset="SOL") == {
        "asset": "SOL",
        "free": "50.00000000",
        "locked": "0.00000000",
    }


def test_binance_limit_order_get_open_cancel_and_all_orders(new_binance: Callable[[], Client]) -> None:
    client = new_binance()
    placed = client.create_order(
        symbol="SOLUSDT",
        side=Client.SIDE_BUY,
        type=Client.ORDER_TYPE_LIMIT,
        timeInForce=Client.TIME_IN_FORCE_GTC,
        quantity="2.5",
        price="80.5",
        newClientOrderId="pb-limit-1",
    )
    assert (placed["status"], placed["clientOrderId"], placed["fills"]) == ("NEW", "pb-limit-1", [])
    assert (placed["price"], placed["origQty"], placed["executedQty"]) == (
        "80.50000000",
        "2.50000000",
        "0.00000000",
    )
    assert binance_funds(client, "USDT") == ("9798.75000000", "201.25000000")
    order_id = placed["orderId"]
    by_id = client.get_order(symbol="SOLUSDT", orderId=order_id)
    assert (by_id["status"], by_id["type"], by_id["side"], by_id["timeInForce"]) == (
        "NEW",
        "LIMIT",
        "BUY",
        "GTC",
    )
    assert client.get_order(symbol="SOLUSDT", origClientOrderId="pb-limit-1")["orderId"] == order_id
    assert [o["orderId"] for o in client.get_open_orders(symbol="SOLUSDT")] == [order_id]
    cancelled = client.cancel_order(symbol="SOLUSDT", orderId=order_id)
    assert (cancelled["status"], cancelled["origClientOrderId"]) == ("CANCELED", "pb-limit-1")
    assert client.get_open_orders(symbol="SOLUSDT") == []
    assert [(o["orderId"], o["status"]) for o in client.get_all_orders(symbol="SOLUSDT")] == [
        (order_id, "CANCELED")
    ]
    assert binance_funds(client, "USDT") == ("10000.00000000", "0.00000000")


def test_binance_market_buys_fees_and_my_trades(new_binance: Callable[[], Client]) -> None:
    maker, taker = new_binance(), new_binance()
    ask = maker.order_limit_sell(symbol="ETHBTC", quantity="0.123", price="0.05123")
    bought = taker.order_market_buy(symbol="ETHBTC", quantity="0.123")
    # 0.123 ETH at 0.05123 = 0.00630129 BTC; the taker (buyer) pays 0.1% of 0.123 ETH
    assert (bought["status"], bought["executedQty"], bought["cummulativeQuoteQty"]) == (
        "FILLED", "0.12300000", "0.00630129")  # fmt: skip
    (fill,) = bought["fills"]
    assert (fill["price"], fill["qty"], fill["commission"], fill["commissionAsset"]) == (
        "0.05123000", "0.12300000", "0.00012300", "ETH")  # fmt: skip
    (mine,) = taker.get_my_trades(symbol="ETHBTC")
    assert (mine["id"], mine["orderId"], mine["isBuyer"], mine["isMaker"]) == (
        fill["tradeId"], bought["orderId"], True, False)  # fmt: skip
    assert (mine["quoteQty"], mine["commission"], mine["commissionAsset"]) == (
        "0.00630129",
        "0.00012300",
        "ETH",
    )
    (theirs,) = maker.get_my_trades(symbol="ETHBTC")
    # the maker (seller) pays ceil(630129 * 0.001) = 631 BTC units
    assert (theirs["orderId"], theirs["isBuyer"], theirs["isMaker"]) == (ask["orderId"], False, True)
    assert (theirs["commission"], theirs["commissionAsset"]) == ("0.00000631", "BTC")
    assert maker.get_order(symbol="ETHBTC", orderId=ask["orderId"])["status"] == "FILLED"
    assert binance_funds(taker, "ETH") == ("5.12287700", "0.00000000")
    assert binance_funds(taker, "BTC") == ("0.49369871", "0.00000000")
    assert binance_funds(maker, "ETH") == ("4.87700000", "0.00000000")
    assert binance_funds(maker, "BTC") == ("0.50629498", "0.00000000")

    second = maker.order_limit_sell(symbol="ETHBTC", quantity="0.2", price="0.05")
    by_quote = taker.order_market_buy(symbol="ETHBTC", quoteOrderQty="0.004")
    assert (by_quote["status"], by_quote["executedQty"], by_quote["cummulativeQuoteQty"]) == (
        "FILLED", "0.08000000", "0.00400000")  # fmt: skip
    assert binance_funds(taker, "ETH") == ("5.20279700", "0.00000000")  # + 0.08 - 0.00008
    assert binance_funds(taker, "BTC") == ("0.48969871", "0.00000000")
    assert binance_funds(maker, "BTC") == ("0.51029098", "0.00000000")  # + 0.004 - 0.000004
    assert binance_funds(maker, "ETH") == ("4.67700000", "0.12000000")
    maker.cancel_order(symbol="ETHBTC", orderId=second["orderId"])
    assert [o["status"] for o in maker.get_all_orders(symbol="ETHBTC")] == ["FILLED", "CANCELED"]
    assert binance_funds(maker, "ETH") == ("4.79700000", "0.00000000")


def test_binance_insufficient_balance_is_code_2010(new_binance: Callable[[], Client]) -> None:
    client = new_binance()
    with pytest.raises(BinanceAPIException) as err:
        client.create_order(
            symbol="BTCUSDT",
            side=Client.SIDE_BUY,
            type=Client.ORDER_TYPE_LIMIT,
            timeInForce=Client.TIME_IN_FORCE_GTC,
            quantity="1",
            price="60000",
        )
    assert (err.value.status_code, err.value.code, err.value.message) == (400, -2010, INSUFFICIENT)
    with pytest.raises(BinanceAPIException) as err:
        client.order_market_sell(symbol="SOLUSDT", quantity="50.001")
    assert (err.value.code, err.value.message) == (-2010, INSUFFICIENT)
    with pytest.raises(BinanceAPIException) as err:
        client.get_order(symbol="BTCUSDT", orderId=987654321)
    assert (err.value.code, err.value.message) == (-2013, "Order does not exist.")
    assert binance_funds(client, "USDT") == ("10000.00000000", "0.00000000")
    assert binance_funds(client, "SOL") == ("50.00000000", "0.00000000")
    assert client.get_all_orders(symbol="BTCUSDT") == []
