"""Orders through the gateway, engines and settlement: every order type, exact balances."""

import time
from decimal import Decimal

import pytest

from launcher.stack import Stack
from tests.client import ApiFailure, Trader, sign_up

SYMBOL = "BTCUSDT"


@pytest.fixture
def alice(stack: Stack) -> Trader:
    return sign_up(stack.url)


@pytest.fixture
def bob(stack: Stack) -> Trader:
    return sign_up(stack.url)


def free_locked(trader: Trader, asset: str) -> tuple[Decimal, Decimal]:
    free, locked = trader.balances()[asset]
    return Decimal(free), Decimal(locked)


def test_demo_funds_and_exchange_info(stack: Stack, alice: Trader) -> None:
    assert free_locked(alice, "USDT") == (Decimal("10000"), 0)
    assert free_locked(alice, "BTC") == (Decimal("0.5"), 0)
    info = alice.http.get(f"{stack.url}/api/v3/exchangeInfo", params={"symbol": SYMBOL}).json()
    (symbol,) = info["symbols"]
    assert symbol["orderTypes"] == [
        "LIMIT",
        "LIMIT_MAKER",
        "MARKET",
        "STOP_LOSS",
        "STOP_LOSS_LIMIT",
        "TAKE_PROFIT",
        "TAKE_PROFIT_LIMIT",
    ]
    filters = {f["filterType"]: f for f in symbol["filters"]}
    assert filters["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters["LOT_SIZE"]["stepSize"] == "0.00001000"


def test_limit_rests_locks_funds_and_cancel_releases_them(alice: Trader) -> None:
    placed = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                        price="20000", quantity="0.1", newClientOrderId="rest-1")  # fmt: skip
    assert placed["status"] == "NEW" and placed["fills"] == []
    assert free_locked(alice, "USDT") == (Decimal("8000"), Decimal("2000"))
    order = alice.call("GET", "/api/v3/order", symbol=SYMBOL, origClientOrderId="rest-1")
    assert (order["orderId"], order["status"], order["price"]) == (placed["orderId"], "NEW", "20000.00000000")
    assert [o["orderId"] for o in alice.call("GET", "/api/v3/openOrders", symbol=SYMBOL)] == [
        placed["orderId"]
    ]
    cancelled = alice.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])
    assert cancelled["status"] == "CANCELED" and cancelled["origClientOrderId"] == "rest-1"
    assert free_locked(alice, "USDT") == (Decimal("10000"), 0)
    assert alice.call("GET", "/api/v3/openOrders", symbol=SYMBOL) == []
    with pytest.raises(ApiFailure) as err:
        alice.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])
    assert err.value.code == -2011


def test_full_and_partial_fill_with_fees_to_the_unit(alice: Trader, bob: Trader) -> None:
    ask = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="SELL", type="LIMIT", timeInForce="GTC",
                     price="30000", quantity="0.2")  # fmt: skip
    assert free_locked(alice, "BTC") == (Decimal("0.3"), Decimal("0.2"))
    taken = bob.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                     price="30500", quantity="0.05", selfTradePreventionMode="NONE")  # fmt: skip
    assert taken["status"] == "FILLED"
    (fill,) = taken["fills"]
    # 0.05 BTC at 30000 = 1500 USDT; bob (taker, buyer) pays 0.1% of 0.05 BTC = 0.00005 BTC
    assert (fill["price"], fill["qty"], fill["commission"], fill["commissionAsset"]) == (
        "30000.00000000", "0.05000000", "0.00005000", "BTC")  # fmt: skip
    assert free_locked(bob, "USDT") == (Decimal("8500"), 0)  # the 25 USDT price improvement released
    assert free_locked(bob, "BTC") == (Decimal("0.54995"), 0)
    # alice (maker, seller) receives 1500 USDT less 0.1% = 1498.5
    assert free_locked(alice, "USDT") == (Decimal("11498.5"), 0)
    assert free_locked(alice, "BTC") == (Decimal("0.3"), Decimal("0.15"))
    order = alice.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=ask["orderId"])
    assert (order["status"], order["executedQty"], order["cummulativeQuoteQty"]) == (
        "PARTIALLY_FILLED", "0.05000000", "1500.00000000")  # fmt: skip
    trades = alice.call("GET", "/api/v3/myTrades", symbol=SYMBOL)
    assert [(t["orderId"], t["isMaker"], t["isBuyer"], t["commission"]) for t in trades] == [
        (ask["orderId"], True, False, "1.50000000")
    ]
    alice.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
    assert free_locked(alice, "BTC") == (Decimal("0.45"), 0)


