"""Pre-signed LIMIT orders over several markets for the cluster benchmark (bench.cluster_bench):
each market's orders are priced around its own mid in its own ticks, half of them crossing, with a
quantity just above the market's minimum notional, so every one is valid in every market of
markets.toml."""

import hashlib
import hmac
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlencode

from tests.client import Trader


@dataclass(frozen=True)
class MarketOrders:
    """How one market's bench orders look: mid price, tick size and quantity (decimal strings)."""

    symbol: str
    mid: str
    tick: str
    quantity: str


MARKETS = (
    MarketOrders("BTCUSDT", "30000", "0.01", "0.0002"),
    MarketOrders("ETHUSDT", "2000", "0.01", "0.003"),
    MarketOrders("SOLUSDT", "100", "0.01", "0.06"),
    MarketOrders("ETHBTC", "0.05", "0.00001", "0.01"),
)
# Demo funds of every bench trader: enough that no order is refused for its balance in a long run.
FUNDS = "USDT=10000000,BTC=10000,ETH=100000,SOL=1000000"


def price(market: MarketOrders, ticks_from_mid: int) -> str:
    """The mid moved by `ticks_from_mid` ticks, as a decimal string without exponent."""
    value = Decimal(market.mid) + ticks_from_mid * Decimal(market.tick)
    return f"{value:f}"


def signed_orders(
    traders: list[Trader], markets: tuple[MarketOrders, ...], count: int, seed: int = 5
) -> list[str]:
    """`count` lines "apikey body" for bench/wrk_orders.lua, timestamps now, valid for 60 s:
    order i goes to market i mod len(markets) (every market gets the same share), sells at 2
    ticks below to 20 above the mid, buys at 20 below to 2 above (some cross)."""
    rng = random.Random(seed)
    now = str(int(time.time() * 1000))
    lines = []
    for i in range(count):
        trader = traders[i % len(traders)]
        market = markets[i % len(markets)]
        side = "BUY" if (i // len(markets)) % 2 else "SELL"
        offset = rng.randint(-20, 2) if side == "BUY" else rng.randint(-2, 20)
        params = {"symbol": market.symbol, "side": side, "type": "LIMIT", "timeInForce": "GTC",
                  "price": price(market, offset), "quantity": market.quantity, "newClientOrderId": f"c{i}",
                  "newOrderRespType": "RESULT", "recvWindow": "60000", "timestamp": now}  # fmt: skip
        query = urlencode(params)
        signature = hmac.new(trader.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
        lines.append(f"{trader.api_key} {query}&signature={signature}")
    return lines
