"""How the gateway serves the built app: hashed assets cached for a year, client-side routes
answered with index.html, the APIs never shadowed, text assets sent compressed (brotli or gzip,
as accepted); and what the page asks first."""

import gzip
import json
import re
import time
import uuid
from decimal import Decimal

import httpx
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.browser.conftest import Watched
from tests.launched import Launched

JS_BUDGET = 80_000  # bytes of JavaScript transferred, compressed


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
        # Half the best bid: resting, and inside PERCENT_PRICE_BY_SIDE (0.2x to 5x the average).
        deadline = time.monotonic() + 30
        while not (bids := web.get("/api/v3/depth", params={"symbol": "BTCUSDT", "limit": 5}).json()["bids"]):
            assert time.monotonic() < deadline, "no bids: the market simulation is not quoting"
            time.sleep(0.5)
        price = (Decimal(bids[0][0]) / 2).quantize(Decimal("0.01"))
        with connect(f"{ws_base}/ws/{key}", open_timeout=10) as stream:
            order = web.post(
                "/api/v3/order",
                data={
                    "symbol": "BTCUSDT",
                    "side": "BUY",
                    "type": "LIMIT",
                    "timeInForce": "GTC",
                    "quantity": "0.01000",
                    "price": str(price),
                },
            ).json()
            assert order.get("status") == "NEW", (order, str(price))
            deadline = time.monotonic() + 10
            while True:
                event = json.loads(stream.recv(timeout=max(0.1, deadline - time.monotonic())))
                if event.get("e") == "executionReport":
                    break
        assert (event["i"], event["X"], event["s"]) == (order["orderId"], "NEW", "BTCUSDT")


def test_text_assets_are_sent_compressed_when_accepted(exchange: Launched) -> None:
    base = exchange.field("Web page")
    with httpx.Client(base_url=base, timeout=10) as client:
        index = client.get("/", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in index.headers
        script = re.search(r'src="(/assets/[^"]+\.js)"', index.text)
        assert script
        plain = client.get(script.group(1), headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers and plain.headers["vary"] == "Accept-Encoding"
        for accept, coding in (("gzip, deflate, br", "br"), ("gzip", "gzip"), ("br;q=0, gzip;q=0.8", "gzip")):
            with client.stream("GET", script.group(1), headers={"Accept-Encoding": accept}) as sent:
                body = b"".join(sent.iter_raw())
                assert sent.headers["content-encoding"] == coding, accept
                assert sent.headers["vary"] == "Accept-Encoding"
                assert "javascript" in sent.headers["content-type"]
                assert sent.headers["cache-control"] == "public, max-age=31536000, immutable"
                assert len(body) == int(sent.headers["content-length"]) < JS_BUDGET
                if coding == "gzip":
                    assert gzip.decompress(body) == plain.content
        page = client.get("/trade/BTCUSDT", headers={"Accept-Encoding": "gzip"})
        assert page.headers["content-encoding"] == "gzip" and page.text == index.text
        print(f"JS {len(plain.content)} B, gzip {int(sent.headers['content-length'])} B")


def test_the_browser_receives_the_javascript_compressed(web: Watched) -> None:
    page = web.page
    page.goto("/trade/BTCUSDT")
    expect(page.get_by_role("group", name="Bids").get_by_role("button").first).to_be_visible()
    scripts = page.evaluate(
        """() => performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation"))
          .filter(e => e.name.endsWith(".js"))
          .map(e => ({ transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize }))"""
    )
    assert scripts, "no script loaded"
    transferred = sum(s["transfer"] for s in scripts)
    assert all(s["encoded"] < s["decoded"] for s in scripts), scripts
    assert 0 < transferred < JS_BUDGET, scripts
    print(f"JS transferred to the browser: {transferred} B ({sum(s['decoded'] for s in scripts)} B decoded)")
