"""Parsing OCO parameters (gateway.ocoparams): the members each endpoint makes, in Binance's
list order, and the refusals made before anything is reserved."""

import pytest

from exchange_core.errors import ApiError
from exchange_core.markets import load_markets
from gateway.ocoparams import parse_deprecated_oco, parse_oco
from matching.enums import OrderType, Side, TimeInForce

MARKETS = load_markets()
SELL = {
    "symbol": "BTCUSDT", "side": "SELL", "quantity": "0.01", "listClientOrderId": "L",
    "aboveType": "LIMIT_MAKER", "abovePrice": "32000", "aboveClientOrderId": "up",
    "belowType": "STOP_LOSS_LIMIT", "belowStopPrice": "28000", "belowPrice": "27900",
    "belowTimeInForce": "GTC", "belowClientOrderId": "down",
}  # fmt: skip


def missing(name: str) -> str:
    return f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."


def test_orderlist_oco_makes_the_below_member_first_with_its_own_parameters() -> None:
    req = parse_oco(SELL, MARKETS)
    below, above = req.members
    usdt = 10 ** MARKETS["BTCUSDT"].quote.decimals
    assert (below.order_type, below.stop_price, below.price, below.time_in_force, below.client_order_id) == (
        OrderType.STOP_LOSS_LIMIT, 28000 * usdt, 27900 * usdt, TimeInForce.GTC, "down"
    )  # fmt: skip
    assert (above.order_type, above.price, above.stop_price, above.client_order_id) == (
        OrderType.LIMIT_MAKER, 32000 * usdt, 0, "up"
    )  # fmt: skip
    assert below.side == above.side == Side.SELL and below.quantity == above.quantity
    assert req.list_client_order_id == "L"


@pytest.mark.parametrize(
    ("change", "code", "msg"),
    [
        ({"aboveType": "LIMIT"}, -1158, "Order type not supported in OCO."),
        ({"belowType": None}, -1102, missing("belowType")),
        ({"quantity": None}, -1102, missing("quantity")),
        ({"belowTimeInForce": None}, -1102, missing("timeInForce")),
        ({"abovePrice": "32000.005"}, -1013, "Filter failure: PRICE_FILTER"),
        ({"aboveClientOrderId": "down"}, -2010, "Duplicate order sent."),
        ({"listClientOrderId": "bad id!"}, -1100,
         "Illegal characters found in parameter 'listClientOrderId'; "
         "legal range is '^[a-zA-Z0-9\\-_.]{1,36}$'."),
    ],
)  # fmt: skip
def test_orderlist_oco_refusals(change: dict[str, str | None], code: int, msg: str) -> None:
    params = {k: v for k, v in {**SELL, **change}.items() if v is not None}
    with pytest.raises(ApiError) as refused:
        parse_oco(params, MARKETS)
    assert (refused.value.code, refused.value.msg) == (code, msg)


def test_deprecated_oco_makes_a_stop_loss_limit_with_stop_limit_price_else_a_stop_loss() -> None:
    base = {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001", "price": "29000", "stopPrice": "31000"}
    stop, limit = parse_deprecated_oco(base, MARKETS).members
    assert (stop.order_type, limit.order_type, limit.side) == (
        OrderType.STOP_LOSS,
        OrderType.LIMIT_MAKER,
        Side.BUY,
    )
    with_limit = {**base, "stopLimitPrice": "31100", "stopLimitTimeInForce": "GTC", "stopClientOrderId": "s"}
    stop, _ = parse_deprecated_oco(with_limit, MARKETS).members
    assert (stop.order_type, stop.client_order_id) == (OrderType.STOP_LOSS_LIMIT, "s")
    with pytest.raises(ApiError) as missing_tif:
        parse_deprecated_oco({**base, "stopLimitPrice": "31100"}, MARKETS)
    assert missing_tif.value.code == -1102
