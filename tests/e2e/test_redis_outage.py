"""Redis unreachable: the gateway answers Binance's 503 -1001 ("please try again"), not 500
-1000, and keeps serving what needs no Redis; the engine and settlement wait for Redis instead
of exiting, and orders flow again once Redis is back."""

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from launcher.stack import running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.private_redis import AofRedis

T = TypeVar("T")


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


def eventually(call: Callable[[], T], seconds: float = 10.0) -> T:
    """`call()`, tried again while it fails with 503 -1001: just after Redis is back, a pooled
    connection that predates the restart fails once (the client is told to try again)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except ApiFailure as failure:
            if (failure.status, failure.code) != (503, -1001) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


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

            pids = stack.supervisor.pids()
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

            time.sleep(1.5)  # the engine and settlement find Redis gone and retry
            redis.start()
            deadline = time.monotonic() + 60
            while True:
                try:
                    placed = limit(trader, "20000", f"after-{int(time.monotonic() * 1000)}")
                    break
                except ApiFailure as failure:
                    assert failure.status in (503, 400), failure.body  # 400: -1007 is not expected
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            assert placed["status"] == "NEW"
            # Nothing exited and had to be started again: every process rode the outage out.
            assert stack.supervisor.restart_dead() == []
            assert stack.supervisor.pids() == pids
            # The order placed before the outage is still there (AOF kept it), and the refused one
            # never became an order.
            still_open = eventually(lambda: trader.call("GET", "/api/v3/openOrders", symbol="BTCUSDT"))
            open_ids = {o["clientOrderId"] for o in still_open}
            assert "before" in open_ids and "during" not in open_ids
    finally:
        if redis.process is not None and redis.process.poll() is None:
            redis.stop()