def test_market_orders_by_quantity_and_by_quote(alice: Trader, bob: Trader) -> None:
    alice.call("POST", "/api/v3/order", symbol="ETHUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
               price="2000", quantity="1")  # fmt: skip
    by_qty = bob.call("POST", "/api/v3/order", symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.25")
    assert (by_qty["status"], by_qty["executedQty"], by_qty["cummulativeQuoteQty"]) == (
        "FILLED", "0.25000000", "500.00000000")  # fmt: skip
    by_quote = bob.call(
        "POST", "/api/v3/order", symbol="ETHUSDT", side="BUY", type="MARKET", quoteOrderQty="100"
    )
    assert (by_quote["status"], by_quote["executedQty"], by_quote["cummulativeQuoteQty"]) == (
        "FILLED", "0.05000000", "100.00000000")  # fmt: skip
    assert free_locked(bob, "USDT") == (Decimal("9400"), 0)
    # 0.3 ETH bought, less 0.1% taker fees (0.00025 + 0.00005)
    assert free_locked(bob, "ETH") == (Decimal("5.2997"), 0)
    sold = bob.call("POST", "/api/v3/order", symbol="ETHUSDT", side="SELL", type="MARKET", quantity="0.1")
    assert sold["status"] == "EXPIRED" and sold["executedQty"] == "0.00000000"  # no bids
    assert free_locked(bob, "ETH") == (Decimal("5.2997"), 0)
    alice.call("DELETE", "/api/v3/openOrders", symbol="ETHUSDT")


def test_ioc_fok_and_limit_maker(alice: Trader, bob: Trader) -> None:
    alice.call("POST", "/api/v3/order", symbol="SOLUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
               price="100", quantity="2")  # fmt: skip
    fok = bob.call("POST", "/api/v3/order", symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="FOK",
                   price="100", quantity="3")  # fmt: skip
    assert fok["status"] == "EXPIRED" and fok["fills"] == []
    ioc = bob.call("POST", "/api/v3/order", symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="IOC",
                   price="100", quantity="3")  # fmt: skip
    assert (ioc["status"], ioc["executedQty"]) == ("EXPIRED", "2.00000000")
    assert free_locked(bob, "USDT") == (Decimal("9800"), 0)
    alice.call("POST", "/api/v3/order", symbol="SOLUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
               price="100", quantity="1")  # fmt: skip
    with pytest.raises(ApiFailure) as err:
        bob.call("POST", "/api/v3/order", symbol="SOLUSDT", side="BUY", type="LIMIT_MAKER", price="100",
                 quantity="1")  # fmt: skip
    assert (err.value.code, err.value.msg) == (-2010, "Order would immediately match and take.")
    maker = bob.call("POST", "/api/v3/order", symbol="SOLUSDT", side="BUY", type="LIMIT_MAKER", price="99",
                     quantity="1")  # fmt: skip
    assert maker["status"] == "NEW"
    bob.call("DELETE", "/api/v3/openOrders", symbol="SOLUSDT")
    alice.call("DELETE", "/api/v3/openOrders", symbol="SOLUSDT")
    assert free_locked(bob, "USDT") == (Decimal("9800"), 0)


def test_my_trades_by_time_range_read_the_range_not_the_newest(alice: Trader, bob: Trader) -> None:
    for _ in range(6):  # six trades at six different milliseconds
        alice.call("POST", "/api/v3/order", symbol="SOLUSDT", side="SELL", type="LIMIT", timeInForce="GTC",
                   price="100", quantity="0.1")  # fmt: skip
        bob.call("POST", "/api/v3/order", symbol="SOLUSDT", side="BUY", type="LIMIT", timeInForce="IOC",
                 price="100", quantity="0.1")  # fmt: skip
        time.sleep(0.005)
    everything = bob.call("GET", "/api/v3/myTrades", symbol="SOLUSDT")
    ids, times = [t["id"] for t in everything], [t["time"] for t in everything]
    assert len(ids) == 6 and times == sorted(set(times)), times

    def ranged(**params: int) -> list[int]:
        return [t["id"] for t in bob.call("GET", "/api/v3/myTrades", symbol="SOLUSDT", limit=2, **params)]

    # Older than the newest `limit`: the range itself is read (oldest first within it).
    assert ranged(startTime=times[1], endTime=times[2]) == ids[1:3]
    assert ranged(startTime=times[0], endTime=times[4]) == ids[0:2]
    assert ranged(startTime=times[2]) == ids[2:4]
    assert ranged(endTime=times[3]) == ids[2:4]  # endTime alone: the newest up to it
    assert ranged(endTime=times[0] - 1) == []
    assert ranged(startTime=times[5] + 1) == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (
            {
                "symbol": "NOPE",
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": "1",
                "quantity": "1",
            },
            -1121,
        ),
        (
            {
                "symbol": SYMBOL,
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": "100.001",
                "quantity": "1",
            },
            -1013,
        ),
        (
            {
                "symbol": SYMBOL,
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": "100",
                "quantity": "0.000000001",
            },
            -1111,
        ),
        (
            {
                "symbol": SYMBOL,
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": "1",
                "quantity": "0.001",
            },
            -1013,
        ),
        ({"symbol": SYMBOL, "side": "BUY", "type": "LIMIT", "price": "100", "quantity": "1"}, -1102),
        (
            {
                "symbol": SYMBOL,
                "side": "UP",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": "100",
                "quantity": "1",
            },
            -1117,
        ),
        ({"symbol": SYMBOL, "side": "BUY", "type": "TRAILING_STOP_MARKET", "quantity": "1"}, -1116),
        ({"symbol": SYMBOL, "side": "BUY", "type": "STOP_LOSS", "quantity": "1"}, -1102),
        (
            {
                "symbol": SYMBOL,
                "side": "BUY",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "price": "60000",
                "quantity": "1",
            },
            -2010,
        ),
        ({"symbol": SYMBOL, "side": "BUY", "type": "MARKET", "price": "1", "quantity": "1"}, -1106),
    ],
)
def test_bad_orders_get_binance_codes_and_change_nothing(
    alice: Trader, params: dict[str, str], code: int
) -> None:
    before = alice.balances()
    with pytest.raises(ApiFailure) as err:
        alice.call("POST", "/api/v3/order", **params)
    assert err.value.code == code, err.value.msg
    assert alice.balances() == before


