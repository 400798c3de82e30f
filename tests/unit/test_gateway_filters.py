"""exchangeInfo's PRICE_FILTER and NOTIONAL bounds are exactly the ones the gateway enforces
(Binance: a price passes when minPrice <= price <= maxPrice on the tick grid; a LIMIT order's
notional must lie within [minNotional, maxNotional])."""

from typing import Any

import pytest

from exchange_core.errors import FILTER_FAILURE, ApiError
from exchange_core.ledger import MAX_AMOUNT
from exchange_core.markets import Market, load_markets
from exchange_core.units import from_units, to_units
from gateway.routes.public import symbol_info
from gateway.validation import parse_new_order

MARKETS = load_markets()


def filters(market: Market) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in symbol_info(market)["filters"]}


def limit_buy(market: Market, price_units: int, qty_units: int) -> dict[str, str]:
    return {
        "symbol": market.symbol,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": from_units(price_units, market.quote.decimals),
        "quantity": from_units(qty_units, market.base.decimals),
    }


def test_btcusdt_advertises_binance_like_bounds() -> None:
    f = filters(MARKETS["BTCUSDT"])
    assert (f["PRICE_FILTER"]["minPrice"], f["PRICE_FILTER"]["maxPrice"]) == (
        "0.01000000",
        "1000000.00000000",
    )
    assert (f["NOTIONAL"]["minNotional"], f["NOTIONAL"]["maxNotional"]) == ("5.00000000", "9000000.00000000")


@pytest.mark.parametrize("symbol", list(MARKETS))
def test_max_price_is_accepted_and_one_tick_more_is_refused(symbol: str) -> None:
    market = MARKETS[symbol]
    max_price = to_units(filters(market)["PRICE_FILTER"]["maxPrice"], market.quote.decimals)
    qty = market.spec.min_qty_units
    assert parse_new_order(limit_buy(market, max_price, qty), MARKETS).price == max_price
    with pytest.raises(ApiError) as err:
        parse_new_order(limit_buy(market, max_price + market.spec.tick_units, qty), MARKETS)
    assert (err.value.code, err.value.msg) == (FILTER_FAILURE, "Filter failure: PRICE_FILTER")


@pytest.mark.parametrize("symbol", list(MARKETS))
def test_max_notional_is_accepted_and_one_step_more_is_refused(symbol: str) -> None:
    market = MARKETS[symbol]
    spec = market.spec
    max_notional = to_units(filters(market)["NOTIONAL"]["maxNotional"], market.quote.decimals)
    price = to_units(filters(market)["PRICE_FILTER"]["maxPrice"], market.quote.decimals)
    qty = max_notional // spec.notional(price, spec.step_units) * spec.step_units
    assert spec.notional(price, qty) <= max_notional < spec.notional(price, qty + spec.step_units)
    assert parse_new_order(limit_buy(market, price, qty), MARKETS).quantity == qty
    with pytest.raises(ApiError) as err:
        parse_new_order(limit_buy(market, price, qty + spec.step_units), MARKETS)
    assert (err.value.code, err.value.msg) == (FILTER_FAILURE, "Filter failure: NOTIONAL")


def stop_order(**extra: str) -> dict[str, str]:
    return {"symbol": "BTCUSDT", "side": "SELL", "quantity": "0.001", **extra}


