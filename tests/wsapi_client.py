"""A minimal client of the WebSocket API (/ws-api/v3) for tests and the benchmark: requests by id,
answers matched to them, SIGNED parameters as Binance specifies them (the real-client tests use
ccxt.pro and python-binance)."""

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


def sign(api_key: str, secret: str, params: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """`params` with apiKey and timestamp (unless given) and the HMAC-SHA256 signature of the
    parameters sorted by name as `name=value&...`; `overrides` replace values after signing."""
    signed = {"apiKey": api_key, "timestamp": int(time.time() * 1000), **params}
    payload = "&".join(f"{k}={_text(v)}" for k, v in sorted(signed.items()))
    signed["signature"] = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    signed.update(overrides)
    return signed


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class WsApiClient:
    """One connection; `call` sends a request and returns its whole answer (a dict)."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.ids = itertools.count(1)
        self.pending: dict[Any, asyncio.Future[dict[str, Any]]] = {}
        self.unmatched: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str) -> "WsApiClient":
        return cls(await connect(url, max_size=None))

    async def _read(self) -> None:
        async for raw in self.conn:
            message = json.loads(raw)
            future = self.pending.pop(message.get("id"), None)
            if future is None or future.done():
                self.unmatched.append(message)
            else:
                future.set_result(message)

    async def send_raw(self, frame: str) -> None:
        await self.conn.send(frame)

    async def next_unmatched(self, timeout: float = 10.0) -> dict[str, Any]:
        """The oldest answer no call waited for (an answer to a raw frame)."""
        deadline = time.monotonic() + timeout
        while not self.unmatched:
            if time.monotonic() > deadline:
                raise TimeoutError("no answer")
            await asyncio.sleep(0.01)
        return self.unmatched.pop(0)

    async def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        request_id = next(self.ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        body: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            body["params"] = params
        await self.conn.send(json.dumps(body))
        return await asyncio.wait_for(future, timeout)

    async def close(self) -> None:
        await self.conn.close()
        self.reader.cancel()


async def user_data_client(http_url: str, api_key: str, secret: str) -> WsApiClient:
    """A connection to the WebSocket API of the stack at `http_url`, subscribed to the key's user
    data stream (userDataStream.subscribe.signature): its events come out of `next_unmatched`."""
    client = await WsApiClient.open(http_url.replace("http://", "ws://") + "/ws-api/v3")
    answer = await client.call("userDataStream.subscribe.signature", sign(api_key, secret, {}))
    if answer["status"] != 200:
        await client.close()
        raise AssertionError(f"userDataStream.subscribe.signature refused: {answer}")
    return client
