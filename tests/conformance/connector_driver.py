"""binance-connector (Binance's older official connector) over its Spot REST client, WebSocket API
client and stream client, pointed at a stack. Run with the interpreter of build/connector-venv (the
connector's wheel ships binance/__init__.py, as python-binance's does, so it has a venv of its
own), not imported by the suite: `python connector_driver.py '<json>'` where the JSON holds `url`,
`ws_api_url`, `ws_url`, `api_key`, `secret` and `wallet_calls` (the connector's /sapi wallet
methods to call, read-only ones bots call by default). It prints one JSON line per call,
{"client", "method", "ok", "error"}, and per client one line {"client", "offered"}: the public
methods the client's class adds to its base (its API, not the connection plumbing), each with
the connector module that defines it."""

import json
import queue
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from binance.api import API
from binance.spot import Spot
from binance.websocket.spot.websocket_api import SpotWebsocketAPIClient
from binance.websocket.spot.websocket_stream import SpotWebsocketStreamClient
from binance.websocket.websocket_client import BinanceWebsocketClient

SYMBOL = "BTCUSDT"
QTY = "0.001"


def emit(client: str, method: str, error: str | None) -> None:
    print(json.dumps({"client": client, "method": method, "ok": error is None, "error": error}), flush=True)


def run(client: str, method: str, call: Callable[[], Any]) -> Any:
    """One call, recorded: it passes when it returns without raising."""
    try:
        result = call()
    except Exception as exc:  # every failure is a recorded outcome
        emit(client, method, f"{type(exc).__name__}: {exc}"[:300])
        return None
    emit(client, method, None)
    return result


def holds(value: Any) -> Any:
    assert value, value
    return value


def offered(cls: type, base: type) -> dict[str, str]:
    """Method -> the connector module that defines it (binance.spot._margin: "_margin", ...)."""
    names = [
        m for m in dir(cls) if not m.startswith("_") and callable(getattr(cls, m)) and m not in dir(base)
    ]
    return {m: getattr(cls, m).__module__.rsplit(".", 1)[-1] for m in sorted(names)}


def prices(spot: Spot) -> tuple[str, str]:
    """(buy, sell): 5% inside the book's best bid and ask, so the orders rest."""
    book = spot.depth(SYMBOL, limit=5)
    bid, ask = Decimal(book["bids"][0][0]), Decimal(book["asks"][0][0])
    cent = Decimal("0.01")
    return str((bid * Decimal("0.95")).quantize(cent)), str((ask * Decimal("1.05")).quantize(cent))


def order_lists(buy: str, sell: str) -> dict[str, dict[str, Any]]:
    """The connector's (camelCase) arguments for a resting limit buy and each order list kind."""
    working = {
        "workingType": "LIMIT",
        "workingSide": "BUY",
        "workingPrice": buy,
        "workingQuantity": QTY,
        "workingTimeInForce": "GTC",
    }
    return {
        "limit": {"side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": QTY, "price": buy},
        "oco": {
            "side": "SELL",
            "quantity": QTY,
            "aboveType": "LIMIT_MAKER",
            "abovePrice": sell,
            "belowType": "STOP_LOSS",
            "belowStopPrice": buy,
        },
        "oto": {
            **working,
            "pendingType": "LIMIT",
            "pendingSide": "SELL",
            "pendingQuantity": QTY,
            "pendingPrice": sell,
            "pendingTimeInForce": "GTC",
        },
        "otoco": {
            **working,
            "pendingSide": "SELL",
            "pendingQuantity": QTY,
            "pendingAboveType": "LIMIT_MAKER",
            "pendingAbovePrice": sell,
            "pendingBelowType": "STOP_LOSS",
            "pendingBelowStopPrice": str((Decimal(buy) * Decimal("0.98")).quantize(Decimal("0.01"))),
        },
    }


