"""Redis unreachable: the gateway answers Binance's 503 -1001 ("please try again"), not 500
-1000, keeps serving what needs no Redis, and takes orders again once Redis is back."""

import asyncio
import time
from collections.abc import Iterator

import pytest

from launcher.stack import running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.private_redis import AofRedis


@pytest.fixture
def outage_db() -> Iterator[str]:
    services.ensure_postgres()
    dsn = asyncio.run(services.create_test_database())
    yield dsn
    asyncio.run(services.drop_test_database(dsn))


def limit(trader: Trader, price: str, cid: str) -> dict[str, object]:
    result: dict[str, object] = trader.call(
        "POST", "/api/v3/order", symbol="BTCUSDT", side="BUY", type="LIMIT", timeInForce="GTC",
        price=price, quantity="0.001", newClientOrderId=cid,
    )  # fmt: skip
    return result


def refused(trader: Trader, method: str, path: str, **params: object) -> ApiFailure:
    with pytest.raises(ApiFailure) as caught:
        trader.call(method, path, **params)
    return caught.value


def test_orders_get_503_minus_1001_while_redis_is_down_and_work_again_after(outage_db: str) -> None:
    redis = AofRedis()
    redis.start()
    try:
        with running_stack(outage_db, services.new_prefix(), ["BTCUSDT"], REDIS_URL=redis.url) as stack:
            trader = sign_up(stack.url)
            assert limit(trader, "20000", "before")["status"] == "NEW"

            redis.stop()
            for method, path, params in (
                ("POST", "/api/v3/order", {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                           "timeInForce": "GTC", "price": "20000", "quantity": "0.001",
                                           "newClientOrderId": "during"}),
                ("GET", "/api/v3/account", {}),
                ("GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"}),
            ):  # fmt: skip
                failure = refused(trader, method, path, **params)
                assert (failure.status, failure.code) == (503, -1001), (path, failure.body)
                assert "try again" in str(failure.msg)
            # What needs no Redis still answers.
            assert trader.http.get(f"{stack.url}/api/v3/exchangeInfo").status_code == 200

            redis.start()
            deadline = time.monotonic() + 60
            while True:
                stack.supervisor.restart_dead()  # as Kubernetes restarts a pod whose process exited
                try:
                    placed = limit(trader, "20000", f"after-{int(time.monotonic() * 1000)}")
                    break
                except ApiFailure as failure:
                    assert failure.status in (503, 400), failure.body  # 400: -1007 is not expected
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            assert placed["status"] == "NEW"
            # The order placed before the outage is still there (AOF kept it), and the refused one
            # never became an order.
            still_open = trader.call("GET", "/api/v3/openOrders", symbol="BTCUSDT")
            open_ids = {o["clientOrderId"] for o in still_open}
            assert "before" in open_ids and "during" not in open_ids
    finally:
        if redis.process is not None and redis.process.poll() is None:
            redis.stop()
