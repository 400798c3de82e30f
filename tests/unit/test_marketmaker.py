"""The market maker's pure parts (signature, rules from exchangeInfo, the ladder on its grid,
inventory skew) and its quoting loop against an in-memory gateway that fails now and then."""

import asyncio
import random
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import httpx
from hypothesis import assume, given
from hypothesis import strategies as st

from botkit.client import ExchangeClient, sign
from botkit.inventory import Inventory
from botkit.ladder import BUY, SELL, LadderShape, RandomWalk, level_prices, level_steps, skew_bps
from botkit.quoter import MarketQuoter, QuoterConfig
from botkit.rules import MarketRules, rules_from_exchange_info
from botkit.stats import Stats
from exchange_core.markets import load_markets
from gateway.routes.public import symbol_info


def rules(symbol: str) -> MarketRules:
    return rules_from_exchange_info(symbol_info(load_markets()[symbol]))


def shape(levels: int = 12, spacing: int = 50, spread_bps: float = 10.0) -> LadderShape:
    return LadderShape(
        levels, spread_bps, spacing, size_multiplier=20, size_growth_pct=25, size_jitter_pct=20
    )


def test_signature_matches_binance_documentation_example() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    query = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert sign(secret, query) == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_rules_come_from_the_gateways_exchange_info_and_format_exactly() -> None:
    btc = rules("BTCUSDT")
    assert (btc.tick, btc.step, btc.min_notional) == (Decimal("0.01"), Decimal("0.00001"), Decimal("5"))
    assert btc.price_text(6_500_000) == "65000.00000000"
    assert btc.qty_text(3) == "0.00003000"
    assert btc.ticks_exact("65000.01000000") == 6_500_001
    ethbtc = rules("ETHBTC")
    assert ethbtc.price_text(4_900) == "0.04900000"
    steps = ethbtc.steps_for_notional(4_900, ethbtc.min_notional)
    assert ethbtc.notional(4_900, steps) >= ethbtc.min_notional > ethbtc.notional(4_900, steps - 1)


@given(
    fair=st.floats(min_value=100, max_value=1e8),
    spacing=st.integers(min_value=1, max_value=5_000),
    spread=st.floats(min_value=0.1, max_value=500),
)
def test_ladder_is_on_the_grid_with_bids_below_asks(fair: float, spacing: int, spread: float) -> None:
    assume(spacing * 100 <= fair)  # the spacing is a few bps of the price, never most of it
    bids, asks = level_prices(fair, shape(spacing=spacing, spread_bps=spread), max_ticks=10**12)
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert all(p % spacing == 0 and p > 0 for p in bids + asks)
    assert len(asks) == 12 and all(b < fair < a for b in bids[:1] for a in asks[:1])
    assert asks[0] - bids[0] >= fair * spread / 10_000


def test_a_move_inside_a_grid_cell_changes_no_quote_and_a_spacing_shifts_one_level() -> None:
    s = shape(spacing=100, spread_bps=10)  # half the spread: about 500 ticks
    first = level_prices(1_000_010.0, s, 10**9)
    assert level_prices(1_000_080.0, s, 10**9) == first
    bids, asks = level_prices(1_000_110.0, s, 10**9)
    assert bids[1:] == first[0][:-1] and asks[:-1] == first[1][1:]


