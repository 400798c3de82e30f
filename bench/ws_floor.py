"""The ws tier's floor for the fan-out benchmark (bench.ws_bench): `websockets` broadcasting
frames serialized once each to every connected client, nothing else.

`python -m bench.ws_floor PORT` serves WebSocket connections on 127.0.0.1:PORT (any path, the
`websockets` library on uvloop, no compression: as the ws process serves them) and sends every
client, at the benchmark's rate, a trade frame of btcusdt@trade (TRADES_PER_S) and a depth diff of
btcusdt@depth@100ms every 100 ms, in the combined-stream form, each built once with the time it is
sent (`T`, `E`) and handed to `websockets.broadcast`. No Redis, no decoding, no per-client work.

Trades are sent from the start. Driven through stdin, one line each: "stop" pauses the trades,
"start" resumes them; each is answered with a line on stdout, the id of the next trade to send.
Depth diffs go on until the process ends (stdin closed).
"""

import asyncio
import sys
import time

import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve

TRADES_PER_S = 40
DEPTH_INTERVAL_S = 0.1


def trade_frame(trade_id: int, now_ms: int) -> bytes:
    price = 30_000 + trade_id % 50
    return (
        b'{"stream":"btcusdt@trade","data":{"e":"trade","E":%d,"s":"BTCUSDT","t":%d,"p":"%d.00000000",'
        b'"q":"0.00100000","T":%d,"m":%s,"M":true}}'
        % (now_ms, trade_id, price, now_ms, b"true" if trade_id % 2 else b"false")
    )


def depth_frame(update_id: int, now_ms: int) -> bytes:
    price = 30_000 + update_id % 50
    return (
        b'{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":%d,"s":"BTCUSDT","U":%d,"u":%d,'
        b'"b":[["%d.00000000","0.00100000"]],"a":[["%d.00000000","0.00200000"]]}}'
        % (now_ms, update_id, update_id + 1, price - 1, price + 1)
    )


class Feed:
    """The frames sent to every connection of the server."""

    def __init__(self) -> None:
        self.connections: set[ServerConnection] = set()
        self.next_trade_id = 1
        self.trading = True

    async def handle(self, conn: ServerConnection) -> None:
        self.connections.add(conn)
        try:
            await conn.wait_closed()
        finally:
            self.connections.discard(conn)

    async def trades(self) -> None:
        start, sent = time.perf_counter(), 0
        while True:
            sent += 1
            await asyncio.sleep(max(0.0, start + sent / TRADES_PER_S - time.perf_counter()))
            if self.trading:
                frame = trade_frame(self.next_trade_id, time.time_ns() // 1_000_000)
                broadcast(self.connections, frame.decode())
                self.next_trade_id += 1

    async def depths(self) -> None:
        update_id = 1
        while True:
            await asyncio.sleep(DEPTH_INTERVAL_S)
            broadcast(self.connections, depth_frame(update_id, time.time_ns() // 1_000_000).decode())
            update_id += 2


async def serve_forever(port: int) -> None:
    feed = Feed()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with serve(feed.handle, "127.0.0.1", port, compression=None, max_queue=16, backlog=4096):
        tasks = [asyncio.create_task(feed.trades()), asyncio.create_task(feed.depths())]
        while line := (await reader.readline()).strip():
            feed.trading = line == b"start"
            print(feed.next_trade_id, flush=True)
        for task in tasks:
            task.cancel()


def main() -> None:
    uvloop.run(serve_forever(int(sys.argv[1])))


if __name__ == "__main__":
    main()
