"""The WebSocket tier against a real engine: 10,000 random orders go straight into
cmd:{BTCUSDT} (XADD of encoded commands) while clients listen.

- Binance's documented local order book procedure on `btcusdt@depth@100ms` (buffer, snapshot,
  drop what the snapshot holds, check U <= lastUpdateId + 1 <= u, then U = previous u + 1) ends
  with exactly the engine's book (depth:{BTCUSDT} after quiescence). The snapshot is read from
  depth:{BTCUSDT}, the key REST /api/v3/depth serves.
- `btcusdt@trade` carries exactly the Trade events of evt:{BTCUSDT}, in order, and
  `btcusdt@aggTrade` (same combined connection) their quantities, grouped by taker order.
"""

import asyncio
import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis

from exchange_core import store
from exchange_core.markets import load_markets
from exchange_core.protocol import decode_events, encode_command
from exchange_core.units import to_units
from matching import CancelOrder, OrderType, PlaceOrder, Side, StpMode, TimeInForce, Trade
from tests.e2e.wsutil import Collector, WsEnv, wait_subscribed, ws_with_engines

SYMBOL = "BTCUSDT"
ORDERS = 10_000
MARKET = load_markets()[SYMBOL]
SPEC = MARKET.spec


def random_commands(n: int, seed: int) -> list[bytes]:
    """Limit orders around 30,000 (at most 301 price levels), aggressive IOC orders and cancels
    (some of orders already gone: batches that change no level)."""
    rng = random.Random(seed)
    out: list[bytes] = []
    owner: dict[int, int] = {}
    for oid in range(1, n + 1):
        if owner and rng.random() < 0.2:
            victim = rng.choice(list(owner))
            out.append(encode_command(CancelOrder(SYMBOL, owner.pop(victim), victim, "")))
            continue
        user = rng.randint(1, 20)
        side = rng.choice((Side.BUY, Side.SELL))
        qty = rng.randint(1, 50) * SPEC.step_units * 10
        if rng.random() < 0.1:
            ticks, tif = (3_000_200 if side == Side.BUY else 2_999_800), TimeInForce.IOC
        else:
            ticks, tif = 3_000_000 + rng.randint(-150, 150), TimeInForce.GTC
            owner[oid] = user
        price = ticks * SPEC.tick_units
        reserve = SPEC.notional(price, qty) if side == Side.BUY else qty
        place = PlaceOrder(
            SYMBOL, oid, user, side, OrderType.LIMIT, tif, price, qty, 0, reserve, StpMode.NONE, f"c{oid}"
        )
        out.append(encode_command(place))
    return out


@dataclass
class DepthClient:
    """A local book kept by Binance's procedure; `checks` records what the procedure verified."""

    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    update_id: int = 0
    snapshot_reads: int = 0
    diffs_applied: int = 0
    first_diff: tuple[int, int, int] = (0, 0, 0)  # (U, lastUpdateId, u)

    def apply(self, event: dict[str, Any]) -> None:
        for side, levels in ((self.bids, event["b"]), (self.asks, event["a"])):
            for price, qty in levels:
                p, q = to_units(price, MARKET.quote.decimals), to_units(qty, MARKET.base.decimals)
                if q:
                    side[p] = q
                else:
                    side.pop(p, None)
        self.update_id = event["u"]
        self.diffs_applied += 1


async def follow_depth(
    url: str, redis: Redis, depth_key: str, book: DepthClient, stop: asyncio.Event
) -> None:
    async with asyncio.timeout(120):
        collector = await Collector.open(f"{url}/ws/btcusdt@depth@100ms")
        first = await collector.wait_for(lambda m: m.get("e") == "depthUpdate")
        while True:  # refetch until the snapshot is not older than the first buffered event
            book.snapshot_reads += 1
            snap = json.loads(await redis.get(depth_key) or b'{"lastUpdateId":0,"bids":[],"asks":[]}')
            if snap["lastUpdateId"] + 1 >= first["U"]:
                break
            await asyncio.sleep(0.02)
        last_id = snap["lastUpdateId"]
        book.bids = {p: q for p, q in snap["bids"]}
        book.asks = {p: q for p, q in snap["asks"]}
        book.update_id = last_id
        done = 0
        started = False
        while not (stop.is_set() and done == len(collector.messages)):
            await collector.wait_for(lambda m: True) if done == len(collector.messages) else None
            for event in collector.messages[done:]:
                done += 1
                if event["u"] <= last_id:
                    continue
                if not started:
                    assert event["U"] <= last_id + 1 <= event["u"], (event["U"], last_id, event["u"])
                    book.first_diff = (event["U"], last_id, event["u"])
                    started = True
                else:
                    assert event["U"] == book.update_id + 1, (event["U"], book.update_id)
                book.apply(event)
            if not stop.is_set():
                await asyncio.sleep(0.01)
        await collector.close()


