"""bench.wsapi_floor's answers: pure logic, no server. The floor's clients must read as much per
answer as the gateway's (same fields, same order), or the floor would be cheaper for them."""

import hashlib
import hmac
import json

from bench.wsapi_floor import answer
from exchange_core.markets import load_markets
from exchange_core.records import OrderRecord
from gateway.formatting import new_order_json
from gateway.results import PlacedOrder
from gateway.validation import DEFAULT_STP
from matching.enums import OrderStatus, OrderType, Side, TimeInForce

PARAMS = {
    "symbol": "BTCUSDT",
    "side": "SELL",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "price": "30001",
    "quantity": "0.0002",
    "newClientOrderId": "w3-7",
    "newOrderRespType": "RESULT",
    "recvWindow": 60_000,
    "apiKey": "key",
    "timestamp": 1,
}


def request(params: dict[str, object], secret: bytes) -> str:
    payload = "&".join(f"{k}={v}" for k, v in sorted(params.items())).encode()
    signature = hmac.new(secret, payload, hashlib.sha256).hexdigest()
    return json.dumps({"id": 42, "method": "order.place", "params": {**params, "signature": signature}})


def test_a_signed_order_is_answered_with_the_gateways_result_fields_in_its_order() -> None:
    frame = json.loads(answer({"key": b"secret"}, request(PARAMS, b"secret")))
    market = load_markets()["BTCUSDT"]
    record = OrderRecord(
        1, "w3-7", Side.SELL, OrderType.LIMIT, TimeInForce.GTC, 3_000_100, 20_000, 0, DEFAULT_STP,
        1, OrderStatus.NEW, 0, 0, 1,
    )  # fmt: skip
    gateways = new_order_json(PlacedOrder(market, "RESULT", record, ()))
    assert list(frame) == ["id", "status", "result", "rateLimits"]
    assert (frame["id"], frame["status"], frame["rateLimits"]) == (42, 200, [])
    assert list(frame["result"]) == list(gateways)
    echoed = {k: frame["result"][k] for k in ("symbol", "clientOrderId", "side", "type", "timeInForce")}
    assert echoed == {k: gateways[k] for k in echoed}
    assert (frame["result"]["price"], frame["result"]["origQty"]) == ("30001", "0.0002")


def test_order_ids_count_up_and_a_bad_signature_gets_1022() -> None:
    first = json.loads(answer({"key": b"secret"}, request(PARAMS, b"secret")))["result"]["orderId"]
    second = json.loads(answer({"key": b"secret"}, request(PARAMS, b"secret")))["result"]["orderId"]
    assert second == first + 1
    refused = json.loads(answer({"key": b"secret"}, request(PARAMS, b"other")))
    assert (refused["status"], refused["error"]["code"]) == (400, -1022)
