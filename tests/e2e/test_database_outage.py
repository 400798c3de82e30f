"""A database outage, with real processes: the gateway stays ready (its readiness needs only
Redis), orders are accepted the whole time, the endpoints that need the database answer 503
-1001, a gateway started during the outage comes up, and everything answers again afterwards."""

import asyncio
import os
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from gateway.keycache import API_KEY_CACHE_SECONDS
from launcher.stack import Stack, free_port, running_stack
from tests import services
from tests.client import ApiFailure, Trader, sign_up
from tests.e2e.tcpproxy import CuttableProxy

SYMBOL = "BTCUSDT"
# Past the life of a cached API key (its last known grant must carry the trader); `make soak`: 60.
OUTAGE_S = float(os.environ.get("GATEWAY_DB_OUTAGE_S", str(API_KEY_CACHE_SECONDS + 3)))


@pytest.fixture(scope="module")
def proxied_stack(pg_dsn: str, redis_url: str) -> Iterator[tuple[Stack, CuttableProxy]]:
    """The stack reaches PostgreSQL only through a proxy that the test can cut."""
    prefix = services.new_prefix()
    pg_port = urlparse(pg_dsn).port or 5432
    try:
        with CuttableProxy(pg_port) as proxy:
            dsn = pg_dsn.replace(f":{pg_port}/", f":{proxy.port}/")
            with running_stack(dsn, prefix, [SYMBOL]) as s:
                yield s, proxy
    finally:
        asyncio.run(services.delete_prefix(prefix))


def place(trader: Trader, cid: str) -> int:
    """Place one resting order; the HTTP status of the answer."""
    try:
        trader.call(
            "POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
            price="20000", quantity="0.00030", newClientOrderId=cid,  # 6 USDT: the funds last
        )  # fmt: skip
    except ApiFailure as exc:
        return exc.status
    return 200


def test_orders_flow_and_gateways_stay_ready_while_the_database_is_down(
    proxied_stack: tuple[Stack, CuttableProxy],
) -> None:
    stack, proxy = proxied_stack
    trader = sign_up(stack.url)
    assert place(trader, "before") == 200  # the API key is now cached
    proxy.cut()
    try:
        assert httpx.get(f"{stack.url}/readyz", timeout=5).status_code == 200
        trades = httpx.get(f"{stack.url}/api/v3/trades", params={"symbol": SYMBOL}, timeout=10)
        assert trades.status_code == 503 and trades.json()["code"] == -1001
        statuses, ready = [], []
        deadline, n = time.monotonic() + OUTAGE_S, 0
        while time.monotonic() < deadline:
            statuses.append(place(trader, f"during-{n}"))
            if n % 50 == 0:
                ready.append(httpx.get(f"{stack.url}/readyz", timeout=5).status_code)
            n += 1
            time.sleep(0.01)
        assert statuses and set(statuses) == {200}
        assert set(ready) == {200}
        assert httpx.get(f"{stack.url}/readyz", timeout=5).status_code == 200
        # A gateway started while the database is unreachable comes up and is ready.
        port = free_port()
        stack.supervisor.add("gateway-late", "gateway", PORT=str(port), GRPC_PORT="0")
        stack.supervisor.start("gateway-late")
        late = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(f"{late}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        assert httpx.get(f"{late}/readyz", timeout=5).status_code == 200
        assert httpx.get(f"{late}/api/v3/time", timeout=5).status_code == 200
    finally:
        proxy.restore()
    for _ in range(100):
        if httpx.get(f"{stack.url}/api/v3/trades", params={"symbol": SYMBOL}, timeout=10).status_code == 200:
            break
        time.sleep(0.1)
    assert httpx.get(f"{stack.url}/api/v3/trades", params={"symbol": SYMBOL}, timeout=10).status_code == 200
    print(f"\ndatabase outage: {len(statuses)} orders placed during {OUTAGE_S} s, all accepted")
