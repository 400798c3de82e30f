"""A small Binance-style REST client: SIGNED requests (HMAC-SHA256 over the query string or form
body) with httpx.AsyncClient, and the two kinds of failure a bot must tell apart."""

import hashlib
import hmac
from typing import Any
from urllib.parse import urlencode

import httpx

from exchange_core.clock import now_ms

API_KEY_HEADER = "X-MBX-APIKEY"
RECV_WINDOW_MS = 10_000
# Binance codes meaning "the server could not answer", not "your request is wrong".
TRANSIENT_CODES = frozenset({-1000, -1001, -1003, -1006, -1007})

Params = dict[str, str | int]


class GatewayUnavailable(Exception):
    """No usable answer: connection error, timeout, 5xx, 429, or a Binance "try again" code.

    A request that failed this way may still have taken effect (an order may exist)."""


class ApiRejection(Exception):
    """The gateway refused the request (4xx with Binance's {"code", "msg"})."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg


def sign(secret: str, payload: str) -> str:
    """Binance's signature: hex HMAC-SHA256 of `payload` (the url-encoded parameters) with `secret`."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_payload(secret: str, params: Params, timestamp_ms: int) -> str:
    """`params` + timestamp + recvWindow, url-encoded in this order, then `&signature=...`."""
    query = urlencode({**params, "timestamp": timestamp_ms, "recvWindow": RECV_WINDOW_MS})
    return f"{query}&signature={sign(secret, query)}"


class ExchangeClient:
    """Public and SIGNED calls to one gateway. Parameters travel in the query string for GET and
    DELETE, in a form-encoded body for POST (as python-binance and ccxt send them)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        secret: str,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_key = api_key
        self.secret = secret
        self.clock_offset_ms = 0
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    def server_now_ms(self) -> int:
        """The server's clock as far as we know it (local clock + the offset measured by sync_clock)."""
        return now_ms() + self.clock_offset_ms

    async def sync_clock(self) -> None:
        """Measure the offset to the server's clock (GET /api/v3/time), so timestamps pass recvWindow."""
        before = now_ms()
        body = await self.public("/api/v3/time")
        after = now_ms()
        self.clock_offset_ms = int(body["serverTime"]) - (before + after) // 2

    async def public(self, path: str, params: Params | None = None) -> Any:
        """GET a public endpoint; the decoded JSON. Raises GatewayUnavailable or ApiRejection."""
        return await self._send("GET", path, params=params or {})

    async def signed(self, method: str, path: str, params: Params | None = None) -> Any:
        """A SIGNED request; the decoded JSON. Raises GatewayUnavailable or ApiRejection."""
        payload = signed_payload(self.secret, params or {}, self.server_now_ms())
        headers = {API_KEY_HEADER: self.api_key}
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            return await self._send(method, path, content=payload, headers=headers)
        return await self._send(method, f"{path}?{payload}", headers=headers)

    async def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"{method} {url.split('?')[0]}: {exc!r}") from exc
        return decode(response)


def decode(response: httpx.Response) -> Any:
    """The JSON of a 200 answer; otherwise raises GatewayUnavailable or ApiRejection."""
    where = f"{response.request.method} {response.request.url.path}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and body is not None:
        return body
    code = body.get("code") if isinstance(body, dict) else None
    msg = str(body.get("msg", "")) if isinstance(body, dict) else response.text[:200]
    if response.status_code >= 500 or response.status_code == 429 or code in TRANSIENT_CODES:
        raise GatewayUnavailable(f"{where}: {response.status_code} {code} {msg}")
    if not isinstance(code, int):
        raise ApiRejection(response.status_code, 0, msg or response.text[:200])
    raise ApiRejection(response.status_code, code, msg)
