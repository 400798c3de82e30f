"""`python -m launcher.smoke`: does a deployed exchange answer? (the chart's `helm test`)

Against GATEWAY_URL and WS_URL: the gateway answers /api/v3/ping; /api/v3/exchangeInfo lists
exactly the markets of the registry (MARKETS_FILE); every market's /api/v3/depth answers; the
WebSocket tier acknowledges a SUBSCRIBE to every market's bookTicker as Binance does. Prints one
line per check passed; exit code 0 when all pass, else 1 with the failure on stderr.
"""

import asyncio
import sys
from pathlib import Path

import httpx
import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from exchange_core.config import CommonSettings
from exchange_core.markets import load_markets


class SmokeSettings(CommonSettings):
    gateway_url: str = "http://127.0.0.1:8000"
    ws_url: str = "ws://127.0.0.1:8001"
    timeout_seconds: float = 10.0


class SmokeFailed(Exception):
    """A check failed; the message says which and what was seen."""


async def check_gateway(client: httpx.AsyncClient, symbols: list[str]) -> None:
    (await client.get("/api/v3/ping")).raise_for_status()
    print("gateway answers /api/v3/ping")
    info = (await client.get("/api/v3/exchangeInfo")).raise_for_status().json()
    listed = sorted(s["symbol"] for s in info["symbols"])
    if listed != sorted(symbols):
        raise SmokeFailed(f"exchangeInfo lists {listed}, the registry {sorted(symbols)}")
    print(f"exchangeInfo lists the {len(symbols)} markets of the registry")
    for symbol in symbols:
        depth = (await client.get("/api/v3/depth", params={"symbol": symbol, "limit": 5})).raise_for_status()
        if "lastUpdateId" not in depth.json():
            raise SmokeFailed(f"depth of {symbol} has no lastUpdateId: {depth.text[:200]}")
    print("depth answers for every market")


async def check_ws(url: str, symbols: list[str], timeout_s: float) -> None:
    streams = [f"{symbol.lower()}@bookTicker" for symbol in symbols]
    async with connect(f"{url.rstrip('/')}/ws", open_timeout=timeout_s) as ws:
        await ws.send(orjson.dumps({"method": "SUBSCRIBE", "params": streams, "id": 1}).decode())
        while True:  # market data may arrive before the acknowledgement
            message = orjson.loads(await asyncio.wait_for(ws.recv(), timeout_s))
            if message.get("id") == 1:
                break
    if message != {"result": None, "id": 1}:
        raise SmokeFailed(f"SUBSCRIBE was answered {message}")
    print(f"WebSocket tier acknowledges SUBSCRIBE to {len(streams)} streams")


async def smoke(settings: SmokeSettings) -> None:
    """Run every check; raises at the first failure (SmokeFailed, or the client's error)."""
    markets = load_markets(Path(settings.markets_file) if settings.markets_file else None)
    symbols = list(markets)
    async with httpx.AsyncClient(base_url=settings.gateway_url, timeout=settings.timeout_seconds) as client:
        await check_gateway(client, symbols)
    await check_ws(settings.ws_url, symbols, settings.timeout_seconds)


def main() -> int:
    try:
        asyncio.run(smoke(SmokeSettings()))
    except (SmokeFailed, httpx.HTTPError, WebSocketException, OSError, TimeoutError) as exc:
        print(f"smoke test failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("the exchange answers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