def test_level_sizes_grow_outwards_and_respect_min_notional_and_step() -> None:
    sol = rules("SOLUSDT")
    no_jitter = LadderShape(12, 10, 8, size_multiplier=20, size_growth_pct=25, size_jitter_pct=0)
    sizes = [level_steps(sol, 15_000, level, no_jitter, random.Random(1)) for level in range(12)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert all(sol.notional(15_000, s) >= sol.min_notional * 20 for s in sizes)


def test_skew_leans_against_the_inventory() -> None:
    assert skew_bps(Decimal(110), Decimal(100), 20, 20) == -10.0  # long: quote lower
    assert skew_bps(Decimal(50), Decimal(100), 20, 20) == 20.0  # short beyond the range: capped
    assert skew_bps(Decimal(5), Decimal(0), 20, 20) == 0.0
    inventory = Inventory(20, 20)
    inventory.update({"balances": [{"asset": "BTC", "free": "1", "locked": "0"}]})
    inventory.update({"balances": []})
    assert inventory.skew_bps("BTC") == 20.0


def test_random_walk_is_seeded() -> None:
    a, b = RandomWalk(100.0, 5, random.Random("s")), RandomWalk(100.0, 5, random.Random("s"))
    assert [a.advance(1) for _ in range(5)] == [b.advance(1) for _ in range(5)]
    assert RandomWalk(100.0, 0, random.Random(1)).advance(10) == 100.0


class FakeGateway:
    """Open orders in memory, behind a gateway that fails its first requests in every way a real
    one can: refused connections, 503s, and a 200 with a body missing its fields."""

    def __init__(self) -> None:
        self.failures = ["connect", "503", "garbage", "connect"]
        self.orders: dict[int, dict[str, str]] = {}
        self.sent: list[dict[str, str]] = []
        self.next_id = 1

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.failures:
            failure = self.failures.pop(0)
            if failure == "connect":
                raise httpx.ConnectError("refused", request=request)
            if failure == "503":
                return httpx.Response(503, json={"code": -1001, "msg": "Internal error; unable to process."})
            return httpx.Response(200, json={})
        raw = request.url.query.decode() if request.method != "POST" else request.content.decode()
        params = dict(parse_qsl(raw))
        return httpx.Response(200, json=self._answer(request.method, request.url.path, params))

    def _answer(self, method: str, path: str, params: dict[str, str]) -> Any:
        if (method, path) == ("POST", "/api/v3/order"):
            self.sent.append(params)
            if params["type"] == "MARKET":
                return {"orderId": 0, "fills": []}
            self.orders[self.next_id] = params
            self.next_id += 1
            return {"orderId": self.next_id - 1}
        if (method, path) == ("DELETE", "/api/v3/order"):
            self.orders.pop(int(params["orderId"]))
            return {}
        if path == "/api/v3/openOrders":
            rows = [{"orderId": i, "side": o["side"], "price": o["price"], "origQty": o["quantity"]}
                    for i, o in self.orders.items()]  # fmt: skip
            if method == "DELETE":
                self.orders.clear()
            return rows
        raise AssertionError(f"unexpected {method} {path}")


async def test_quoting_survives_gateway_failures_and_withdraws_everything() -> None:
    gateway = FakeGateway()
    client = ExchangeClient("http://gateway", "k" * 64, "s" * 64, transport=httpx.MockTransport(gateway))
    market = rules("BTCUSDT")
    config = QuoterConfig(5, 10.0, 5.0, 20, 25, 20, 0.2, 0.1, 3, 4)
    walk = RandomWalk(market.ticks_of(Decimal(65000)), 2.0, random.Random(1))
    quoter = MarketQuoter(client, market, walk, config, Inventory(20, 20), Stats(), random.Random(2))
    stop = asyncio.Event()
    task = asyncio.create_task(quoter.run(stop, requote_seconds=0.05, max_backoff_s=0.1))
    for _ in range(100):
        await asyncio.sleep(0.05)
        sides = [o["side"] for o in gateway.orders.values()]
        if sides.count(BUY) == 5 and sides.count(SELL) == 5 and quoter.stats.takers:
            break
    stop.set()
    await task
    sides = [o["side"] for o in gateway.orders.values()]
    assert sides.count(BUY) == 5 and sides.count(SELL) == 5
    assert quoter.stats.unavailable >= 3 and quoter.stats.takers >= 1
    for params in gateway.sent:
        assert Decimal(params["quantity"]) % market.step == 0
        if params["type"] == "LIMIT_MAKER":
            assert Decimal(params["price"]) % market.tick == 0
    assert await quoter.withdraw() == 0 and gateway.orders == {}
    await client.aclose()
