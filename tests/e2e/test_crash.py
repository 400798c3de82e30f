"""Kill the BTCUSDT engine with SIGKILL at random moments while orders flow through the gateway.

Afterwards: no order lost, no event duplicated, the event journal equals a clean replay of the
command journal, every balance equals deposits + events, and all funds are conserved exactly.
Order lists (OCO, OTO and OTOCO, whose pending orders wait for their working order's fill) are
among the orders, and orders with self-trade prevention: the prevented match ids (part of the
engine's snapshots) count 1..n without a gap, and settlement keeps each user's once.
CI runs CRASH_ORDERS=2500 (the default); `make soak` runs 20,000.
"""

import asyncio
import os
import random
import signal
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from exchange_core import store
from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from launcher.stack import Stack, running_stack
from matching import ContingencyType, ListStatus, ListStatusType, OrderAccepted, OrderExpired, OrderRejected
from tests import services
from tests.client import AsyncTrader, sign_up
from tests.e2e.journal_check import check_ledger, replay_journal, stream_events

SYMBOL = "BTCUSDT"
ORDERS = int(os.environ.get("CRASH_ORDERS", "2500"))
KILLS = int(os.environ.get("CRASH_KILLS", "5"))
TRADERS = 12
CONCURRENCY = 24
LIST_SHARE = 0.08
STP_SHARE = 0.3
STP_MODES = ("EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH")


@pytest.fixture(scope="module")
def crash_redis_url(redis_url: str) -> str:
    """The Redis the stack runs on (test_crash_cluster.py: a Redis Cluster's)."""
    return redis_url


@pytest.fixture(scope="module")
def crash_stack(pg_dsn: str, crash_redis_url: str) -> Iterator[Stack]:
    prefix = services.new_prefix()
    env = {"SNAPSHOT_EVERY_COMMANDS": "300", "TRIM_JOURNAL": "false", "ORDER_TIMEOUT_MS": "8000"}
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL], REDIS_URL=crash_redis_url, **env) as s:
            yield s
    finally:
        asyncio.run(services.delete_prefix(prefix))


def oco_params(local: random.Random, side: str, cid: str) -> dict[str, str]:
    """An OCO of `side` around 30,000: a LIMIT_MAKER on the far side of the book and a stop
    (STOP_LOSS or STOP_LOSS_LIMIT) beyond it; the engine refuses it when the last price is
    past either level. Its members' client ids are `cid`-a (above) and `cid`-b (below)."""
    near, far = local.randint(100, 400), local.randint(100, 400)
    above, below = 30_000 + near, 30_000 - far
    stop_type = local.choice(["STOP_LOSS", "STOP_LOSS_LIMIT"])
    profit = {"Type": "LIMIT_MAKER", "Price": str(above if side == "SELL" else below)}
    loss = {"Type": stop_type, "StopPrice": str(below if side == "SELL" else above)}
    if stop_type == "STOP_LOSS_LIMIT":
        loss.update(Price=loss["StopPrice"], TimeInForce="GTC")
    legs = {"above": profit, "below": loss} if side == "SELL" else {"above": loss, "below": profit}
    params = {
        "symbol": SYMBOL,
        "side": side,
        "quantity": f"0.{local.randint(1, 5):03d}",
        "listClientOrderId": cid,
    }
    for prefix, leg in legs.items():
        params.update({prefix + name: value for name, value in leg.items()})
        params[prefix + "ClientOrderId"] = f"{cid}-{prefix[0]}"
    return params


def pending_list_params(local: random.Random, side: str, cid: str, pair: bool) -> dict[str, str]:
    """An OTO (`pair` false) or OTOCO: a LIMIT working order of `side` near 30,000 (filled at
    once, later or never), then the pending order of the other side: a LIMIT beyond the working
    price (OTO), or an OCO pair around it (OTOCO: checked against the last price only when
    placed). Client ids: `cid`-w for the working order, `cid`-p (OTO) or `cid`-a, `cid`-b."""
    working = 30_000 + local.randint(-150, 150)
    quantity = f"0.{local.randint(1, 5):03d}"
    pending_side = "SELL" if side == "BUY" else "BUY"
    away = local.randint(100, 400) * (1 if pending_side == "SELL" else -1)
    params = {
        "symbol": SYMBOL, "listClientOrderId": cid, "workingType": "LIMIT", "workingSide": side,
        "workingPrice": str(working), "workingQuantity": quantity, "workingTimeInForce": "GTC",
        "workingClientOrderId": f"{cid}-w", "pendingSide": pending_side, "pendingQuantity": quantity,
    }  # fmt: skip
    if not pair:
        params.update(pendingType="LIMIT", pendingPrice=str(working + away), pendingTimeInForce="GTC",
                      pendingClientOrderId=f"{cid}-p")  # fmt: skip
        return params
    oco = oco_params(local, pending_side, cid)
    for prefix in ("above", "below"):
        for name in ("Type", "Price", "StopPrice", "TimeInForce", "ClientOrderId"):
            if prefix + name in oco:
                params["pending" + prefix.capitalize() + name] = oco[prefix + name]
    return params


