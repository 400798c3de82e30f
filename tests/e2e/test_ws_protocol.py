"""The WebSocket tier's protocol, as Binance's: paths, SUBSCRIBE / UNSUBSCRIBE /
LIST_SUBSCRIPTIONS / SET_PROPERTY / GET_PROPERTY with their answers and error codes, the cap on
streams per connection, frames that close the connection (binary, oversized, malformed, too many
requests) without harming the process, and a slow consumer dropped while a fast one keeps up.

One ws process (no engine: md.{SYMBOL} messages are published by the test), with a cap of 10
streams per connection and a 256 KiB bound on a client's unsent bytes.
"""

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.protocol import State

from exchange_core.wire import encode_event, encode_market_data
from matching import Side, Trade
from tests.e2e.wsutil import REDIS_URL, Collector, WsEnv, wait_subscribed, ws_with_engines

CAP = 10
PARTIES = (Side.BUY, 1, 1, 2, 2, 0, 0, 0, 0, 0, 0)  # taker side, maker/taker order and user ids, fees...
PENDING_BYTES = 256 * 1024


@pytest.fixture(scope="module")
def env(redis_url: str) -> Iterator[WsEnv]:
    limits = {"MAX_STREAMS_PER_CONNECTION": str(CAP), "MAX_PENDING_BYTES": str(PENDING_BYTES)}
    with ws_with_engines([], REQUESTS_PER_S="5", REQUESTS_BURST="30", **limits) as e:
        yield e


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_subscribe_list_unsubscribe_and_properties(env: WsEnv) -> None:
    async def scenario() -> None:
        c = await Collector.open(f"{env.ws_url}/ws")
        assert await c.request("SUBSCRIBE", ["btcusdt@trade", "ETHUSDT@depth5"], 1) == {
            "result": None,
            "id": 1,
        }
        listed = await c.request("LIST_SUBSCRIPTIONS", None, 2)
        assert listed == {"result": ["btcusdt@trade", "ethusdt@depth5"], "id": 2}
        assert await c.request("UNSUBSCRIBE", ["btcusdt@trade"], 3) == {"result": None, "id": 3}
        assert await c.request("LIST_SUBSCRIPTIONS", None, "abc") == {
            "result": ["ethusdt@depth5"],
            "id": "abc",
        }
        assert await c.request("GET_PROPERTY", ["combined"], 4) == {"result": False, "id": 4}
        first = await c.wait_for(lambda m: "lastUpdateId" in m)
        assert first == {"lastUpdateId": 0, "bids": [], "asks": []}
        assert await c.request("SET_PROPERTY", ["combined", True], 5) == {"result": None, "id": 5}
        assert await c.request("GET_PROPERTY", ["combined"], 6) == {"result": True, "id": 6}
        wrapped = await c.wait_for(lambda m: "stream" in m)
        assert wrapped == {"stream": "ethusdt@depth5", "data": {"lastUpdateId": 0, "bids": [], "asks": []}}
        await c.close()

    run(scenario())


def test_paths(env: WsEnv) -> None:
    async def scenario() -> None:
        for path, combined, streams in [
            ("/ws/btcusdt@bookTicker", False, ["btcusdt@bookTicker"]),
            ("/ws/0", False, []),
            ("/ws/", False, []),
            (
                "/stream?streams=btcusdt@depth10@100ms/ethbtc@kline_1m",
                True,
                ["btcusdt@depth10@100ms", "ethbtc@kline_1m"],
            ),
            ("/stream", True, []),
        ]:
            c = await Collector.open(env.ws_url + path)
            assert await c.request("LIST_SUBSCRIPTIONS", None, 1) == {"result": streams, "id": 1}
            assert await c.request("GET_PROPERTY", ["combined"], 2) == {"result": combined, "id": 2}
            await c.close()
        refused = [
            ("/nope", 404),
            ("/ws/btcusdt@nothing", 400),
            ("/ws/dogeusdt@trade", 400),
            ("/ws/" + "ab" * 32, 400),  # a listen key's shape, but no such key
            ("/stream?streams=btcusdt@trade/x@y", 400),
        ]
        for path, status in refused:
            with pytest.raises(InvalidStatus) as info:
                await connect(env.ws_url + path)
            assert info.value.response.status_code == status, path

    run(scenario())


