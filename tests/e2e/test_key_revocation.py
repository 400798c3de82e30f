"""Revoking an API key ends every stream it opened, on every transport, and no other: the WebSocket
tier's stream on a listenKey it opened, its WebSocket API user data subscription and its gRPC user
streams; the same user's streams opened with another key go on. Before the revocation, a gRPC
StreamAccount and a WebSocket API subscription of the one user both get every event at once."""

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import httpx
import pytest

from exchange_proto import trading_api_pb2 as tpb
from launcher.stack import Stack, running_stack
from tests import services
from tests.client import Trader
from tests.e2e.wsutil import Collector, start_ws
from tests.grpc_client import GrpcTrader, api_error
from tests.wsapi_client import WsApiClient, sign

SYMBOL = "BTCUSDT"
WEB = {"X-Requested-With": "exchange-web"}


@pytest.fixture(scope="module")
def stack_ws(pg_dsn: str, redis_url: str) -> Iterator[tuple[Stack, str]]:
    prefix = services.new_prefix()
    try:
        with running_stack(pg_dsn, prefix, [SYMBOL]) as stack:
            yield stack, start_ws(stack.supervisor, "ws-tier", LISTEN_KEY_CHECK_S="0.5")
    finally:
        asyncio.run(services.delete_prefix(prefix))


def user_with_two_keys(url: str) -> tuple[httpx.Client, list[tuple[int, Trader]]]:
    """A signed-up user's web session and two API keys of theirs: [(key id, trader)]."""
    web = httpx.Client(base_url=url, timeout=30)
    email = f"revoke-{uuid.uuid4().hex[:10]}@example.com"
    user_id = web.post("/api/web/signup", json={"email": email, "password": "long enough"}).json()["userId"]
    keys = []
    for label in ("revoked", "kept"):
        made = web.post("/api/web/apikeys", json={"label": label}, headers=WEB).json()
        keys.append(
            (made["id"], Trader(url, user_id, made["apiKey"], made["secretKey"], httpx.Client(timeout=30)))
        )
    return web, keys


class GrpcStream:
    """A gRPC server stream read in the background: its messages, then how it ended."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self.messages: list[Any] = []
        self.ended: grpc.aio.AioRpcError | None = None
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.call:
                self.messages.append(message)
        except grpc.aio.AioRpcError as error:
            self.ended = error

    async def report_of(self, order_id: int) -> None:
        async def arrived() -> None:
            while not any(_order_id_of(m) == order_id for m in self.messages):
                assert not self.task.done(), f"the stream ended: {self.ended}"
                await asyncio.sleep(0.05)

        await asyncio.wait_for(arrived(), 10)


def _order_id_of(message: Any) -> int | None:
    if isinstance(message, tpb.AccountEvent):
        return (
            message.execution_report.order_id if message.WhichOneof("event") == "execution_report" else None
        )
    return int(message.order_id)


def place(trader: Trader, price: str) -> int:
    placed = trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="LIMIT", timeInForce="GTC",
                         price=price, quantity="0.001")  # fmt: skip
    return int(placed["orderId"])


async def wsapi_event(client: WsApiClient, subscription_id: int, **fields: Any) -> None:
    """Wait for a pushed frame of `subscription_id` whose event has `fields`."""

    async def arrived() -> None:
        while not any(
            f.get("subscriptionId") == subscription_id
            and all(f["event"].get(k) == v for k, v in fields.items())
            for f in client.unmatched
            if "event" in f
        ):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(arrived(), 10)


def test_revoking_a_key_ends_the_streams_it_opened_and_only_those(stack_ws: tuple[Stack, str]) -> None:
    stack, ws_url = stack_ws
    web, [(revoked_id, revoked), (_, kept)] = user_with_two_keys(stack.url)
    wsapi_url = stack.url.replace("http://", "ws://") + "/ws-api/v3"

    async def scenario() -> None:
        listen = {}
        for name, trader in (("revoked", revoked), ("kept", kept)):
            opened = await asyncio.to_thread(
                trader.http.post,
                f"{stack.url}/api/v3/userDataStream",
                headers={"X-MBX-APIKEY": trader.api_key},
            )
            listen[name] = await Collector.open(f"{ws_url}/ws/{opened.json()['listenKey']}")
        wsapi = {name: await WsApiClient.open(wsapi_url) for name in ("revoked", "kept")}
        for name, trader in (("revoked", revoked), ("kept", kept)):
            answer = await wsapi[name].call(
                "userDataStream.subscribe.signature", sign(trader.api_key, trader.secret, {})
            )
            assert answer["result"] == {"subscriptionId": 0}
        # One subscription per account on a connection (Binance's rule): another is refused.
        again = await wsapi["kept"].call(
            "userDataStream.subscribe.signature", sign(revoked.api_key, revoked.secret, {})
        )
        assert again["error"]["code"] == -2035
        async with grpc.aio.insecure_channel(stack.grpc_target) as channel:
            by_revoked, by_kept = (
                GrpcTrader(channel, revoked.api_key, revoked.secret),
                GrpcTrader(channel, kept.api_key, kept.secret),
            )
            streams = {
                "revoked account": GrpcStream(by_revoked.stream("StreamAccount", tpb.StreamAccountRequest())),
                "revoked reports": GrpcStream(
                    by_revoked.stream("StreamExecutionReports", tpb.StreamExecutionReportsRequest())
                ),
                "kept account": GrpcStream(by_kept.stream("StreamAccount", tpb.StreamAccountRequest())),
            }
            for stream in streams.values():
                await asyncio.wait_for(stream.call.initial_metadata(), 10)

            # Every stream of the user gets the event, the gRPC ones and the WebSocket API's at once.
            first = await asyncio.to_thread(place, kept, "20000")
            for stream in streams.values():
                await stream.report_of(first)
            for client in wsapi.values():
                await wsapi_event(client, 0, i=first)
            for collector in listen.values():
                await collector.wait_for(lambda m: m.get("e") == "executionReport" and m.get("i") == first)

            assert (
                await asyncio.to_thread(web.delete, f"/api/web/apikeys/{revoked_id}", headers=WEB)
            ).status_code == 200

            for name in ("revoked account", "revoked reports"):
                await asyncio.wait_for(streams[name].task, 10)
                ended = streams[name].ended
                assert ended is not None and ended.code() == grpc.StatusCode.PERMISSION_DENIED
                assert api_error(ended)[0] == -2015
            await wsapi_event(wsapi["revoked"], 0, e="eventStreamTerminated")
            assert (await wsapi["revoked"].call("session.subscriptions"))["result"] == []
            await listen["revoked"].wait_for(lambda m: m.get("e") == "listenKeyExpired", timeout=10)
            await listen["revoked"].task
            assert listen["revoked"].closed is not None

            # The other key's streams go on.
            second = await asyncio.to_thread(place, kept, "20001")
            await streams["kept account"].report_of(second)
            await wsapi_event(wsapi["kept"], 0, i=second)
            await listen["kept"].wait_for(lambda m: m.get("e") == "executionReport" and m.get("i") == second)
            assert not streams["kept account"].task.done()
            streams["kept account"].call.cancel()
        for client in wsapi.values():
            await client.close()
        await listen["kept"].conn.close()
        await asyncio.to_thread(kept.call, "DELETE", "/api/v3/openOrders", symbol=SYMBOL)

    asyncio.run(scenario())
