"""Locust scenarios against a running exchange (`python -m load` starts one and runs these).

- Trader: signs up, then places, cancels and queries orders with signed REST requests at a
  realistic mix (about half of its requests place orders, some of them crossing).
- MarketDataReader: depth, klines, 24h tickers, prices, book tickers, recent trades.
- WsSubscriber: holds one combined-stream socket (trades, depth diffs, ticker) and reports the
  delivery latency of every trade (trade time T, set when its order entered the journal, to
  arrival) as request type "WS", name "trade delivery", and every (re)connection as "WS
  connect".

Environment: LOAD_WS_URL (default: the host's port + 1), LOAD_SYMBOLS (BTCUSDT,ETHUSDT),
LOAD_ACCOUNTS (see ACCOUNTS), LOAD_SUMMARY (a file: the count of 5xx answers by request) and
LOAD_OUTCOMES (a directory): each locust process writes there the
HTTP status and time of every order it placed, by client order id, and when each client last
succeeded, for the fault tests to check against the journals.
"""

import hashlib
import hmac
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import websocket  # websocket-client: plain sockets, which gevent makes cooperative
from locust import FastHttpUser, User, between, events, task

SYMBOLS = os.environ.get("LOAD_SYMBOLS", "BTCUSDT,ETHUSDT").split(",")
# client order id -> (HTTP status, when sent); client -> when it last succeeded (fault tests).
OUTCOMES: dict[str, tuple[int, float]] = {}
LAST_OK: dict[str, float] = {}
PASSWORD = "correct horse battery"
# Accounts made beforehand (LOAD_ACCOUNTS: a JSON list of [api key, secret]), so that sign-ups
# (Argon2 hashing) are not part of the measured run; without it every trader signs up.
ACCOUNTS: list[list[str]] = (
    json.loads(Path(os.environ["LOAD_ACCOUNTS"]).read_text()) if os.environ.get("LOAD_ACCOUNTS") else []
)


def ws_url(host: str) -> str:
    explicit = os.environ.get("LOAD_WS_URL")
    if explicit:
        return explicit
    parts = urlsplit(host)
    return f"ws://{parts.hostname}:{(parts.port or 80) + 1}"


SERVER_ERRORS: dict[str, int] = {}


@events.request.add_listener
def count_server_errors(request_type: str, name: str, response: Any = None, **_: Any) -> None:
    """Every 5xx answer, by request: LOAD_SUMMARY gets the counts."""
    status = getattr(response, "status_code", 0) or 0
    if status >= 500:
        key = f"{request_type} {name}"
        SERVER_ERRORS[key] = SERVER_ERRORS.get(key, 0) + 1


@events.quitting.add_listener
def write_summary(**_: Any) -> None:
    path = os.environ.get("LOAD_SUMMARY")
    if path:
        Path(path).write_text(json.dumps({"server_errors": SERVER_ERRORS}))


@events.quitting.add_listener
def write_outcomes(**_: Any) -> None:
    folder = os.environ.get("LOAD_OUTCOMES")
    if folder:
        path = os.path.join(folder, f"outcomes-{os.getpid()}.json")
        with open(path, "w") as fh:
            json.dump({"orders": OUTCOMES, "last_ok": LAST_OK}, fh)


