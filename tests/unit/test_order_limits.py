"""The filters of gateway.orderlimits (PERCENT_PRICE_BY_SIDE, MAX_NUM_ORDERS, MAX_NUM_ALGO_ORDERS,
MAX_NUM_ICEBERG_ORDERS, MAX_NUM_ORDER_AMENDS) decided at their bounds, and exchangeInfo's symbol
entry compared key by key with Binance's documented example (filters.md, rest-api.md)."""

from typing import Any

import pytest

from exchange_core.markets import load_markets
from exchange_core.records import OrderRecord
from exchange_core.units import to_units
from gateway.orderlimits import (
    MAX_NUM_ALGO_ORDERS,
    MAX_NUM_ORDERS,
    count_filter_failure,
    needs_records,
    percent_price_ok,
)
from gateway.routes.public import symbol_info
from gateway.validation import MAX_NUM_ICEBERG_ORDERS, OrderRequest, parse_new_order
from matching.enums import OrderType, Side

MARKETS = load_markets()
BTCUSDT = MARKETS["BTCUSDT"]
# Binance's documented symbol entry of exchangeInfo (rest-api.md), its keys in order.
BINANCE_SYMBOL_KEYS = [
    "symbol", "status", "baseAsset", "baseAssetPrecision", "quoteAsset", "quotePrecision",
    "quoteAssetPrecision", "baseCommissionPrecision", "quoteCommissionPrecision", "orderTypes",
    "icebergAllowed", "ocoAllowed", "otoAllowed", "opoAllowed", "quoteOrderQtyMarketAllowed",
    "allowTrailingStop", "cancelReplaceAllowed", "amendAllowed", "pegInstructionsAllowed",
    "isSpotTradingAllowed", "isMarginTradingAllowed", "filters", "permissions", "permissionSets",
    "defaultSelfTradePreventionMode", "allowedSelfTradePreventionModes",
]  # fmt: skip


def order(**given: str) -> OrderRequest:
    params = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "price": "30000", "quantity": "0.01", **given}  # fmt: skip
    return parse_new_order({k: v for k, v in params.items() if v}, MARKETS)


def record(order_id: int, order_type: OrderType = OrderType.LIMIT, iceberg: int = 0) -> OrderRecord:
    return OrderRecord(order_id, f"c{order_id}", Side.BUY, order_type, 1, 10**12, 10**6, 0, 2,
                       1, 0, 0, 0, 1, iceberg_qty=iceberg)  # fmt: skip


STOP = {"type": "STOP_LOSS_LIMIT", "stopPrice": "29000"}


def test_symbol_entry_has_binances_keys_in_binances_order() -> None:
    info = symbol_info(BTCUSDT)
    extra = [k for k in info if k not in BINANCE_SYMBOL_KEYS]
    assert [k for k in info if k in BINANCE_SYMBOL_KEYS] == BINANCE_SYMBOL_KEYS
    assert extra == ["makerCommission", "takerCommission"]
    flags = {k: info[k] for k in ("ocoAllowed", "otoAllowed", "opoAllowed", "pegInstructionsAllowed")}
    assert flags == {
        "ocoAllowed": True,
        "otoAllowed": True,
        "opoAllowed": False,
        "pegInstructionsAllowed": False,
    }
    assert (info["amendAllowed"], info["permissions"], info["permissionSets"]) == (True, [], [["SPOT"]])
    assert symbol_info(BTCUSDT, show_permission_sets=False)["permissionSets"] == []


def test_filters_listed_with_binances_shapes() -> None:
    listed: dict[str, dict[str, Any]] = {f["filterType"]: f for f in symbol_info(BTCUSDT)["filters"]}
    assert listed["PERCENT_PRICE_BY_SIDE"] == {
        "filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
        "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5,
    }  # fmt: skip
    assert listed["MAX_NUM_ORDERS"] == {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200}
    assert listed["MAX_NUM_ALGO_ORDERS"] == {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": 5}
    assert listed["MAX_NUM_ORDER_AMENDS"] == {"filterType": "MAX_NUM_ORDER_AMENDS", "maxNumOrderAmends": 10}
    assert listed["MAX_NUM_ICEBERG_ORDERS"]["maxNumIcebergOrders"] == MAX_NUM_ICEBERG_ORDERS
    assert len(listed) == len(symbol_info(BTCUSDT)["filters"]), "a filter listed twice"


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_percent_price_by_side_bounds_are_inclusive_and_exact(side: Side) -> None:
    average = to_units("30000.01", 8)
    assert percent_price_ok(side, average * 5, average)
    assert not percent_price_ok(side, average * 5 + 1, average)
    low = -(-average * 200 // 1000)  # the least price with price * 1000 >= average * 200
    assert percent_price_ok(side, low, average)
    assert not percent_price_ok(side, low - 1, average)


def test_max_num_orders_counts_every_kind() -> None:
    assert count_filter_failure(order(), MAX_NUM_ORDERS - 1, []) is None
    assert count_filter_failure(order(), MAX_NUM_ORDERS, []) == "MAX_NUM_ORDERS"
    assert not needs_records(order(), MAX_NUM_ORDERS + 5)
    # MAX_NUM_ORDERS=0 (the gateway setting): off, and not listed
    assert count_filter_failure(order(), 10 * MAX_NUM_ORDERS, [], max_orders=0) is None
    unlisted = [f["filterType"] for f in symbol_info(BTCUSDT, max_num_orders=0)["filters"]]
    assert "MAX_NUM_ORDERS" not in unlisted and "MAX_NUM_ALGO_ORDERS" in unlisted


def test_max_num_algo_orders_counts_only_stop_orders() -> None:
    stop = order(**STOP)
    algos = [record(i, OrderType.STOP_LOSS_LIMIT) for i in range(MAX_NUM_ALGO_ORDERS - 1)]
    plain = [record(100 + i) for i in range(10)]
    assert needs_records(stop, len(algos) + len(plain))
    assert count_filter_failure(stop, len(algos) + len(plain), algos + plain) is None
    algos.append(record(99, OrderType.TAKE_PROFIT))
    assert count_filter_failure(stop, len(algos) + len(plain), algos + plain) == "MAX_NUM_ALGO_ORDERS"
    assert count_filter_failure(order(), len(algos) + len(plain), algos + plain) is None
    assert not needs_records(order(), len(algos) + len(plain))


def test_max_num_iceberg_orders_counts_only_icebergs() -> None:
    iceberg = order(icebergQty="0.001")
    icebergs = [record(i, iceberg=10**5) for i in range(MAX_NUM_ICEBERG_ORDERS)]
    assert count_filter_failure(iceberg, MAX_NUM_ICEBERG_ORDERS, icebergs) == "MAX_NUM_ICEBERG_ORDERS"
    assert count_filter_failure(iceberg, MAX_NUM_ICEBERG_ORDERS, [*icebergs[1:], record(9)]) is None
    assert count_filter_failure(order(**STOP), MAX_NUM_ICEBERG_ORDERS, icebergs) is None
