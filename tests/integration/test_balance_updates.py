"""Funds credited outside trading reach the user's streams as Binance's balanceUpdate events: the
bots' top-ups (botkit.account.top_up) and the demo funds of a sign-up (grant_demo_funds), on the
real PostgreSQL and Redis, read from the user's channel as the ws tier and the gateway read it."""

import asyncio
import time
from typing import Any

import orjson
from redis.asyncio import Redis

from botkit.account import top_up
from exchange_core.db import create_pool
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import load_markets
from gateway.accounts import asset_decimals, create_user, grant_demo_funds
from gateway.grpcapi.convert import account_event


async def next_payloads(pubsub: Any, timeout: float = 10.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is not None:
            return list(orjson.loads(message["data"]))
    raise AssertionError("no message on the user's channel")


async def test_top_ups_and_demo_funds_announce_balance_updates(
    redis: "Redis[bytes]", keys: Keys, pg_dsn: str
) -> None:
    markets = load_markets()
    decimals = asset_decimals(markets)
    ledger = Ledger(redis, keys)
    pool = await create_pool(pg_dsn)
    pubsub = redis.pubsub()
    try:
        user_id = await create_user(pool, f"bu{time.time_ns()}@example.com", "correct horse battery")
        await pubsub.subscribe(keys.user_channel(user_id))
        await ledger.deposit(user_id, "USDT", 400 * 10**8)
        credited = await top_up(pool, ledger, user_id, {"USDT": 1_000 * 10**8}, "test", decimals)
        assert credited == {"USDT": 600 * 10**8}
        (event,) = await next_payloads(pubsub)
        assert {k: event[k] for k in ("e", "a", "d")} == {
            "e": "balanceUpdate",
            "a": "USDT",
            "d": "600.00000000",
        }
        assert event["E"] == event["T"] and abs(event["T"] - time.time() * 1000) < 60_000
        streamed = account_event(event).balance_update  # gRPC's StreamAccount
        assert (streamed.asset, streamed.delta, streamed.clear_time) == ("USDT", "600.00000000", event["T"])
        assert await top_up(pool, ledger, user_id, {"USDT": 1_000 * 10**8}, "test", decimals) == {}

        await grant_demo_funds(pool, ledger, markets, user_id, "USDT=25.5,BTC=0.1")
        first, second = await next_payloads(pubsub), await next_payloads(pubsub)
        assert [(e["a"], e["d"]) for e in first + second] == [("USDT", "25.50000000"), ("BTC", "0.10000000")]
        assert await ledger.balances(user_id) == {"USDT": (102_550_000_000, 0), "BTC": (10**7, 0)}
        with_nothing = await asyncio.wait_for(
            pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5), 5
        )
        assert with_nothing is None, "a credit without an announcement asked for announced nothing"
    finally:
        await pubsub.aclose()
        await pool.close()