def rest(spot: Spot, wallet_calls: list[str]) -> None:
    buy, sell = prices(spot)
    lists = order_lists(buy, sell)
    limit = lists["limit"]

    def placed() -> int:
        order_id: int = spot.new_order(SYMBOL, **limit)["orderId"]
        return order_id

    def place_list(name: str, kind: str) -> None:
        made = getattr(spot, name)(SYMBOL, **lists[kind])
        assert made["listStatusType"] == "EXEC_STARTED", made
        spot.cancel_oco_order(SYMBOL, orderListId=made["orderListId"])

    def cancel_one() -> None:
        assert spot.cancel_order(SYMBOL, orderId=placed())["status"] == "CANCELED"

    def cancel_all() -> None:
        placed()
        holds(spot.cancel_open_orders(SYMBOL))

    def status() -> None:
        order_id = placed()
        assert spot.get_order(SYMBOL, orderId=order_id)["orderId"] == order_id
        spot.cancel_order(SYMBOL, orderId=order_id)

    def cancel_replace() -> None:
        replaced = spot.cancel_and_replace(
            SYMBOL,
            limit["side"],
            limit["type"],
            "STOP_ON_FAILURE",
            cancelOrderId=placed(),
            **{k: v for k, v in limit.items() if k not in ("side", "type")},
        )
        spot.cancel_order(SYMBOL, orderId=replaced["newOrderResponse"]["orderId"])

    def market() -> None:
        assert spot.new_order(SYMBOL, "BUY", "MARKET", quantity=QTY)["status"] == "FILLED"

    def listen_key() -> None:
        key = spot.new_listen_key()["listenKey"]
        spot.renew_listen_key(key)
        spot.close_listen_key(key)

    def oco_status() -> None:
        last = holds(spot.get_oco_orders())[0]["orderListId"]
        assert spot.get_oco_order(orderListId=last)["orderListId"] == last

    calls: dict[str, Callable[[], Any]] = {
        "ping": spot.ping,
        "time": lambda: holds(spot.time()["serverTime"]),
        "exchange_info": lambda: holds(spot.exchange_info(symbol=SYMBOL)["symbols"][0]["filters"]),
        "depth": lambda: holds(spot.depth(SYMBOL)["bids"]),
        "trades": lambda: holds(spot.trades(SYMBOL)),
        "historical_trades": lambda: holds(spot.historical_trades(SYMBOL)),
        "agg_trades": lambda: holds(spot.agg_trades(SYMBOL)),
        "klines": lambda: holds(spot.klines(SYMBOL, "1m")),
        "ui_klines": lambda: holds(spot.ui_klines(SYMBOL, "1m")),
        "avg_price": lambda: holds(spot.avg_price(SYMBOL)["price"]),
        "ticker_24hr": lambda: holds(spot.ticker_24hr(SYMBOL)["lastPrice"]),
        "trading_day_ticker": lambda: holds(spot.trading_day_ticker(SYMBOL)["lastPrice"]),
        "ticker_price": lambda: holds(spot.ticker_price(SYMBOL)["price"]),
        "book_ticker": lambda: holds(spot.book_ticker(SYMBOL)["bidPrice"]),
        "rolling_window_ticker": lambda: holds(
            spot.rolling_window_ticker(SYMBOL, windowSize="1h")["lastPrice"]
        ),
        "account": lambda: holds(spot.account()["balances"]),
        "query_commission_rates": lambda: holds(spot.query_commission_rates(SYMBOL)["standardCommission"]),
        "get_order_rate_limit": lambda: holds(isinstance(spot.get_order_rate_limit(), list)),
        "new_order_test": lambda: spot.new_order_test(SYMBOL, **limit),
        "new_order": market,
        "cancel_order": cancel_one,
        "cancel_open_orders": cancel_all,
        "get_order": status,
        "get_open_orders": lambda: spot.get_open_orders(SYMBOL),
        "get_orders": lambda: holds(spot.get_orders(SYMBOL)),
        "my_trades": lambda: holds(spot.my_trades(SYMBOL)),
        "query_prevented_matches": lambda: spot.query_prevented_matches(SYMBOL, preventedMatchId=1),
        "query_allocations": lambda: spot.query_allocations(SYMBOL),
        "cancel_and_replace": cancel_replace,
        "new_oco_order": lambda: place_list("new_oco_order", "oco"),
        "new_oto_order": lambda: place_list("new_oto_order", "oto"),
        "new_otoco_order": lambda: place_list("new_otoco_order", "otoco"),
        "cancel_oco_order": lambda: place_list("new_oco_order", "oco"),
        "get_oco_orders": lambda: holds(spot.get_oco_orders()),
        "get_oco_order": oco_status,
        "get_oco_open_orders": spot.get_oco_open_orders,
        "new_listen_key": listen_key,
        "renew_listen_key": listen_key,
        "close_listen_key": listen_key,
        **{name: getattr(spot, name) for name in wallet_calls},
    }
    for name, call in calls.items():
        run("rest", name, call)
    print(json.dumps({"client": "rest", "offered": offered(Spot, API)}), flush=True)


