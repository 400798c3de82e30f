"""ccxt's binance (sync) and ccxt.pro's binance with only their URLs moved from Binance's hosts to
the stack: no `options`, so load_markets, fetchCurrencies and every default call run as they do
against Binance (ccxt.pro's one change: `ccxt_pro_binance`)."""

import re
from typing import Any

import ccxt  # type: ignore[import-untyped]
import ccxt.pro  # type: ignore[import-untyped]

from launcher.stack import Stack
from tests.client import Trader


def moved(urls: dict[str, Any], rest: str, streams: str, ws_api: str) -> dict[str, Any]:
    """ccxt's urls['api'] with every Binance host replaced: REST hosts by `rest`, stream hosts by
    `streams` (the ws tier), WebSocket API hosts by `ws_api` (the gateway)."""
    out: dict[str, Any] = {}
    for name, url in urls.items():
        if isinstance(url, dict):
            out[name] = moved(url, rest, streams, ws_api)
        elif url.startswith("wss://ws-"):
            out[name] = re.sub(r"^wss://[^/]+", ws_api, url)
        elif url.startswith("wss://"):
            out[name] = re.sub(r"^wss://[^/]+", streams, url)
        else:
            out[name] = re.sub(r"^https://[^/]+", rest, url)
    return out


def ccxt_binance(stack: Stack, trader: Trader) -> ccxt.binance:
    exchange = ccxt.binance({"apiKey": trader.api_key, "secret": trader.secret})
    exchange.urls["api"] = moved(
        exchange.urls["api"], stack.url, stack.ws_url, stack.url.replace("http", "ws")
    )
    return exchange


def ccxt_pro_binance(stack: Stack, trader: Trader) -> Any:
    """ccxt.pro's binance on the stack, with its spot balance cache made before any subscription.

    ccxt's Python port reads `self.balance['spot']` with a plain dict lookup on every
    outboundAccountPosition, and creates that entry only after `userDataStream.subscribe.signature`
    has been answered and the awaiting coroutine resumed. When the answer and a balance event of an
    account that is trading arrive in one read, both are handled in one pass before the coroutine
    resumes: KeyError 'spot', which ends the connection's receive loop, and every user-data watch on
    that instance then times out (as it would on Binance). The empty entry is what ccxt would make.
    """
    exchange = ccxt.pro.binance({"apiKey": trader.api_key, "secret": trader.secret})
    exchange.urls["api"] = moved(
        exchange.urls["api"], stack.url, stack.ws_url, stack.url.replace("http", "ws")
    )
    exchange.balance["spot"] = {}
    return exchange
