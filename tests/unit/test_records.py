"""The stored order state and user trade (exchange_core.records): the bytes settlement writes, as
the gateway reads them back."""

from exchange_core.records import OrderRecord, TradeRecord
from gateway.formatting import order_json, trade_json
from gateway.results import StoredOrder, StoredTrade
from matching import OrderStatus, OrderType, Side, StpMode, TimeInForce
from tests.corehelpers import limit
from tests.unit.test_settlement_effects import MARKET, decoded, run

# As settlement has written them into Redis (user order hash, user trade set), to the byte.
STORED_ORDER = (
    '{"i":42,"c":"web-7","S":1,"t":5,"f":1,"p":150,"q":5,"qq":0,"stp":1,"T":1700000000000,'
    '"st":1,"x":2,"xq":300,"u":1700000000500,"sp":140,"tr":1700000000400,"td":25,"iq":0}'
)
STORED_ICEBERG = (
    '{"i":43,"c":"web-8","S":2,"t":1,"f":1,"p":150,"q":9,"qq":0,"stp":1,"T":1700000000000,'
    '"st":2,"x":4,"xq":600,"u":1700000000500,"sp":0,"tr":0,"td":0,"iq":3}'
)
STORED_BEFORE_STOPS = (
    '{"i":3,"c":"a","S":2,"t":1,"f":1,"p":150,"q":2,"qq":0,"stp":0,"T":10,"st":1,"x":0,"xq":0,"u":10}'
)
STORED_TRADE = (
    '{"id":9,"o":42,"p":150,"q":2,"qq":300,"fee":1,"fa":"USD","T":1700000000400,"b":false,"m":true}'
)


def test_a_stored_order_state_decodes_and_encodes_to_the_same_bytes() -> None:
    order = OrderRecord.decode(STORED_ORDER.encode())
    assert order == OrderRecord(
        order_id=42, client_order_id="web-7", side=1, order_type=5, time_in_force=1, price=150,
        quantity=5, quote_quantity=0, stp_mode=1, time=1700000000000, status=1, executed=2,
        executed_quote=300, update_time=1700000000500, stop_price=140, triggered=1700000000400,
        trailing_delta=25,
    )  # fmt: skip
    assert order.encode() == STORED_ORDER
    assert OrderRecord.decode(order.encode()) == order
    body = order_json(StoredOrder(MARKET, order))
    stop = (body["type"], body["stopPrice"], body["isWorking"], body["workingTime"], body["trailingDelta"])
    assert stop == ("STOP_LOSS_LIMIT", "1.40", True, 1700000000400, 25)


def test_a_state_written_before_stop_orders_reads_as_no_stop() -> None:
    order = OrderRecord.decode(STORED_BEFORE_STOPS)
    assert (order.order_id, order.stop_price, order.triggered, order.trailing_delta) == (3, 0, 0, 0)
    body = order_json(StoredOrder(MARKET, order))
    assert (body["stopPrice"], body["isWorking"], body["workingTime"]) == ("0.00", True, 10)
    assert "trailingDelta" not in body
    assert (order.iceberg_qty, body["icebergQty"]) == (0, "0")


def test_an_iceberg_order_state_keeps_its_iceberg_quantity() -> None:
    order = OrderRecord.decode(STORED_ICEBERG)
    assert order.iceberg_qty == 3 and order.encode() == STORED_ICEBERG
    assert order_json(StoredOrder(MARKET, order))["icebergQty"] == "3"


def test_a_stored_trade_decodes_and_encodes_to_the_same_bytes() -> None:
    trade = TradeRecord.decode(STORED_TRADE)
    assert trade == TradeRecord(9, 42, 150, 2, 300, 1, "USD", 1700000000400, is_buyer=False, is_maker=True)
    assert trade.encode() == STORED_TRADE
    assert trade_json(StoredTrade(MARKET, trade)) | {"symbol": ""} == {
        "symbol": "", "id": 9, "orderId": 42, "orderListId": -1, "price": "1.50", "qty": "2",
        "quoteQty": "3.00", "commission": "0.01", "commissionAsset": "USD", "time": 1700000000400,
        "isBuyer": False, "isMaker": True, "isBestMatch": True,
    }  # fmt: skip


def test_what_settlement_writes_the_gateway_reads() -> None:
    fx, _ = run(limit(1, 7, Side.SELL, 150, 2), limit(2, 8, Side.BUY, 150, 3))
    taker = fx.users[8]
    state = OrderRecord.decode(taker.order_state(2)[1])
    assert (state.order_id, state.side, state.order_type, state.time_in_force) == (
        2, Side.BUY, OrderType.LIMIT, TimeInForce.GTC)  # fmt: skip
    assert (state.status, state.quantity, state.executed, state.executed_quote) == (
        OrderStatus.PARTIALLY_FILLED, 3, 2, 300)  # fmt: skip
    assert state.stp_mode == StpMode.NONE
    body = order_json(StoredOrder(MARKET, state))
    assert (body["status"], body["origQty"], body["executedQty"], body["cummulativeQuoteQty"]) == (
        "PARTIALLY_FILLED", "3", "2", "3.00")  # fmt: skip
    (trade_op,) = [op for op in decoded(taker.ops) if op[1] == "T"]
    trade = TradeRecord.decode(trade_op[3])
    assert (trade.order_id, trade.quantity, trade.quote_quantity, trade.is_buyer, trade.is_maker) == (
        2, 2, 300, True, False)  # fmt: skip
    assert trade.fee_asset == "TST"


def test_an_order_self_trade_prevention_expired_keeps_and_shows_its_prevented_match() -> None:
    fx, _ = run(limit(1, 7, Side.SELL, 150, 2), limit(2, 7, Side.BUY, 150, 3, stp=StpMode.EXPIRE_BOTH))
    maker = OrderRecord.decode(fx.users[7].order_state(1)[1])
    assert (maker.status, maker.prevented_match_id, maker.prevented_qty) == (
        OrderStatus.EXPIRED_IN_MATCH,
        1,
        2,
    )
    assert OrderRecord.decode(maker.encode()) == maker
    body = order_json(StoredOrder(MARKET, maker))
    assert (body["preventedMatchId"], body["preventedQuantity"]) == (1, "2")
    plain = OrderRecord.decode(STORED_ICEBERG)
    assert "preventedMatchId" not in order_json(StoredOrder(MARKET, plain))
    taker = OrderRecord.decode(fx.users[7].order_state(2)[1])
    assert (taker.prevented_match_id, taker.prevented_qty) == (1, 3)
    unprevented, _ = run(limit(1, 7, Side.SELL, 150, 2), limit(2, 8, Side.BUY, 150, 3))
    assert '"pm"' not in unprevented.users[8].order_state(2)[1]  # the bytes written before these fields