def test_stop_types_need_a_stop_price_on_the_tick_grid_and_others_refuse_one() -> None:
    ok = parse_new_order(stop_order(type="STOP_LOSS", stopPrice="29000.01"), MARKETS)
    assert (ok.order_type.name, ok.stop_price, ok.price) == ("STOP_LOSS", 29000_01000000, 0)
    limit_stop = parse_new_order(
        stop_order(type="TAKE_PROFIT_LIMIT", stopPrice="31000", price="30999", timeInForce="IOC"), MARKETS
    )
    assert (limit_stop.time_in_force.name, limit_stop.price, limit_stop.stop_price) == (
        "IOC", 30999 * 10**8, 31000 * 10**8
    )  # fmt: skip
    trailing = parse_new_order(stop_order(type="STOP_LOSS", trailingDelta="100"), MARKETS)
    assert (trailing.trailing_delta, trailing.stop_price) == (100, 0)
    price_filter = (FILTER_FAILURE, "Filter failure: PRICE_FILTER")
    trailing_filter = (FILTER_FAILURE, "Filter failure: TRAILING_DELTA")
    refusals = [
        (stop_order(type="STOP_LOSS"), -1102,
         "Mandatory parameter 'stopPrice' was not sent, was empty/null, or malformed."),
        (stop_order(type="STOP_LOSS", stopPrice="29000.001"), *price_filter),
        (stop_order(type="STOP_LOSS", stopPrice="1000000.01"), *price_filter),
        (stop_order(type="STOP_LOSS", stopPrice="29000", price="1"), -1106,
         "Parameter 'price' sent when not required."),
        (stop_order(type="STOP_LOSS_LIMIT", stopPrice="29000", price="1"), -1102,
         "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed."),
        (stop_order(type="LIMIT", timeInForce="GTC", price="1", stopPrice="2"), -1106,
         "Parameter 'stopPrice' sent when not required."),
        (stop_order(type="STOP_LOSS", trailingDelta="9"), *trailing_filter),
        (stop_order(type="STOP_LOSS", trailingDelta="2001"), *trailing_filter),
        (stop_order(type="LIMIT", timeInForce="GTC", price="1", trailingDelta="100"), -1106,
         "Parameter 'trailingDelta' sent when not required."),
    ]  # fmt: skip
    for params, code, msg in refusals:
        with pytest.raises(ApiError) as refused:
            parse_new_order(params, MARKETS)
        assert (refused.value.code, refused.value.msg) == (code, msg), params


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_quote_order_qty_stays_inside_the_ledgers_exact_range(side: str) -> None:
    market = MARKETS["BTCUSDT"]
    at_most = {"symbol": "BTCUSDT", "side": side, "type": "MARKET"}
    largest = from_units(MAX_AMOUNT, market.quote.decimals)
    assert parse_new_order({**at_most, "quoteOrderQty": largest}, MARKETS).quote_quantity == MAX_AMOUNT
    for too_much in (from_units(MAX_AMOUNT + 1, market.quote.decimals), "99999999999999999999"):
        with pytest.raises(ApiError) as raised:
            parse_new_order({**at_most, "quoteOrderQty": too_much}, MARKETS)
        assert (raised.value.code, raised.value.msg) == (FILTER_FAILURE, "Filter failure: NOTIONAL")


def test_iceberg_quantity_rules_and_the_filters_exchange_info_lists() -> None:
    market = MARKETS["BTCUSDT"]
    f = filters(market)
    assert symbol_info(market)["icebergAllowed"] is True
    parts = f["ICEBERG_PARTS"]["limit"]
    assert f["MAX_NUM_ICEBERG_ORDERS"]["maxNumIcebergOrders"] == 5
    order = {**limit_buy(market, 30000 * 10**8, parts * 10**4), "icebergQty": "0.0001"}
    assert parse_new_order(order, MARKETS).iceberg_qty == 10**4  # ceil(q / iceberg) == parts: allowed
    maker = {**order, "type": "LIMIT_MAKER", "timeInForce": ""}
    assert parse_new_order(maker, MARKETS).iceberg_qty == 10**4
    assert parse_new_order(limit_buy(market, 30000 * 10**8, 10**5), MARKETS).iceberg_qty == 0
    refusals = [
        ({**order, "quantity": from_units(parts * 10**4 + 1000, 8)}, FILTER_FAILURE,
         "Filter failure: ICEBERG_PARTS"),
        ({**order, "icebergQty": order["quantity"]}, -2010, "IcebergQty exceeds QTY."),
        ({**order, "icebergQty": "0.000001"}, FILTER_FAILURE, "Filter failure: LOT_SIZE"),
        ({**order, "timeInForce": "IOC"}, -2010, "Unsupported order combination"),
        ({**stop_order(type="STOP_LOSS_LIMIT", stopPrice="29000", price="29000", timeInForce="GTC"),
          "icebergQty": "0.0001"}, -1106, "Parameter 'icebergQty' sent when not required."),
    ]  # fmt: skip
    for params, code, msg in refusals:
        with pytest.raises(ApiError) as refused:
            parse_new_order(params, MARKETS)
        assert (refused.value.code, refused.value.msg) == (code, msg), params
