"""The WebSocket API's user data subscriptions of one connection (gateway.wsapi.userdata) on a real
Redis: one per account, at most MAX_ACTIVE at once and MAX_LIFETIME over the connection's life
(Binance's limits), each event sent once per subscription of its user; a revoked key's
subscription ends with eventStreamTerminated."""

import asyncio
import json
from typing import cast

import orjson
import pytest
from redis.asyncio import Redis

from exchange_core.errors import ApiError
from gateway.context import GatewayContext
from gateway.keycache import ApiKeyCache
from gateway.keywatch import KeyWatch
from gateway.wsapi import userdata
from gateway.wsapi.userdata import UserDataSubscriptions
from tests.integration.test_feeds import running_feeds


async def frames_after(sent: list[str], count: int) -> list[dict[str, object]]:
    async def enough() -> None:
        while len(sent) < count:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(enough(), 5)
    await asyncio.sleep(0.2)  # nothing more than expected arrives
    return [orjson.loads(f) for f in sent]


async def test_one_subscription_per_account_at_most_max_active_and_revoked_keys_end(
    redis: "Redis[bytes]", key_prefix: str
) -> None:
    sent: list[str] = []

    async def send(text: str) -> None:
        sent.append(text)

    # The watch's own checks are not run here: its context is never read.
    watch = KeyWatch(cast(GatewayContext, None), ApiKeyCache())
    async with running_feeds(redis, key_prefix) as (keys, feeds):
        subs = UserDataSubscriptions(feeds, send, watch, "127.0.0.1")
        assert await subs.subscribe(1, "K1") == 0
        with pytest.raises(ApiError) as again:
            await subs.subscribe(1, "K1-other")
        assert (again.value.code, again.value.msg) == (-2035, "User Data Stream subscription already active.")
        assert await subs.subscribe(2, "K2") == 1
        report = {"e": "executionReport", "i": 5}
        await redis.publish(keys.user_channel(1), json.dumps([report]))
        assert await frames_after(sent, 1) == [{"subscriptionId": 0, "event": report}]

        for user_id in range(3, userdata.MAX_ACTIVE + 1):
            await subs.subscribe(user_id, f"K{user_id}")
        assert len(subs.ids()) == userdata.MAX_ACTIVE
        with pytest.raises(ApiError) as full:
            await subs.subscribe(userdata.MAX_ACTIVE + 1, "one too many")
        assert full.value.code == -1003 and str(userdata.MAX_ACTIVE) in full.value.msg
        assert await subs.unsubscribe(5) == [5]
        assert await subs.subscribe(userdata.MAX_ACTIVE + 1, "now there is room") == userdata.MAX_ACTIVE

        sent.clear()
        assert watch.revoked("K2") == 1
        ended = await frames_after(sent, 1)
        assert len(ended) == 1 and ended[0]["subscriptionId"] == 1
        assert cast(dict[str, object], ended[0]["event"])["e"] == "eventStreamTerminated"
        assert 1 not in subs.ids()
        assert await subs.subscribe(2, "K2-new") == userdata.MAX_ACTIVE + 1  # the account is free again

        subs.next_id = userdata.MAX_LIFETIME
        await subs.unsubscribe(0)
        with pytest.raises(ApiError) as spent:
            await subs.subscribe(1, "K1")
        assert spent.value.code == -1003 and "open another" in spent.value.msg
        await subs.close()