@dataclass
class Outcome:
    depth: DepthClient
    engine_depth: dict[str, Any]
    last_seq: int
    trades: list[Trade]
    trade_messages: list[dict[str, Any]]
    agg_messages: list[dict[str, Any]]


async def run_flow(env: WsEnv) -> Outcome:
    redis = store.connect(env.redis_url)
    keys = env.keys
    commands = random_commands(ORDERS, seed=42)
    trades_client = await Collector.open(f"{env.ws_url}/stream?streams=btcusdt@trade/btcusdt@aggTrade")
    await wait_subscribed(redis, keys.market_data(SYMBOL))
    book = DepthClient()
    stop = asyncio.Event()
    depth_task: asyncio.Task[None] | None = None
    for i in range(0, len(commands), 50):
        pipe = redis.pipeline(transaction=False)
        for data in commands[i : i + 50]:
            pipe.xadd(keys.commands(SYMBOL), {"c": data})
        await pipe.execute()
        if i == 1_000:
            depth_task = asyncio.create_task(follow_depth(env.ws_url, redis, keys.depth(SYMBOL), book, stop))
        await asyncio.sleep(0.025)
    assert depth_task is not None
    deadline = time.monotonic() + 60
    while True:  # the engine has read and acked everything
        groups = await redis.xinfo_groups(keys.commands(SYMBOL))
        if groups and groups[0]["lag"] == 0 and groups[0]["pending"] == 0:
            break
        assert time.monotonic() < deadline, groups
        await asyncio.sleep(0.1)
    entries = await redis.xrange(keys.events(SYMBOL))
    events = [e for _, fields in entries for e in decode_events(fields[b"e"])[1]]
    last_seq = events[-1].seq
    while book.update_id < last_seq:
        assert time.monotonic() < deadline + 30, (book.update_id, last_seq)
        await asyncio.sleep(0.1)
    stop.set()
    await depth_task
    trades = [e for e in events if isinstance(e, Trade)]
    await trades_client.wait_for(lambda m: m["data"].get("t") == trades[-1].trade_id, timeout=30)
    await trades_client.wait_for(lambda m: m["data"].get("l") == trades[-1].trade_id, timeout=30)
    await trades_client.close()
    engine_depth = json.loads(await redis.get(keys.depth(SYMBOL)))
    await redis.aclose()
    messages = trades_client.messages
    return Outcome(
        book,
        engine_depth,
        last_seq,
        trades,
        [m["data"] for m in messages if m["stream"] == "btcusdt@trade"],
        [m["data"] for m in messages if m["stream"] == "btcusdt@aggTrade"],
    )


@pytest.fixture(scope="module")
def outcome(redis_url: str) -> Iterator[Outcome]:
    with ws_with_engines([SYMBOL]) as env:
        yield asyncio.run(run_flow(env))


def test_depth_stream_rebuilds_the_engine_book(outcome: Outcome) -> None:
    book = outcome.depth
    assert book.diffs_applied > 20
    assert book.update_id == outcome.last_seq
    engine = outcome.engine_depth
    assert book.bids == {p: q for p, q in engine["bids"]}
    assert book.asks == {p: q for p, q in engine["asks"]}
    assert len(engine["bids"]) < 1000 and len(engine["asks"]) < 1000  # the snapshot held the whole book
    assert engine["bids"] and engine["asks"]


def test_trade_stream_equals_the_trade_events(outcome: Outcome) -> None:
    assert len(outcome.trades) > 500
    got = [(m["t"], m["p"], m["q"], m["T"], m["m"]) for m in outcome.trade_messages]
    dec = MARKET.quote.decimals, MARKET.base.decimals
    want = [
        (t.trade_id, _dec(t.price, dec[0]), _dec(t.quantity, dec[1]), t.ts, t.taker_side == Side.SELL)
        for t in outcome.trades
    ]
    assert got == want
    assert all(m["e"] == "trade" and m["s"] == SYMBOL for m in outcome.trade_messages)


def test_agg_trades_group_the_trades(outcome: Outcome) -> None:
    aggs = outcome.agg_messages
    assert [a["f"] for a in aggs] == [a["a"] for a in aggs]
    covered = [i for a in aggs for i in range(a["f"], a["l"] + 1)]
    assert covered == [t.trade_id for t in outcome.trades]
    by_id = {t.trade_id: t for t in outcome.trades}
    for a in aggs:
        qty = sum(by_id[i].quantity for i in range(a["f"], a["l"] + 1))
        assert a["q"] == _dec(qty, MARKET.base.decimals)
        assert {by_id[i].taker_order_id for i in range(a["f"], a["l"] + 1)} == {by_id[a["f"]].taker_order_id}


def _dec(units: int, decimals: int) -> str:
    return str(Decimal(units).scaleb(-decimals).quantize(Decimal(1).scaleb(-decimals)))