async def place_list(trader: AsyncTrader, local: random.Random, side: str, cid: str) -> tuple[int, Any]:
    """One OCO, OTO or OTOCO list, drawn evenly."""
    kind = local.choice(["oco", "oto", "otoco"])
    if kind == "oco":
        params = oco_params(local, side, cid)
    else:
        params = pending_list_params(local, side, cid, kind == "otoco")
    return await trader.call("POST", f"/api/v3/orderList/{kind}", **params)


async def place_orders(
    traders: list[AsyncTrader],
    count: int,
    outcomes: dict[str, int],
    seed: int,
    list_outcomes: dict[str, int] | None = None,
) -> None:
    """`count` new orders; with `list_outcomes`, LIST_SHARE of them are order lists (OCO, OTO,
    OTOCO) whose outcomes go there."""
    next_index = iter(range(count))

    async def worker(n: int) -> None:
        local = random.Random(seed * 1000 + n)
        open_ids: dict[int, list[int]] = {}
        for i in next_index:  # `count` new orders; cancels come on top
            trader = traders[local.randrange(len(traders))]
            mine = open_ids.setdefault(trader.user_id, [])
            while mine and local.random() < 0.2:
                oid = mine.pop(local.randrange(len(mine)))
                if local.random() < 0.3:  # amended down to 0.001 (refused when not a reduction)
                    await trader.call(
                        "PUT", "/api/v3/order/amend/keepPriority", symbol=SYMBOL, orderId=oid, newQty="0.001"
                    )
                else:
                    await trader.call("DELETE", "/api/v3/order", symbol=SYMBOL, orderId=oid)
            cid = f"crash-{seed}-{i}"
            side = local.choice(["BUY", "SELL"])
            if list_outcomes is not None and local.random() < LIST_SHARE:
                status, body = await place_list(trader, local, side, cid)
                list_outcomes[cid] = status
                if status == 200:
                    mine.extend(r["orderId"] for r in body["orderReports"])
                continue
            if local.random() < 0.1:
                params = {"type": "MARKET", "quantity": "0.001"}
            else:
                price = 30_000 + local.randint(-150, 150)
                params = {"type": "LIMIT", "timeInForce": "GTC", "price": str(price),
                          "quantity": f"0.{local.randint(1, 9):03d}"}  # fmt: skip
                if params["quantity"] != "0.001" and local.random() < 0.3:
                    params["icebergQty"] = "0.001"
            if local.random() < STP_SHARE:
                params["selfTradePreventionMode"] = local.choice(STP_MODES)
            status, body = await trader.call(
                "POST", "/api/v3/order", symbol=SYMBOL, side=side, newClientOrderId=cid, **params
            )
            outcomes[cid] = status
            if status == 200 and body.get("status") in ("NEW", "PARTIALLY_FILLED"):
                mine.append(body["orderId"])

    await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))