def ws_api(config: dict[str, Any], buy: str, sell: str) -> None:
    """Each request in turn; it passes when its answer has status 200 within 10 s."""
    answers: queue.Queue[dict[str, Any]] = queue.Queue()
    client = SpotWebsocketAPIClient(
        stream_url=config["ws_api_url"],
        api_key=config["api_key"],
        api_secret=config["secret"],
        on_message=lambda _, message: answers.put(json.loads(message)),
    )
    lists = order_lists(buy, sell)
    limit = lists["limit"]

    def ask(name: str, *args: Any, **kwargs: Any) -> Any:
        getattr(client, name)(*args, **kwargs)
        answer = answers.get(timeout=10)
        assert answer.get("status") == 200, answer
        return answer["result"]

    def placed() -> int:
        order_id: int = ask("new_order", SYMBOL, limit["side"], limit["type"], **without_side(limit))[
            "orderId"
        ]
        return order_id

    def place_list(name: str, kind: str) -> None:
        made = ask(name, SYMBOL, **lists[kind])
        assert made["listStatusType"] == "EXEC_STARTED", made
        ask("cancel_oco_order", SYMBOL, orderListId=made["orderListId"])

    def status() -> None:
        order_id = placed()
        assert ask("get_order", SYMBOL, orderId=order_id)["orderId"] == order_id
        ask("cancel_order", SYMBOL, orderId=order_id)

    def cancel_all() -> None:
        placed()
        holds(ask("cancel_open_orders", SYMBOL))

    def cancel_replace() -> None:
        replaced = ask(
            "cancel_replace_order",
            SYMBOL,
            "STOP_ON_FAILURE",
            limit["side"],
            limit["type"],
            cancelOrderId=placed(),
            **without_side(limit),
        )
        ask("cancel_order", SYMBOL, orderId=replaced["newOrderResponse"]["orderId"])

    def oco_status() -> None:
        last = holds(ask("oco_history"))[0]["orderListId"]
        assert ask("get_oco_order", orderListId=last)["orderListId"] == last

    def listen_key() -> None:
        key = ask("user_data_start")["listenKey"]
        ask("user_data_ping", listenKey=key)
        ask("user_data_stop", listenKey=key)

    calls: dict[str, Callable[[], Any]] = {
        "ping_connectivity": lambda: ask("ping_connectivity"),
        "server_time": lambda: holds(ask("server_time")["serverTime"]),
        "exchange_info": lambda: holds(ask("exchange_info", symbol=SYMBOL)["symbols"]),
        "order_book": lambda: holds(ask("order_book", SYMBOL)["bids"]),
        "recent_trades": lambda: holds(ask("recent_trades", SYMBOL)),
        "historical_trades": lambda: holds(ask("historical_trades", SYMBOL, config["api_key"])),
        "aggregate_trades": lambda: holds(ask("aggregate_trades", SYMBOL)),
        "klines": lambda: holds(ask("klines", SYMBOL, "1m")),
        "ui_klines": lambda: holds(ask("ui_klines", SYMBOL, "1m")),
        "avg_price": lambda: holds(ask("avg_price", SYMBOL)["price"]),
        "ticker_24hr": lambda: holds(ask("ticker_24hr", symbol=SYMBOL)["lastPrice"]),
        "ticker": lambda: holds(ask("ticker", symbol=SYMBOL, windowSize="1h")["lastPrice"]),
        "ticker_price": lambda: holds(ask("ticker_price", symbol=SYMBOL)["price"]),
        "ticker_book": lambda: holds(ask("ticker_book", symbol=SYMBOL)["bidPrice"]),
        "account": lambda: holds(ask("account")["balances"]),
        "order_rate_limit": lambda: holds(isinstance(ask("order_rate_limit"), list)),
        "new_order_test": lambda: ask(
            "new_order_test", SYMBOL, limit["side"], limit["type"], **without_side(limit)
        ),
        "new_order": lambda: holds(
            ask("new_order", SYMBOL, "BUY", "MARKET", quantity=QTY)["status"] == "FILLED"
        ),
        "get_order": status,
        "cancel_order": lambda: holds(ask("cancel_order", SYMBOL, orderId=placed())["status"] == "CANCELED"),
        "cancel_open_orders": cancel_all,
        "get_open_orders": lambda: ask("get_open_orders", symbol=SYMBOL),
        "order_history": lambda: holds(ask("order_history", symbol=SYMBOL)),
        "my_trades": lambda: holds(ask("my_trades", symbol=SYMBOL)),
        "prevented_matches": lambda: ask("prevented_matches", SYMBOL, preventedMatchId=1),
        "cancel_replace_order": cancel_replace,
        "new_oco_order": lambda: place_list("new_oco_order", "oco"),
        "new_oto_order": lambda: place_list("new_oto_order", "oto"),
        "new_otoco_order": lambda: place_list("new_otoco_order", "otoco"),
        "cancel_oco_order": lambda: place_list("new_oco_order", "oco"),
        "oco_history": lambda: holds(ask("oco_history")),
        "get_oco_order": oco_status,
        "get_open_oco_orders": lambda: ask("get_open_oco_orders"),
        "user_data_start": listen_key,
        "user_data_ping": listen_key,
        "user_data_stop": listen_key,
    }
    for name, call in calls.items():
        while not answers.empty():  # a late answer to a call that timed out
            answers.get()
        run("ws_api", name, call)
    client.stop()
    print(
        json.dumps({"client": "ws_api", "offered": offered(SpotWebsocketAPIClient, BinanceWebsocketClient)})
    )