def test_request_ids_as_binance_accepts_them(env: WsEnv) -> None:
    """UUID strings (binance-sdk-spot's ids), null and negative integers are echoed back unchanged."""

    async def scenario() -> None:
        async with connect(f"{env.ws_url}/ws") as conn:
            for request_id in (str(uuid.uuid4()), "abc123", None, -5, (1 << 63) - 1):
                await conn.send(
                    json.dumps({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": request_id})
                )
                assert json.loads(await conn.recv()) == {"result": None, "id": request_id}
            await conn.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": "list-1"}))
            assert json.loads(await conn.recv()) == {"result": ["btcusdt@trade"], "id": "list-1"}

    run(scenario())


def test_error_answers_keep_the_connection(env: WsEnv) -> None:
    async def scenario() -> None:
        c = await Collector.open(f"{env.ws_url}/ws")
        await c.conn.send("{not json")
        error = await c.wait_for(lambda m: "error" in m)
        assert error["error"]["code"] == 3 and error["id"] is None
        cases = [
            ({"method": "FOO", "id": 7}, 2, 7),
            ({"params": [], "id": 8}, 2, 8),
            ({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1 << 63}, 2, None),
            ({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": "has space"}, 2, None),
            ({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": {"a": 1}}, 2, None),
            ({"method": "SUBSCRIBE", "params": ["btcusdt@trade"], "id": 1.5}, 2, None),
            ({"method": "SUBSCRIBE", "params": "btcusdt@trade", "id": 9}, 2, 9),
            ({"method": "SUBSCRIBE", "params": ["btcusdt@nothing"], "id": 10}, 2, 10),
            ({"method": "SET_PROPERTY", "params": ["colour", True], "id": 11}, 0, 11),
            ({"method": "SET_PROPERTY", "params": ["combined", "yes"], "id": 12}, 1, 12),
            ({"method": "GET_PROPERTY", "params": [5], "id": 13}, 2, 13),
            ([1, 2], 2, None),
        ]
        for body, code, request_id in cases:
            c.messages.clear()
            await c.conn.send(json.dumps(body))
            error = await c.wait_for(lambda m: "error" in m)
            assert error["error"]["code"] == code, (body, error)
            assert error["id"] == request_id, (body, error)
            assert error["error"]["msg"]
        assert await c.request("LIST_SUBSCRIPTIONS", None, 99) == {"result": [], "id": 99}
        await c.close()

    run(scenario())


def test_streams_per_connection_are_capped(env: WsEnv) -> None:
    intervals = ("1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h")
    names = [f"btcusdt@kline_{i}" for i in intervals]

    async def scenario() -> None:
        c = await Collector.open(f"{env.ws_url}/ws")
        answer = await c.request("SUBSCRIBE", names, 1)
        assert answer["error"]["code"] == 2 and "10" in answer["error"]["msg"]
        assert await c.request("LIST_SUBSCRIPTIONS", None, 2) == {"result": [], "id": 2}
        assert await c.request("SUBSCRIBE", names[:CAP], 3) == {"result": None, "id": 3}
        assert await c.request("SUBSCRIBE", names[:2], 4) == {"result": None, "id": 4}  # already there
        assert "error" in await c.request("SUBSCRIBE", names[CAP:], 5)
        assert await c.request("UNSUBSCRIBE", names[:1], 6) == {"result": None, "id": 6}
        assert await c.request("SUBSCRIBE", names[CAP:], 7) == {"result": None, "id": 7}
        await c.close()
        with pytest.raises(InvalidStatus) as info:
            await connect(f"{env.ws_url}/stream?streams=" + "/".join(names))
        assert info.value.response.status_code == 400

    run(scenario())


def test_stream_names_with_other_scripts_digits_are_refused_cleanly(env: WsEnv) -> None:
    """Issue 15: `depth\u00b2` (isdigit() but not int()) was a 500 at the handshake and closed a
    subscribing connection with 1011; Arabic-Indic and fullwidth digits named real streams."""
    names = ["btcusdt@depth\u00b2", "btcusdt@depth\u0665", "btcusdt@depth\uff15"]

    async def scenario() -> None:
        for name in names:
            with pytest.raises(InvalidStatus) as info:
                await connect(f"{env.ws_url}/stream?streams={quote(name)}")
            assert info.value.response.status_code == 400, name
        c = await Collector.open(f"{env.ws_url}/ws")
        for number, name in enumerate(names, 1):
            answer = await c.request("SUBSCRIBE", [name], number)
            assert answer["id"] == number and "error" in answer, answer
        assert await c.request("LIST_SUBSCRIPTIONS", None, 9) == {"result": [], "id": 9}
        await c.close()

    run(scenario())


def raw_handshake(url: str, path: str, rcvbuf: int = 0) -> socket.socket:
    """A TCP connection upgraded by hand, for frames no library would send (or a client that
    never reads)."""
    host, port = url.removeprefix("ws://").split(":")
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything until the server closes (or resets) the connection; fails on a timeout."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_bad_frames_close_the_connection_not_the_process(env: WsEnv) -> None:
    async def close_code(payload: str | bytes) -> int | None:
        async with connect(f"{env.ws_url}/ws", max_size=None) as conn:
            await conn.send(payload)
            with pytest.raises(ConnectionClosed) as info:
                await asyncio.wait_for(conn.recv(), 5)
            return info.value.rcvd.code if info.value.rcvd else None

    async def scenario() -> None:
        assert await close_code(b"\x00binary") == 1003
        assert await close_code("x" * (64 * 1024 + 1)) == 1009
        async with connect(f"{env.ws_url}/ws") as conn:
            for i in range(60):
                await conn.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": i}))
            # The server closes while this client still sends, so its kernel may answer the unread
            # frames with a reset; the client library then sometimes leaves recv() waiting on a
            # connection it already marks CLOSED. Wait for either, then read the close frame.
            deadline = time.monotonic() + 5
            while conn.state is not State.CLOSED:
                assert time.monotonic() < deadline, "the server did not close the connection"
                with contextlib.suppress(TimeoutError, ConnectionClosed):
                    await asyncio.wait_for(conn.recv(), 0.2)
            assert conn.close_code == 1008

    run(scenario())
    # A frame with reserved bits set and a client frame without a mask: protocol errors.
    for garbage in (b"\xf1\x85abcdefghi", b"\x81\x05hello", b"\xff" * 64):
        sock = raw_handshake(env.ws_url, "/ws")
        sock.sendall(garbage)
        tail = read_until_closed(sock, 5)
        assert tail[:1] == b"\x88", garbage  # a close frame, then the end
        sock.close()

    async def still_serving() -> None:
        c = await Collector.open(f"{env.ws_url}/ws")
        assert await c.request("LIST_SUBSCRIPTIONS", None, 1) == {"result": [], "id": 1}
        await c.close()

    run(still_serving())


def synthetic_md(seq: int, trade_id: int, count: int) -> bytes:
    """A MarketData of `count` trades (seq .. seq + count - 1) and no level change."""
    now = int(time.time() * 1000)
    trades = [
        encode_event(Trade(seq + i, now, trade_id + i, 3_000_000_000_000, 100_000, 3_000_000_000, *PARTIES))
        for i in range(count)
    ]
    return encode_market_data("SOLUSDT", seq, seq + count - 1, now, trades, (), ())


def test_slow_consumer_is_dropped_and_fast_one_keeps_up(env: WsEnv) -> None:
    per_message, messages = 100, 800

    async def scenario() -> bytes:
        redis = Redis.from_url(REDIS_URL)
        fast = await Collector.open(f"{env.ws_url}/ws/solusdt@trade")
        slow = raw_handshake(env.ws_url, "/ws/solusdt@trade", rcvbuf=4096)
        await wait_subscribed(redis, env.keys.market_data("SOLUSDT"))
        seq = 1
        for _ in range(messages):
            await redis.publish(env.keys.market_data("SOLUSDT"), synthetic_md(seq, seq, per_message))
            seq += per_message
            await asyncio.sleep(0.004)
        total = per_message * messages
        await fast.wait_for(lambda m: m["t"] == total, timeout=60)
        assert [m["t"] for m in fast.messages] == list(range(1, total + 1))
        assert fast.closed is None
        await fast.close()
        await redis.aclose()
        return await asyncio.to_thread(read_until_closed, slow, 10)

    received = asyncio.run(scenario())
    assert len(received) < 150 * per_message * messages // 2  # cut off long before the end
    assert "slow consumer" in (env.log_dir / "ws.log").read_text()


def test_pings_idle_connections_and_silent_clients_are_closed(redis_url: str) -> None:
    """Pings every PING_INTERVAL_S; a client that never answers is closed after PING_TIMEOUT_S,
    one with no subscription that sends nothing after IDLE_TIMEOUT_S (here 1, 2 and 2 s)."""
    with ws_with_engines([], PING_INTERVAL_S="1", PING_TIMEOUT_S="2", IDLE_TIMEOUT_S="2") as quick:
        silent = raw_handshake(quick.ws_url, "/ws/btcusdt@trade")  # subscribed: not idle, but no pongs
        idle = raw_handshake(quick.ws_url, "/ws")
        started = time.monotonic()
        idle_tail = read_until_closed(idle, 12)
        idle_after = time.monotonic() - started
        silent_tail = read_until_closed(silent, 12)
        silent_after = time.monotonic() - started
        # A close frame (1000 "idle"), then the TCP end once the close timeout (5 s) is over.
        assert idle_tail.endswith(b"\x88\x06\x03\xe8idle") and 1.5 < idle_after < 9.5
        assert silent_tail.startswith(b"\x89")  # the server's ping
        assert b"\x88" in silent_tail and 2.5 < silent_after < 10

        async def answering_client_stays() -> None:
            c = await Collector.open(f"{quick.ws_url}/ws/btcusdt@trade")  # answers pings itself
            await asyncio.sleep(4)
            assert c.closed is None
            assert await c.request("LIST_SUBSCRIPTIONS", None, 1) == {"result": ["btcusdt@trade"], "id": 1}
            await c.close()

        run(answering_client_stays())
