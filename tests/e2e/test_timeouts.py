"""An engine that does not answer: the gateway answers -1007 in bounded time, nothing is lost,
and the order can be queried once the engine is back."""

import asyncio
import signal
import socket
import time
from collections.abc import Iterator

import pytest

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import ApiFailure, sign_up

SYMBOL = "SOLUSDT"


@pytest.fixture(scope="module")
def slow_stack(pg_dsn: str, redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL], ORDER_TIMEOUT_MS="1000") as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def test_order_times_out_with_1007_and_is_executed_once_the_engine_returns(slow_stack: Stack) -> None:
    trader = sign_up(slow_stack.url)
    slow_stack.supervisor.kill(f"engine-{SYMBOL}", signal.SIGSTOP)  # hung, not dead
    started = time.monotonic()
    with pytest.raises(ApiFailure) as err:
        trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                    price="20", quantity="1", newClientOrderId="unknown-fate")  # fmt: skip
    assert (err.value.status, err.value.code) == (503, -1007)
    assert time.monotonic() - started < 3
    assert trader.balances()["USDT"] == ("9980.00000000", "20.00000000")  # reserved meanwhile
    slow_stack.supervisor.kill(f"engine-{SYMBOL}", signal.SIGCONT)
    deadline = time.monotonic() + 10
    while True:
        try:
            order = trader.call("GET", "/api/v3/order", symbol=SYMBOL, origClientOrderId="unknown-fate")
            break
        except ApiFailure:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    assert order["status"] == "NEW"
    with pytest.raises(ApiFailure) as dup:  # a client retrying after -1007 makes no second order
        trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                    price="20", quantity="1", newClientOrderId="unknown-fate")  # fmt: skip
    assert dup.value.code == -2010
    trader.call("DELETE", "/api/v3/order", symbol=SYMBOL, origClientOrderId="unknown-fate")
    assert trader.balances()["USDT"] == ("10000.00000000", "0.00000000")


def test_an_idle_keep_alive_connection_outlives_the_clients_own_expiry(slow_stack: Stack) -> None:
    """httpx drops an idle pooled connection after 5 s: the gateway keeps it longer, so a client
    never sends a request on a connection the server is closing (which fails with no answer)."""
    host, port = slow_stack.url.removeprefix("http://").split(":")
    request = f"GET /api/v3/ping HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(request)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        time.sleep(6.5)  # past uvicorn's default keep-alive of 5 s
        conn.sendall(request)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
