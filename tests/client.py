"""A minimal Binance-style signed REST client for tests (the real-client tests use ccxt and
python-binance; this one keeps scenario tests short and exact)."""

import hashlib
import hmac
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx


class ApiFailure(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.code = body.get("code")
        self.msg = body.get("msg")


@dataclass
class Trader:
    url: str
    user_id: int
    api_key: str
    secret: str
    http: httpx.Client

    def call(self, method: str, path: str, **params: Any) -> Any:
        """A SIGNED request; parameters in the query string for GET/DELETE, the body for POST.
        Returns the JSON body of a 200 answer, raises ApiFailure for another."""
        response = self.request(method, path, **params)
        body = response.json()
        if response.status_code != 200:
            raise ApiFailure(response.status_code, body)
        return body

    def request(self, method: str, path: str, **params: Any) -> httpx.Response:
        """As call, the whole response."""
        params = {k: v for k, v in params.items() if v is not None}
        params["timestamp"] = int(time.time() * 1000)
        query = urlencode(params)
        signature = hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        signed = f"{query}&signature={signature}"
        headers = {"X-MBX-APIKEY": self.api_key}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return self.http.request(method, f"{self.url}{path}", content=signed, headers=headers)
        return self.http.request(method, f"{self.url}{path}?{signed}", headers=headers)

    def balances(self) -> dict[str, tuple[str, str]]:
        account = self.call("GET", "/api/v3/account")
        return {b["asset"]: (b["free"], b["locked"]) for b in account["balances"]}


def sign_up(url: str, http: httpx.Client | None = None) -> Trader:
    """A new user with demo funds and an API key."""
    http = http or httpx.Client(timeout=30)
    web = httpx.Client(base_url=url, timeout=30)
    email = f"u{uuid.uuid4().hex[:12]}@example.com"
    r = web.post("/api/web/signup", json={"email": email, "password": "correct horse battery"})
    r.raise_for_status()
    user_id = r.json()["userId"]
    r = web.post("/api/web/apikeys", json={"label": "test"}, headers={"X-Requested-With": "exchange-web"})
    r.raise_for_status()
    key = r.json()
    web.close()
    return Trader(url, user_id, key["apiKey"], key["secretKey"], http)


@dataclass
class AsyncTrader:
    """The async twin of Trader, for load: returns (status, body) instead of raising."""

    url: str
    user_id: int
    api_key: str
    secret: str
    http: httpx.AsyncClient

    @classmethod
    def of(cls, trader: Trader, http: httpx.AsyncClient) -> "AsyncTrader":
        return cls(trader.url, trader.user_id, trader.api_key, trader.secret, http)

    async def call(self, method: str, path: str, **params: Any) -> tuple[int, Any]:
        params = {k: v for k, v in params.items() if v is not None}
        params["timestamp"] = int(time.time() * 1000)
        query = urlencode(params)
        signature = hmac.new(self.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        signed = f"{query}&signature={signature}"
        headers = {"X-MBX-APIKEY": self.api_key}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            response = await self.http.request(method, f"{self.url}{path}", content=signed, headers=headers)
        else:
            response = await self.http.request(method, f"{self.url}{path}?{signed}", headers=headers)
        return response.status_code, response.json()