def without_side(order: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in order.items() if k not in ("side", "type")}


def canonical(stream: str) -> str:
    """A stream's name without Binance's default `@1000ms` speed (the connector asks for
    `btcusdt@depth@1000ms`; the ws tier labels its frames with the same stream's short name)."""
    return stream.removesuffix("@1000ms")


def streams(config: dict[str, Any], spot: Spot) -> None:
    """Every subscription on one combined connection; each passes when its SUBSCRIBE is answered
    without an error and a message of its stream arrives within 20 s (a market order trades)."""
    received: dict[str, list[Any]] = {}
    refused: dict[int, Any] = {}

    def on_message(_: Any, text: str) -> None:
        message = json.loads(text)
        if "stream" in message:
            received.setdefault(canonical(message["stream"]), []).append(message["data"])
        elif message.get("error") or message.get("result") is not None:
            refused[message.get("id", -1)] = message

    client = SpotWebsocketStreamClient(stream_url=config["ws_url"], on_message=on_message, is_combined=True)
    sent: dict[str, str] = {}  # method -> stream name it subscribed
    send = client.socket_manager.send_message
    current = [""]

    def recording(text: str) -> None:
        sent[current[0]] = canonical(json.loads(text)["params"][0])
        send(text)

    client.socket_manager.send_message = recording
    sym = SYMBOL.lower()
    listen_key = spot.new_listen_key()["listenKey"]
    subscriptions: dict[str, Callable[[int], Any]] = {
        "user_data": lambda i: client.user_data(listen_key, id=i),
        "trade": lambda i: client.trade(sym, id=i),
        "agg_trade": lambda i: client.agg_trade(sym, id=i),
        "kline": lambda i: client.kline(sym, "1m", id=i),
        "kline_timezone_offset": lambda i: client.kline_timezone_offset(sym, "1m", id=i),
        "mini_ticker": lambda i: client.mini_ticker(sym, id=i),
        "ticker": lambda i: client.ticker(sym, id=i),
        "book_ticker": lambda i: client.book_ticker(sym, id=i),
        "rolling_window_ticker": lambda i: client.rolling_window_ticker(sym, "1h", id=i),
        "rolling_window_ticker_all_symbols": lambda i: client.rolling_window_ticker_all_symbols("1h", id=i),
        "partial_book_depth": lambda i: client.partial_book_depth(sym, level=5, id=i),
        "diff_book_depth": lambda i: client.diff_book_depth(sym, id=i),
    }
    ids = {}
    for number, (name, subscribe) in enumerate(subscriptions.items(), start=1):
        current[0] = name
        ids[name] = number
        subscribe(number)
    time.sleep(1)
    spot.new_order(SYMBOL, "BUY", "MARKET", quantity=QTY)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all(sent.get(n) in received for n in subscriptions):
        time.sleep(0.2)
    client.stop()
    for name in subscriptions:
        if ids[name] in refused:
            emit("streams", name, f"refused: {refused[ids[name]]}"[:300])
        elif sent.get(name) not in received:
            emit("streams", name, f"subscribed to {sent.get(name)}, but no message in 20 s")
        else:
            emit("streams", name, None)
    print(
        json.dumps(
            {"client": "streams", "offered": offered(SpotWebsocketStreamClient, BinanceWebsocketClient)}
        )
    )


def main() -> None:
    config: dict[str, Any] = json.loads(sys.argv[1])
    spot = Spot(config["api_key"], config["secret"], base_url=config["url"], timeout=10)
    rest(spot, config["wallet_calls"])
    ws_api(config, *prices(spot))
    streams(config, spot)


if __name__ == "__main__":
    main()
