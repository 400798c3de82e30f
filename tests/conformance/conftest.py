"""One stack for the conformance suite: every market, the WebSocket tier, the DB processor (for
klines and trade history) and the market maker (books with both sides), on a database of the
session's own; a trade on BTCUSDT and ETHUSDT before the first test, so that every market-data
method has something to show."""

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from launcher.stack import Stack, running_stack
from tests import services
from tests.client import Trader, sign_up
from tests.keypairs import ed25519_pair

TRADED = ["BTCUSDT", "ETHUSDT"]


@dataclass
class Venue:
    stack: Stack

    @property
    def ws_api_url(self) -> str:
        return self.stack.url.replace("http://", "ws://") + "/ws-api/v3"

    def trader(self) -> Trader:
        """A new user with demo funds (USDT=10000, BTC=0.5, ETH=5, SOL=50) and an HMAC key."""
        return sign_up(self.stack.url)

    def ed25519_key(self) -> tuple[str, str]:
        """(api key, private key PEM) of a new user (demo funds) whose key is an Ed25519 one,
        registered as on Binance: the public key pasted on the web page."""
        pair = ed25519_pair()
        web = httpx.Client(base_url=self.stack.url, timeout=30)
        try:
            email = f"u{uuid.uuid4().hex[:12]}@example.com"
            web.post(
                "/api/web/signup", json={"email": email, "password": "correct horse battery"}
            ).raise_for_status()
            body = {"label": "ed25519", "keyType": pair.key_type, "publicKey": pair.public_pem}
            made = web.post("/api/web/apikeys", json=body, headers={"X-Requested-With": "exchange-web"})
            made.raise_for_status()
            return str(made.json()["apiKey"]), pair.private_pem
        finally:
            web.close()


def wait_for_quotes(url: str, symbols: list[str], seconds: float = 60.0) -> None:
    """Until the market maker quotes both sides of every market in `symbols`."""
    deadline = time.monotonic() + seconds
    while True:
        books = [
            httpx.get(f"{url}/api/v3/depth", params={"symbol": s, "limit": 5}, timeout=10).json()
            for s in symbols
        ]
        if all(book.get("bids") and book.get("asks") for book in books):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"no two-sided quotes after {seconds} s: {books}")
        time.sleep(0.5)


@pytest.fixture(scope="session")
def venue() -> Iterator[Venue]:
    services.ensure_postgres()
    services.ensure_redis()
    dsn = asyncio.run(services.create_test_database())
    prefix = services.new_prefix()
    try:
        with running_stack(dsn, prefix, with_ws=True, with_dbwriter=True, with_marketmaker=True) as stack:
            wait_for_quotes(stack.url, TRADED)
            taker = sign_up(stack.url)
            for symbol, qty in (("BTCUSDT", "0.001"), ("ETHUSDT", "0.01")):
                taker.call("POST", "/api/v3/order", symbol=symbol, side="BUY", type="MARKET", quantity=qty)
            yield Venue(stack)
    finally:
        asyncio.run(services.delete_prefix(prefix))
        asyncio.run(services.drop_test_database(dsn))
