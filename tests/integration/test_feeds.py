"""The gRPC streams' source (gateway.feeds.MarketFeeds) on a real Redis: a user stream
goes live, receives the executionReports published on user.{uid} (the account stream also the
positions and balanceUpdates; other payloads are left out), and a pub/sub connection killed by
the server does not leave a stream waiting forever."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from exchange_proto import trading_api_pb2 as tpb
from gateway.feeds import MarketFeeds, Sink
from gateway.grpcapi import convert
from gateway.wsapi.userdata import as_is

USER = 7


def report(order_id: int) -> dict[str, Any]:
    return {
        "e": "executionReport",
        "E": 1,
        "s": "BTCUSDT",
        "c": f"c{order_id}",
        "S": "BUY",
        "o": "LIMIT",
        "f": "GTC",
        "q": "1.00000000",
        "p": "2.00000000",
        "P": "0",
        "F": "0",
        "g": -1,
        "C": "",
        "x": "NEW",
        "X": "NEW",
        "r": "NONE",
        "i": order_id,
        "l": "0",
        "z": "0",
        "L": "0",
        "n": "0",
        "N": None,
        "T": 1,
        "t": -1,
        "I": 0,
        "w": True,
        "m": False,
        "M": False,
        "O": 1,
        "Z": "0",
        "Y": "0",
        "Q": "0",
        "W": 1,
        "V": "EXPIRE_MAKER",
    }


@contextlib.asynccontextmanager
async def running_feeds(redis: "Redis[bytes]", key_prefix: str) -> AsyncIterator[tuple[Keys, MarketFeeds]]:
    """MarketFeeds on `redis` under `key_prefix`, running until the block ends."""
    keys = Keys(key_prefix)
    feeds = MarketFeeds(redis, keys, load_markets())
    runner = asyncio.create_task(feeds.run())
    try:
        yield keys, feeds
    finally:
        runner.cancel()


async def next_message(sink: Sink) -> Any:
    return await asyncio.wait_for(anext(aiter(sink)), 5)


async def rest_of(sink: Sink) -> list[Any]:
    return [m async for m in sink]


async def test_user_stream_delivers_reports_and_survives_a_killed_connection(
    redis: "Redis[bytes]", key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    feeds = MarketFeeds(redis, keys, load_markets())
    runner = asyncio.create_task(feeds.run())
    try:
        async with feeds.user_stream(USER, convert.execution_report) as sink:
            balance = {"e": "outboundAccountPosition", "E": 1, "u": 1, "B": []}
            await redis.publish(keys.user_channel(USER), json.dumps([balance, report(1)]))
            first = await next_message(sink)
            assert isinstance(first, tpb.ExecutionReport)
            assert (first.order_id, first.client_order_id, first.execution_type) == (
                1,
                "c1",
                tpb.EXECUTION_TYPE_NEW,
            )

            host, port = feeds.bus.pubsub.connection._writer.get_extra_info("sockname")[:2]  # type: ignore[union-attr]
            await redis.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}")
            assert await asyncio.wait_for(rest_of(sink), 5) == []  # the stream ends: cut off
            assert sink.overflowed
        await asyncio.sleep(1.5)
        async with feeds.user_stream(USER, convert.execution_report) as again:
            await redis.publish(keys.user_channel(USER), json.dumps([report(2)]))
            assert (await next_message(again)).order_id == 2
    finally:
        runner.cancel()


async def test_account_stream_gets_reports_and_positions_on_the_users_one_subscription(
    redis: "Redis[bytes]", key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    feeds = MarketFeeds(redis, keys, load_markets())
    runner = asyncio.create_task(feeds.run())
    channel = keys.user_channel(USER)
    position = {
        "e": "outboundAccountPosition",
        "E": 5,
        "u": 4,
        "B": [{"a": "BTC", "f": "1.00000000", "l": "0.50000000"}, {"a": "USDT", "f": "2.5", "l": "0"}],
    }
    try:
        async with (
            feeds.account_stream(USER, convert.account_event) as account,
            feeds.user_stream(USER, convert.execution_report) as reports,
        ):
            assert list(feeds.bus.handlers) == [channel.encode()]  # one subscription for both
            credit = {"e": "balanceUpdate", "E": 6, "a": "BTC", "d": "0.10000000", "T": 6}
            other = {"e": "eventStreamTerminated", "E": 7}
            await redis.publish(channel, json.dumps([report(1), position, credit, other]))
            events = aiter(account)
            first, second, third = [await asyncio.wait_for(anext(events), 5) for _ in range(3)]
            assert isinstance(first, tpb.AccountEvent) and first.WhichOneof("event") == "execution_report"
            assert first.execution_report.order_id == 1
            assert second.WhichOneof("event") == "account_position"
            assert (second.account_position.event_time, second.account_position.last_update_time) == (5, 4)
            assert [(b.asset, b.free, b.locked) for b in second.account_position.balances] == [
                ("BTC", "1.00000000", "0.50000000"),
                ("USDT", "2.5", "0"),
            ]
            assert third.WhichOneof("event") == "balance_update"
            assert (third.balance_update.asset, third.balance_update.delta) == ("BTC", "0.10000000")
            assert (await next_message(reports)).order_id == 1
            assert not account.pending and not reports.pending  # nothing else was delivered
        assert feeds.bus.handlers == {} and feeds.names_of_user == {}
        async with feeds.account_stream(USER, convert.account_event) as again:
            async with feeds.user_stream(USER, convert.execution_report):
                assert feeds.names_of_user[USER] == {f"account:{USER}", f"user:{USER}"}
            # The account stream's subscription outlives the other stream.
            assert feeds.names_of_user[USER] == {f"account:{USER}"}
            assert list(feeds.bus.handlers) == [channel.encode()]
            await redis.publish(channel, json.dumps([position]))
            assert (await next_message(again)).account_position.event_time == 5
    finally:
        runner.cancel()


async def test_a_grpc_account_stream_and_a_wsapi_subscription_of_one_user_each_get_their_own_kind(
    redis: "Redis[bytes]", key_prefix: str
) -> None:
    """`account:{uid}` with a gRPC stream (protobuf) and WebSocket API subscriptions (the payload
    as it is) at once, whichever came first: each payload is converted once per kind and each
    sink gets its own; one kind leaving does not change what the other gets."""
    async with running_feeds(redis, key_prefix) as (keys, feeds):
        channel = keys.user_channel(USER)
        async with (
            feeds.account_stream(USER, as_is) as first_json,
            feeds.account_stream(USER, convert.account_event) as grpc_stream,
            feeds.account_stream(USER, as_is) as second_json,
        ):
            await redis.publish(channel, json.dumps([report(1)]))
            message = await next_message(grpc_stream)
            assert isinstance(message, tpb.AccountEvent) and message.execution_report.order_id == 1
            for sink in (first_json, second_json):
                assert await next_message(sink) == report(1)
            async with feeds.account_stream(USER, convert.account_event) as late_grpc:
                await redis.publish(channel, json.dumps([report(2)]))
                assert (await next_message(late_grpc)).execution_report.order_id == 2
                assert (await next_message(grpc_stream)).execution_report.order_id == 2
                assert (await next_message(first_json))["i"] == 2
                assert (await next_message(second_json))["i"] == 2
        assert feeds.hub.sinks == {} and feeds.bus.handlers == {}
        async with feeds.account_stream(USER, convert.account_event) as grpc_first:
            async with feeds.account_stream(USER, as_is) as json_second:
                await redis.publish(channel, json.dumps([report(3)]))
                assert (await next_message(json_second))["i"] == 3
            assert (await next_message(grpc_first)).execution_report.order_id == 3
            await redis.publish(channel, json.dumps([report(4)]))  # the JSON subscriber has left
            assert (await next_message(grpc_first)).execution_report.order_id == 4