def test_resubmitted_client_order_id_never_makes_a_second_order(alice: Trader, bob: Trader) -> None:
    first = alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                       price="10000", quantity="0.01", newClientOrderId="retry-me")  # fmt: skip
    with pytest.raises(ApiFailure) as err:
        alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                   price="10000", quantity="0.01", newClientOrderId="retry-me")  # fmt: skip
    assert (err.value.code, err.value.msg) == (-2010, "Duplicate order sent.")
    alice.call("DELETE", "/api/v3/order", symbol=SYMBOL, origClientOrderId="retry-me")
    with pytest.raises(ApiFailure):  # a recent, finished order's id still counts
        alice.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                   price="10000", quantity="0.01", newClientOrderId="retry-me")  # fmt: skip
    orders = alice.call("GET", "/api/v3/allOrders", symbol=SYMBOL)
    assert [o["orderId"] for o in orders if o["clientOrderId"] == "retry-me"] == [first["orderId"]]
    assert free_locked(alice, "USDT") == (Decimal("10000"), 0)


def test_openapi_documents_the_endpoints(stack: Stack) -> None:
    import httpx

    spec = httpx.get(f"{stack.url}/openapi.json").json()
    for path in (
        "/api/v3/order",
        "/api/v3/openOrders",
        "/api/v3/account",
        "/api/v3/exchangeInfo",
        "/api/web/signup",
    ):
        assert path in spec["paths"], path
    assert httpx.get(f"{stack.url}/docs").status_code == 200


def test_the_home_page_lists_the_markets_live(stack: Stack) -> None:
    import httpx

    page = httpx.get(stack.url)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "/api/v3/ticker/24hr" in page.text and 'aria-label="Markets"' in page.text