async def kill_engine_repeatedly(stack: Stack, kills: int, spread_s: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    moments = []
    for _ in range(kills):
        await asyncio.sleep(rng.uniform(0.2, spread_s))
        stack.supervisor.kill(f"engine-{SYMBOL}", signal.SIGKILL)
        moments.append(time.monotonic())
        await asyncio.sleep(rng.uniform(0.1, 1.0))
        stack.supervisor.start(f"engine-{SYMBOL}")
    return moments


async def quiet(redis: Redis, keys: Keys, seconds: float = 60.0) -> None:
    """Wait until the engine and settlement have consumed everything."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        groups = {g["name"]: g for g in await redis.xinfo_groups(keys.commands(SYMBOL))}
        settle = {g["name"]: g for g in await redis.xinfo_groups(keys.events(SYMBOL))}
        engine_done = groups.get(b"engine", {}).get("lag") == 0 and groups[b"engine"]["pending"] == 0
        settle_done = settle.get(b"settlement", {}).get("lag") == 0 and settle[b"settlement"]["pending"] == 0
        if engine_done and settle_done:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the engine or settlement did not catch up")


def test_engine_sigkill_under_load_loses_and_duplicates_nothing(
    crash_stack: Stack, pg_dsn: str, crash_redis_url: str
) -> None:
    stack = crash_stack
    traders = [sign_up(stack.url) for _ in range(TRADERS)]
    outcomes: dict[str, int] = {}
    list_outcomes: dict[str, int] = {}
    seed = 20261126

    async def scenario() -> list[float]:
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=CONCURRENCY)) as http:
            clients = [AsyncTrader.of(t, http) for t in traders]
            load = asyncio.create_task(place_orders(clients, ORDERS, outcomes, seed, list_outcomes))
            killer = asyncio.create_task(
                kill_engine_repeatedly(stack, KILLS, max(1.0, ORDERS / 600 / KILLS), seed)
            )
            kills = await killer
            await load
            return kills

    kills = asyncio.run(scenario())
    assert len(kills) == KILLS
    user_ids = [t.user_id for t in traders]
    asyncio.run(verify(stack, crash_redis_url, pg_dsn, user_ids, outcomes, traders, list_outcomes))


async def verify(
    stack: Stack,
    redis_url: str,
    dsn: str,
    user_ids: list[int],
    outcomes: dict[str, int],
    traders: list[object],
    list_outcomes: dict[str, int] | None = None,
) -> None:
    keys = Keys(stack.prefix)
    markets = {SYMBOL: load_markets()[SYMBOL]}
    redis = store.connect(redis_url)
    try:
        await quiet(redis, keys)
        events = await stream_events(redis, keys, SYMBOL)
        # no duplicated or missing event: seqs are exactly 1..n
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        # the event journal is what a clean replay of the command journal gives
        assert await replay_journal(redis, keys, markets[SYMBOL]) == events
        # every order that reached the engine was answered exactly once; none accepted was lost
        answered = Counter(e.client_order_id for e in events if isinstance(e, OrderAccepted | OrderRejected))
        assert all(n == 1 for cid, n in answered.items() if cid.startswith("crash-"))
        for cid, status in outcomes.items():
            if status == 200 or status == 503:
                assert answered[cid] == 1, cid
        # an acknowledged OCO has both members accepted once, an OTO or OTOCO its working order
        # (its pending orders at most once); any list at most once
        lists = Counter(
            e.list_client_order_id for e in events if isinstance(e, ListStatus) and e.order_list_id
        )
        for cid, status in (list_outcomes or {}).items():
            assert lists[cid] <= 2, cid  # EXEC_STARTED, then ALL_DONE
            assert all(answered[f"{cid}-{m}"] <= 1 for m in "wpab"), cid
            if status == 200 and answered[f"{cid}-w"] == 0:
                assert (answered[f"{cid}-a"], answered[f"{cid}-b"]) == (1, 1), cid
            if status == 200:
                assert lists[cid] >= 1, cid
        await check_ledger(redis, keys, dsn, markets, user_ids)
        # every prevented match id given once, in order; each user's prevented matches kept once
        prevented = [e for e in events if isinstance(e, OrderExpired) and e.prevented_match_id]
        match_ids = sorted({e.prevented_match_id for e in prevented})
        assert match_ids and match_ids == list(range(1, len(match_ids) + 1))
        for u in user_ids:
            mine = {e.prevented_match_id for e in prevented if e.user_id == u}
            assert await redis.zcard(keys.prevented_matches(u, SYMBOL)) == len(mine), u
        # release everything still resting; then nothing may stay locked
        async with httpx.AsyncClient(timeout=30) as http:
            for t in traders:
                client = AsyncTrader.of(t, http)  # type: ignore[arg-type]
                await client.call("DELETE", "/api/v3/openOrders", symbol=SYMBOL)
        await quiet(redis, keys)
        model, _ = await check_ledger(redis, keys, dsn, markets, user_ids)
        assert all(v == 0 for v in model.locked.values())
        assert [await redis.hlen(keys.reservations(u)) for u in user_ids] == [0] * len(user_ids)
    finally:
        await redis.aclose()
    statuses = Counter(outcomes.values())
    placed_lists = list_outcomes or {}
    kinds = Counter(
        ContingencyType(e.contingency).name
        for e in events
        if isinstance(e, ListStatus) and e.order_list_id and e.status_type == ListStatusType.EXEC_STARTED
    )
    print(
        f"\ncrash test: {len(outcomes)} orders, statuses {dict(statuses)}, {len(placed_lists)} order lists "
        f"(started: {dict(sorted(kinds.items()))}), statuses {dict(Counter(placed_lists.values()))}, "
        f"{len(events)} events, {len(match_ids)} prevented matches, {KILLS} kills"
    )
