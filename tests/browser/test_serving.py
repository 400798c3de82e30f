"""How the gateway serves the built app: hashed assets cached for a year, client-side routes
answered with index.html, the APIs never shadowed; and what the page asks first."""

import json
import re
import time
import uuid

import httpx
from websockets.sync.client import connect

from tests.launched import Launched


def test_assets_routes_and_apis(exchange: Launched) -> None:
    base = exchange.field("Web page")
    with httpx.Client(base_url=base, timeout=10) as client:
        index = client.get("/")
        assert index.status_code == 200 and index.headers["cache-control"] == "no-cache"
        asset = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
        assert asset, index.text
        script = client.get(asset.group(1))
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert script.headers["cache-control"] == "public, max-age=31536000, immutable"

        route = client.get("/trade/ETHBTC")
        assert route.status_code == 200 and route.text == index.text
        assert client.head("/trade/ETHBTC").status_code == 200
        assert client.get("/assets/missing-0000.js").status_code == 404
        assert client.get("/assets/../../pyproject.toml").status_code == 404

        unknown_api = client.get("/api/v3/nothing-here")
        assert unknown_api.status_code == 404 and "application/json" in unknown_api.headers["content-type"]
        assert client.post("/api/v3/nothing-here").status_code == 404
        assert client.post("/trade/ETHBTC").status_code == 404
        assert client.put("/api/v3/order").status_code == 405  # a route's wrong method stays a 405
        assert client.get("/openapi.json").json()["info"]["title"] == "Exchange API"
        assert client.get("/api/v3/ping").json() == {}

        ws_port = exchange.env["WS_PORT"]
        assert client.get("/api/web/config").json() == {"wsUrl": f"ws://127.0.0.1:{ws_port}"}
        assert client.get("/api/web/session").json() == {"user": None}


def test_a_session_listen_key_streams_execution_reports(exchange: Launched) -> None:
    base = exchange.field("Web page")
    csrf = {"X-Requested-With": "exchange-web"}
    with httpx.Client(base_url=base, timeout=10, headers=csrf) as web:
        email = f"stream-{uuid.uuid4().hex[:10]}@example.com"
        assert (
            web.post("/api/web/signup", json={"email": email, "password": "long enough"}).status_code == 200
        )
        ws_base = web.get("/api/web/config").json()["wsUrl"]
        key = web.post("/api/v3/userDataStream").json()["listenKey"]
        with connect(f"{ws_base}/ws/{key}", open_timeout=10) as stream:
            order = web.post(
                "/api/v3/order",
                data={
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.01000",
                    "price": "1000.00",
                },
            ).json()
            assert order.get("status") == "NEW", order
            deadline = time.monotonic() + 10
            while True:
                event = json.loads(stream.recv(timeout=max(0.1, deadline - time.monotonic())))
                if event.get("e") == "executionReport":
                    break
        assert (event["i"], event["X"], event["s"]) == (order["orderId"], "NEW", "BTCUSDT")
