"""The gRPC streams' source (gateway.grpcapi.feeds.MarketFeeds) on a real Redis: a user stream
goes live, receives the executionReports published on user.{uid} (other payloads are not
executionReports and are left out), and a pub/sub connection killed by the server does not leave
a stream waiting forever."""

import asyncio
import json
from typing import Any

from redis.asyncio import Redis

from exchange_core.keys import Keys
from exchange_core.markets import load_markets
from exchange_proto import trading_api_pb2 as tpb
from gateway.grpcapi import convert
from gateway.grpcapi.feeds import MarketFeeds, Sink

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