class Trader(FastHttpUser):
    weight = 4
    wait_time = between(0.05, 0.4)

    def on_start(self) -> None:
        if ACCOUNTS:
            self.api_key, secret = ACCOUNTS.pop()
            self.secret = secret.encode()
        else:
            self.sign_up()
        self.open: list[tuple[str, int]] = []
        self.mid: dict[str, float] = {}
        self.sequence = 0
        self.tag = uuid.uuid4().hex[:8]

    def sign_up(self) -> None:
        email = f"load{uuid.uuid4().hex[:12]}@example.com"
        self.client.post(
            "/api/web/signup", json={"email": email, "password": PASSWORD}, name="/api/web/signup"
        )
        key = self.client.post(
            "/api/web/apikeys", json={"label": "load"}, headers={"X-Requested-With": "exchange-web"},
            name="/api/web/apikeys",
        ).json()  # fmt: skip
        self.api_key, self.secret = key["apiKey"], key["secretKey"].encode()
        self.client.cookiejar.clear()  # from here on, only signed requests

    def signed(self, method: str, path: str, name: str, catch: bool = False, **params: Any) -> Any:
        """A SIGNED request: parameters in the form body for POST, else in the query string;
        `catch` returns locust's response context (the caller decides success)."""
        params["timestamp"] = int(time.time() * 1000)
        query = urlencode(params)
        signature = hmac.new(self.secret, query.encode(), hashlib.sha256).hexdigest()
        body = f"{query}&signature={signature}"
        headers = {"X-MBX-APIKEY": self.api_key}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return self.client.request(
                method, path, data=body, headers=headers, name=name, catch_response=catch
            )
        return self.client.request(method, f"{path}?{body}", headers=headers, name=name, catch_response=catch)

    def mid_price(self, symbol: str) -> float:
        if symbol not in self.mid or random.random() < 0.1:
            ticker = self.client.get(
                f"/api/v3/ticker/bookTicker?symbol={symbol}", name="/api/v3/ticker/bookTicker"
            ).json()
            bid, ask = float(ticker.get("bidPrice") or 0), float(ticker.get("askPrice") or 0)
            default = {"BTCUSDT": 65_000.0, "ETHUSDT": 3_200.0}.get(symbol, 100.0)
            self.mid[symbol] = (bid + ask) / 2 if bid and ask else self.mid.get(symbol, default)
        return self.mid[symbol]

    @task(10)
    def place_order(self) -> None:
        symbol = random.choice(SYMBOLS)
        mid = self.mid_price(symbol)
        side = random.choice(["BUY", "SELL"])
        crossing = random.random() < 0.2
        offset = (0.001 if crossing else -random.uniform(0.0005, 0.01)) * mid
        price = mid + offset if side == "BUY" else mid - offset
        quantity = 15 / price  # about 15 USDT: above minNotional, small against demo funds
        step = {"BTCUSDT": 5, "ETHUSDT": 4}.get(symbol, 3)
        self.sequence += 1
        cid = f"ld-{self.tag}-{self.sequence}"
        sent = time.time()
        response = self.signed(
            "POST", "/api/v3/order", "/api/v3/order", symbol=symbol, side=side, type="LIMIT",
            timeInForce="IOC" if crossing else "GTC", price=f"{price:.2f}",
            quantity=f"{quantity:.{step}f}", newClientOrderId=cid,
        )  # fmt: skip
        OUTCOMES[cid] = (response.status_code, sent)
        if response.status_code == 200:
            LAST_OK[f"trader-{self.tag}"] = time.time()
            body = response.json()
            if body.get("status") in ("NEW", "PARTIALLY_FILLED"):
                self.open.append((symbol, body["orderId"]))

    @task(5)
    def cancel_order(self) -> None:
        if not self.open:
            return
        symbol, order_id = self.open.pop(random.randrange(len(self.open)))
        with self.signed(
            "DELETE", "/api/v3/order", "/api/v3/order", catch=True, symbol=symbol, orderId=order_id
        ) as response:
            if response.status_code == 400 and response.json().get("code") == -2011:
                response.success()  # filled meanwhile: the answer Binance gives

    @task(3)
    def query_order(self) -> None:
        if self.open:
            symbol, order_id = random.choice(self.open)
            self.signed("GET", "/api/v3/order", "/api/v3/order", symbol=symbol, orderId=order_id)

    @task(2)
    def open_orders(self) -> None:
        self.signed("GET", "/api/v3/openOrders", "/api/v3/openOrders", symbol=random.choice(SYMBOLS))

    @task(1)
    def account(self) -> None:
        self.signed("GET", "/api/v3/account", "/api/v3/account")


class MarketDataReader(FastHttpUser):
    weight = 2
    wait_time = between(0.1, 0.5)

    def on_start(self) -> None:
        self.name = f"reader-{uuid.uuid4().hex[:8]}"

    def read(self, path: str) -> None:
        """GET `path` (query included), reported under the path alone."""
        response = self.client.get(path, name=path.split("?", 1)[0])
        if response.status_code == 200:
            LAST_OK[self.name] = time.time()

    @task(4)
    def depth(self) -> None:
        self.read(f"/api/v3/depth?symbol={random.choice(SYMBOLS)}&limit=100")

    @task(2)
    def klines(self) -> None:
        interval = random.choice(["1m", "5m", "1h"])
        self.read(f"/api/v3/klines?symbol={random.choice(SYMBOLS)}&interval={interval}&limit=100")

    @task(2)
    def ticker_24h(self) -> None:
        self.read(f"/api/v3/ticker/24hr?symbol={random.choice(SYMBOLS)}")

    @task(1)
    def prices(self) -> None:
        self.read("/api/v3/ticker/price")

    @task(1)
    def trades(self) -> None:
        self.read(f"/api/v3/trades?symbol={random.choice(SYMBOLS)}&limit=50")


class WsSubscriber(User):
    weight = 1
    wait_time = between(0, 0)

    def on_start(self) -> None:
        symbol = random.choice(SYMBOLS).lower()
        streams = f"{symbol}@trade/{symbol}@depth@100ms/{symbol}@ticker"
        self.url = f"{ws_url(self.host)}/stream?streams={streams}"
        self.conn: websocket.WebSocket | None = None
        self.name = f"ws-{uuid.uuid4().hex[:8]}"

    def on_stop(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def fire(
        self, name: str, started: float, latency_ms: float, length: int, error: Exception | None
    ) -> None:
        self.environment.events.request.fire(
            request_type="WS", name=name, response_time=latency_ms, response_length=length,
            exception=error, context={}, start_time=started,
        )  # fmt: skip

    @task
    def receive(self) -> None:
        if self.conn is None:
            started = time.time()
            try:
                self.conn = websocket.create_connection(self.url, timeout=10)
                self.fire("connect", started, (time.time() - started) * 1000, 0, None)
            except Exception as exc:  # refused, reset: reported, then retried
                self.fire("connect", started, (time.time() - started) * 1000, 0, exc)
                time.sleep(1.0)
            return
        try:
            raw = self.conn.recv()
        except Exception as exc:  # closed by the server or the network: reconnect
            self.fire("receive", time.time(), 0, 0, exc)
            self.conn = None
            return
        now = time.time()
        LAST_OK[self.name] = now
        message = json.loads(raw)
        data = message.get("data", {})
        if data.get("e") == "trade":
            self.fire("trade delivery", now, max(0.0, now * 1000 - data["T"]), len(raw), None)
